"""A keep-alive HTTP/1.1 server with TCP_NODELAY, standing in for the evaluate server behind a bridge
or tunnel. ``GET /probe`` answers JSON; ``GET /bytes?n=N`` answers N bytes.

    python -m tests.support.http_target --port 5050 [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BLOCK = bytes(range(256)) * 4096  # 1 MiB of a known pattern


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/bytes":
            n = int(parse_qs(url.query).get("n", ["0"])[0])
            body = (BLOCK * (n // len(BLOCK) + 1))[:n]
            ctype = "application/octet-stream"
        else:
            body = json.dumps({"status": "ok", "service": "http_target", "path": url.path}).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def expected_bytes(n: int) -> bytes:
    return (BLOCK * (n // len(BLOCK) + 1))[:n]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()

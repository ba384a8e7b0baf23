"""A misbehaving HTTP server on 127.0.0.1 for fault tests: it stalls, dies, truncates or fails on cue.

It speaks raw HTTP/1.1 over sockets so that each fault is exactly what it says (a stall that never
writes a byte, a body shorter than its Content-Length, a connection closed after the request).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable

from PIL import Image

Behaviour = Callable[[socket.socket, bytes], None]


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def respond(status: str, body: bytes, content_type: str, declared: int | None = None) -> Behaviour:
    def behaviour(conn: socket.socket, _request: bytes) -> None:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {declared if declared is not None else len(body)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    return behaviour


def stall(release: threading.Event) -> Behaviour:
    """Read the request, then answer nothing until the test ends."""

    def behaviour(conn: socket.socket, _request: bytes) -> None:
        release.wait(60)

    return behaviour


def close_silently(conn: socket.socket, _request: bytes) -> None:
    """Take the request and hang up without a byte (a server that died mid-call)."""


def truncated_png() -> Behaviour:
    data = png_bytes((320, 200))
    return respond("200 OK", data[: len(data) // 2], "image/png", declared=len(data) // 2)


def server_error(message: str = "boom") -> Behaviour:
    body = json.dumps({"status": "error", "message": message}).encode()
    return respond("500 INTERNAL SERVER ERROR", body, "application/json")


class FaultServer:
    """Routes ``(method, path)`` to a behaviour; counts every request it receives."""

    def __init__(self, routes: dict[tuple[str, str], Behaviour]) -> None:
        self.routes = routes
        self.hits: Counter[tuple[str, str]] = Counter()
        self.release = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._lock = threading.Lock()

    def __enter__(self) -> FaultServer:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self.release.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            line = request.split(b"\r\n", 1)[0].decode()
            method, target, _ = line.split(" ", 2)
            path = target.split("?", 1)[0]
            with self._lock:
                self.hits[(method, path)] += 1
            behaviour = self.routes.get((method, path), respond("404 NOT FOUND", b"not here", "text/plain"))
            with contextlib.suppress(OSError):
                behaviour(conn, request)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def refused_url() -> str:
    """A loopback URL nothing listens on (bound then closed, so the port is free and refuses)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"

"""Stand-in task assets on loopback: a benchmark's download URLs answered from files a test made.

Tasks download their files from hosts this machine cannot reach (Google Drive). The env's
``asset_mirrors`` sends ``https://<host>/<path>?<query>`` to ``http://127.0.0.1:<port>/<host>/<path>?<query>``
here, and this server answers with what the test registered for the original URL; a URL nobody registered
is a 404 that names it, so a missing stand-in fails the setup loudly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class AssetServer:
    def __init__(self, hosts: Iterable[str] = ("drive.google.com", "drive.usercontent.google.com")) -> None:
        self.hosts = list(hosts)
        self.assets: dict[str, bytes] = {}
        self.served: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host, _, rest = self.path.lstrip("/").partition("/")
                url = f"https://{host}/{rest}"
                data = server.assets.get(url)
                if data is None:
                    body = f"no stand-in registered for {url}".encode()
                    self.send_response(404)
                else:
                    server.served.append(url)
                    body = data
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def mirrors(self) -> dict[str, str]:
        """The env's ``asset_mirrors`` for this server."""
        return {f"https://{host}/": f"{self.base}/{host}/" for host in self.hosts}

    def add(self, url: str, data: bytes | str) -> None:
        self.assets[url] = data.encode() if isinstance(data, str) else data

    def __enter__(self) -> AssetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

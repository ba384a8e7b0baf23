"""A stand-in for the stock WAA VM server (spec section 1), for what cannot run here (Windows).

It follows the stock shapes: Flask-style HTTP/1.0 answers, 500 ``{"status": "error", "message":
"404 Not Found: ..."}`` for unknown routes (so extension probes fail the stock way), code run
in-process by ``/execute_windows``. Its "screen" is an image that agent code draws on through a fake
``pyautogui``; typed text lands in a file the evaluator can fetch through ``/file``.
"""

from __future__ import annotations

import builtins
import io
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from PIL import Image, ImageDraw

NOT_FOUND = ("404 Not Found: The requested URL was not found on the server. If you entered the URL "
             "manually please check your spelling and try again.")
DESKTOP = "C:\\Users\\Docker\\Desktop"


class FakeScreen:
    def __init__(self, size: tuple[int, int] = (1024, 768)) -> None:
        self.image = Image.new("RGB", size, (0, 90, 160))
        self.typed = ""
        self.lock = threading.Lock()

    def pyautogui(self) -> Any:
        screen = self

        class FakeGui:
            FAILSAFE = False
            PAUSE = 0

            @staticmethod
            def click(x: int | None = None, y: int | None = None, **_: Any) -> None:
                with screen.lock:
                    ImageDraw.Draw(screen.image).ellipse((x - 6, y - 6, x + 6, y + 6), fill=(255, 0, 0))

            @staticmethod
            def write(text: str, **_: Any) -> None:
                with screen.lock:
                    screen.typed += text
                    ImageDraw.Draw(screen.image).text((10, 10 + 12 * len(screen.typed) % 700), text, fill="white")

            typewrite = write

            @staticmethod
            def press(*_: Any, **__: Any) -> None:
                pass

            hotkey = moveTo = press

        return FakeGui

    def png(self) -> bytes:
        buf = io.BytesIO()
        with self.lock:
            self.image.save(buf, "PNG")
        return buf.getvalue()


class StockWAAServer:
    def __init__(self) -> None:
        self.screen = FakeScreen()
        self.hits: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StockWAAServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def run_code(self, code: str) -> None:
        fake = self.screen.pyautogui()

        def importer(name: str, *args: Any, **kwargs: Any) -> Any:
            if name == "pyautogui":
                return fake
            return builtins.__import__(name, *args, **kwargs)

        exec(code, {"__builtins__": {**vars(builtins), "__import__": importer}, "computer": None})
        # The evaluator reads what was typed as a file on the Desktop.
        self.files[f"{DESKTOP}\\out.txt"] = self.screen.typed.encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # as Werkzeug's dev server

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes | str | dict | list, ctype: str | None = None) -> None:
                if isinstance(body, (dict, list)):
                    body, ctype = json.dumps(body).encode(), "application/json"
                elif isinstance(body, str):
                    body, ctype = body.encode(), ctype or "text/html; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                server.hits[f"GET {path}"] += 1
                if path == "/probe":
                    self._send(200, {"status": "Probe successful", "message": "Service is operational"})
                elif path == "/screenshot":
                    self._send(200, server.screen.png(), "image/png")
                elif path == "/platform":
                    self._send(200, "Windows")
                else:
                    self._send(500, {"status": "error", "message": NOT_FOUND})

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                server.hits[f"POST {path}"] += 1
                raw = self._body()
                try:
                    if path == "/execute_windows":
                        server.run_code(json.loads(raw)["command"])
                        self._send(200, {"status": "success"})
                    elif path in ("/execute", "/setup/execute"):
                        self._send(200, {"status": "success", "output": "", "error": "", "returncode": 0})
                    elif path == "/file":
                        name = parse_qs(raw.decode())["file_path"][0]
                        if name in server.files:
                            self._send(200, server.files[name])
                        else:
                            self._send(404, {"error": "File not found"})
                    elif path == "/screen_size":
                        self._send(200, {"width": 1024, "height": 768})
                    elif path.startswith("/setup/"):
                        self._send(200, "ok")
                    else:
                        self._send(500, {"status": "error", "message": NOT_FOUND})
                except Exception as exc:  # the stock catch-all
                    self._send(500, {"status": "error", "message": str(exc)})

        return Handler

"""A stand-in for the stock WAA VM server (spec section 1), for what cannot run here (Windows).

It follows the real server (WAA's Flask ``main.py``) route by route, on a real folder that stands for
the Windows drive: ``C:\\Users\\Docker\\Desktop\\a.txt`` is ``<drive>/C/Users/Docker/Desktop/a.txt``.
- ``/execute`` really runs the command (``shlex`` split of a string without ``shell``), passes the
  return code through, and answers 500 ``{"status":"error","message":...}`` when the program cannot
  start. Windows-only programs are the one fake: ``programs`` maps a program name to a function
  ``argv -> (stdout, stderr, returncode)``.
- ``/execute_windows`` runs the code in-process with a fake ``pyautogui`` drawing on an image, and
  answers 500 when what it printed contains "error" (any case).
- ``/file`` (form ``file_path``; 400 without it, 404 when missing, the file as an attachment),
  ``/setup/upload`` (stores it), ``/list_directory``, ``/file_exists`` / ``/folder_exists`` (200 yes,
  400 no), ``/desktop_path``, ``/documents_path``, ``/setup/create_folder|create_file|recycle`` (JSON).
- Flask-style HTTP/1.0 answers; unknown routes, unknown ``/setup/*`` steps included, answer 500
  ``{"status": "error", "message": "404 Not Found: ..."}`` (the catch-all error handler).
- ``/obs_winagent`` lists ``windows`` (titles a test sets) in ``window_names_str``.
- ``faults`` injects an answer per route (``{"/file": 503}``) to play a broken or refusing VM.
"""

from __future__ import annotations

import builtins
import io
import json
import mimetypes
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from PIL import Image, ImageDraw

NOT_FOUND = ("404 Not Found: The requested URL was not found on the server. If you entered the URL "
             "manually please check your spelling and try again.")
HOME = "C:\\Users\\Docker"
DESKTOP = f"{HOME}\\Desktop"
WALLPAPER = f"{HOME}\\AppData\\Roaming\\Microsoft\\Windows\\Themes\\TranscodedWallpaper"
Program = Callable[[list[str]], tuple[str, str, int]]


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
    def __init__(self, programs: dict[str, Program] | None = None) -> None:
        self.screen = FakeScreen()
        self.hits: Counter[str] = Counter()
        self.programs = dict(programs or {})
        self.faults: dict[str, tuple[int, Any]] = {}
        self.windows: list[str] = []  # the open windows' titles, as /obs_winagent lists them
        self._drive_dir = tempfile.mkdtemp(prefix="stock-vm-")
        self.drive = Path(self._drive_dir)
        for folder in ("Desktop", "Documents", "Downloads"):
            self.local(f"{HOME}\\{folder}").mkdir(parents=True, exist_ok=True)
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
        shutil.rmtree(self._drive_dir, ignore_errors=True)

    # ---- the VM's disk
    def local(self, path: str) -> Path:
        """Where a Windows path of the VM lives in this double's folder (``~`` is the user's home)."""
        if path.startswith("~"):
            path = HOME + path[1:]
        path = os.path.expandvars(path.replace("%USERPROFILE%", HOME))
        drive, _, rest = path.replace("/", "\\").partition(":")
        parts = [p for p in rest.split("\\") if p]
        return self.drive.joinpath(drive.upper() or "C", *parts)

    def put(self, path: str, data: bytes | str) -> None:
        target = self.local(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)

    def fault(self, route: str, status: int, body: Any = None) -> None:
        """From now on answer ``route`` with ``status`` (and ``body``) instead of serving it."""
        self.faults[route] = (status, body if body is not None else {"status": "error", "message": "injected"})

    # ---- routes with behaviour
    def run_code(self, code: str) -> str:
        fake = self.screen.pyautogui()

        def importer(name: str, *args: Any, **kwargs: Any) -> Any:
            if name == "pyautogui":
                return fake
            return builtins.__import__(name, *args, **kwargs)

        out = io.StringIO()
        with redirect_stdout(out):
            exec(code, {"__builtins__": {**vars(builtins), "__import__": importer}, "computer": None, "human": None})
        # The evaluator reads what was typed as a file on the Desktop.
        self.put(f"{DESKTOP}\\out.txt", self.screen.typed)
        return out.getvalue()

    def execute(self, command: Any, shell: bool) -> dict[str, Any]:
        if isinstance(command, str) and not shell:
            command = shlex.split(command)
        name = (command[0] if isinstance(command, list) and command else str(command).split(" ", 1)[0]).lower()
        if name in self.programs:
            stdout, stderr, code = self.programs[name](command if isinstance(command, list) else shlex.split(command))
        else:
            result = subprocess.run(command, shell=shell, capture_output=True, text=True, timeout=120, check=False)
            stdout, stderr, code = result.stdout, result.stderr, result.returncode
        return {"status": "success", "output": stdout, "error": stderr, "returncode": code}

    def tree(self, directory: Path) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "directory", "name": directory.name, "children": []}
        try:
            for entry in os.listdir(directory):
                full = directory / entry
                node["children"].append(self.tree(full) if full.is_dir() else {"type": "file", "name": entry})
        except OSError as exc:
            return {"error": str(exc)}
        return node

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # as Werkzeug's dev server

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes | str | dict | list, ctype: str | None = None,
                      headers: dict[str, str] | None = None) -> None:
                if isinstance(body, (dict, list)):
                    body, ctype = json.dumps(body).encode(), "application/json"
                elif isinstance(body, str):
                    body, ctype = body.encode(), ctype or "text/html; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _fault(self, path: str) -> bool:
                if path in server.faults:
                    status, body = server.faults[path]
                    self._send(status, body)
                    return True
                return False

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                server.hits[f"GET {path}"] += 1
                if self._fault(path):
                    return
                if path == "/probe":
                    self._send(200, {"status": "Probe successful", "message": "Service is operational"})
                elif path == "/screenshot":
                    self._send(200, server.screen.png(), "image/png")
                elif path == "/platform":
                    self._send(200, "Windows")
                elif path == "/obs_winagent":
                    import base64

                    title = server.windows[-1] if server.windows else "Desktop"
                    self._send(200, {"image": base64.b64encode(server.screen.png()).decode(), "window_title": title,
                                     "rect": [0, 0, 1024, 768], "window_names_str": "\n".join(server.windows),
                                     "computer_clipboard": None, "human_input": None, "status": "success"})
                else:
                    self._send(500, {"status": "error", "message": NOT_FOUND})

            def _form(self, raw: bytes) -> dict[str, str]:
                return {k: v[0] for k, v in parse_qs(raw.decode()).items()}

            def do_POST(self) -> None:  # noqa: C901 - one branch per route, as the real server
                path = urlparse(self.path).path
                server.hits[f"POST {path}"] += 1
                raw = self._body()
                if self._fault(path):
                    return
                try:
                    if path == "/execute_windows":
                        printed = server.run_code(json.loads(raw)["command"])
                        if "error" in printed.lower():
                            self._send(500, {"status": "error", "message": printed})
                        else:
                            self._send(200, {"status": "success"})
                    elif path in ("/execute", "/setup/execute"):
                        body = json.loads(raw)
                        shell = body.get("shell", False)
                        try:
                            self._send(200, server.execute(body.get("command", "" if shell else []), shell))
                        except Exception as exc:  # cannot start, or timed out
                            self._send(500, {"status": "error", "message": str(exc)})
                    elif path == "/file":
                        form = self._form(raw)
                        if "file_path" not in form:
                            self._send(400, {"error": "file_path is required"})
                            return
                        local = server.local(form["file_path"])
                        if not local.is_file():
                            self._send(404, {"error": "File not found"})
                            return
                        ctype = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
                        self._send(200, local.read_bytes(), ctype,
                                   {"Content-Disposition": f"attachment; filename={local.name}"})
                    elif path == "/screen_size":
                        self._send(200, {"width": 1024, "height": 768})
                    elif path == "/desktop_path":
                        self._send(200, {"desktop_path": DESKTOP})
                    elif path == "/documents_path":
                        self._send(200, {"documents_path": f"{HOME}\\Documents"})
                    elif path in ("/file_exists", "/folder_exists"):
                        body = json.loads(raw)
                        key = "file_name" if path == "/file_exists" else "folder_name"
                        if key not in body or "path" not in body:
                            self._send(400, {"error": f"{key if key not in body else 'path'} required"})
                            return
                        target = server.local(body["path"].rstrip("\\") + "\\" + body[key])
                        found = target.is_file() if key == "file_name" else target.is_dir()
                        self._send(200 if found else 400, {"status": "success" if found else "error", "message": ""})
                    elif path == "/list_directory":
                        body = json.loads(raw)
                        if "path" not in body:
                            self._send(400, {"error": "Missing 'path' parameter"})
                            return
                        local = server.local(body["path"])
                        if not local.is_dir():
                            self._send(400, {"error": "The provided path is not a directory"})
                            return
                        self._send(200, {"directory_tree": server.tree(local)})
                    elif path == "/wallpaper":
                        wallpaper = server.local(WALLPAPER)
                        if wallpaper.is_file():
                            self._send(200, wallpaper.read_bytes(), "image/png")
                        else:
                            self._send(404, {"error": "Wallpaper file not found"})
                    elif path == "/setup/upload":
                        self._upload(raw)
                    elif path in ("/setup/create_folder", "/setup/create_file", "/setup/recycle") and \
                            "path" not in json.loads(raw):
                        missing = "Missing 'path' parameter" if path.endswith("recycle") else "path required"
                        self._send(400, {"error": missing})
                    elif path == "/setup/create_folder":
                        body = json.loads(raw)
                        folder = server.local(body["path"])
                        existed = folder.is_dir()
                        folder.mkdir(parents=True, exist_ok=True)
                        self._send(200, {"status": "success",
                                         "message": f"{body['path']} {'already exists' if existed else 'created'}."})
                    elif path == "/setup/create_file":
                        body = json.loads(raw)
                        server.put(body["path"], body.get("content", ""))
                        self._send(200, {"status": "success", "message": f"{body['path']} created."})
                    elif path == "/setup/recycle":
                        body = json.loads(raw)
                        target = server.local(body["path"])
                        if not target.exists():
                            self._send(400, {"status": "error", "message": f"Failed to recycle {body['path']}"})
                            return
                        bin_dir = server.local("C:\\$Recycle.Bin")
                        bin_dir.mkdir(parents=True, exist_ok=True)
                        target.rename(bin_dir / f"{len(os.listdir(bin_dir))}-{target.name}")
                        self._send(200, {"status": "success", "message": f"{body['path']} recycled"})
                    elif path in ("/setup/launch", "/setup/open_file", "/setup/activate_window",
                                  "/setup/close_all", "/setup/clear_task_files"):
                        self._send(200, "ok")
                    else:
                        self._send(500, {"status": "error", "message": NOT_FOUND})
                except Exception as exc:  # the stock catch-all
                    self._send(500, {"status": "error", "message": str(exc)})

            def _upload(self, raw: bytes) -> None:
                from email.parser import BytesParser
                from email.policy import HTTP

                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
                fields = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                          for part in message.iter_parts()}
                if "file_path" not in fields or "file_data" not in fields:
                    self._send(400, {"error": "file_path and file_data are required"})
                    return
                target = server.local(fields["file_path"].decode())
                if not target.parent.is_dir():
                    self._send(500, {"status": "error", "message": f"No such file or directory: '{target}'"})
                    return
                target.write_bytes(fields["file_data"])
                self._send(200, "File Uploaded")

        return Handler

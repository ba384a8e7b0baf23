"""A stand-in for the OSWorld guest server (xlang-ai/osworld-server ``src/http_routes.py`` and
``src/streaming.py``), run as its own process on a real X display: ``python -m tests.support.osworld_double
--port N [--no-control]`` with ``DISPLAY`` set.

Its answers are the real server's byte for byte: Flask's compact, key-sorted JSON with a trailing newline,
``text/html; charset=utf-8`` for strings, Werkzeug's 404/405 pages, the same status codes, and the same
``/ws/control`` messages; ``tests/test_osworld_dialect.py`` checks that against the real server when a
checkout of it is given. Actions really run: in this process with pyautogui (``PAUSE = 0``, as the real
server sets it), commands with ``subprocess``. The one simplification is the accessibility tree, a fixed
desktop frame in OSWorld's namespaces (the real one walks AT-SPI).

``--no-control`` plays an OSWorld server without the control channel (older releases): the WebSocket
upgrade is refused. ``GET /double/counts`` (not a real route) says how many actions came by each path.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import shlex
import subprocess
import time
import uuid
from collections import Counter
from typing import Any

import mss
import pyautogui
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

pyautogui.PAUSE = 0
pyautogui.FAILSAFE = False
HTML = "text/html; charset=utf-8"
NOT_FOUND = ("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL "
             "was not found on the server. If you entered the URL manually please check your spelling and try "
             "again.</p>\n")
NOT_ALLOWED = ("<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n"
               "<p>The method is not allowed for the requested URL.</p>\n")
TREE = ('<desktop-frame xmlns:st="https://accessibility.ubuntu.example.org/ns/state" '
        'xmlns:attr="https://accessibility.ubuntu.example.org/ns/attributes" '
        'xmlns:cp="https://accessibility.ubuntu.example.org/ns/component" name="main" />')
counts: Counter[str] = Counter()


def jsonify(value: Any, status: int = 200) -> Response:
    """Flask's jsonify outside debug mode: compact, keys sorted, ASCII, a newline at the end."""
    body = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":")) + "\n"
    return Response(body.encode(), status, media_type="application/json")


def text(value: str, status: int = 200) -> Response:
    return Response(value.encode(), status, headers={"content-type": HTML})


async def body_json(request: Request) -> Any:
    return json.loads(await request.body() or b"null")


def screen_png() -> bytes:
    with mss.mss() as grabber:
        shot = grabber.grab(grabber.monitors[0])
    buffer = io.BytesIO()
    Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX").save(buffer, "PNG")
    return buffer.getvalue()


async def platform_route(request: Request) -> Response:
    return text(platform.system())


async def screenshot(request: Request) -> Response:
    return Response(screen_png(), headers={"content-type": "image/png",
                                           "content-disposition": "inline; filename=screenshot.png"})


async def execute(request: Request) -> Response:
    data = await body_json(request)
    shell = data.get("shell", False)
    command = data.get("command", "" if shell else [])
    timeout = data.get("timeout", 120)
    if isinstance(command, str) and not shell:
        command = shlex.split(command)
    command = [os.path.expanduser(a) if a.startswith("~/") else a for a in command] if not shell else command
    counts["execute"] += 1
    try:
        result = await asyncio.to_thread(subprocess.run, command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         shell=shell, text=True, timeout=timeout)
    except Exception as exc:
        return jsonify({"status": "error", "message": str(exc)}, 500)
    return jsonify({"status": "success", "output": result.stdout, "error": result.stderr,
                    "returncode": result.returncode})


async def run_python(request: Request) -> Response:
    code = (await body_json(request)).get("code")
    if not code:
        return jsonify({"status": "error", "message": "Code not supplied!"}, 400)
    path = f"/tmp/python_exec_{uuid.uuid4().hex}.py"
    with open(path, "w") as file:
        file.write(code)
    try:
        result = await asyncio.to_thread(subprocess.run, ["/usr/bin/python3", path], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, timeout=30)
    finally:
        os.remove(path)
    output, error = result.stdout, result.stderr
    message = output + (("\n" + error) if output else error) if error else output
    status = "success"
    if result.returncode != 0:
        status = "error"
        if not error:
            error = f"Process exited with code {result.returncode}"
            message = message + "\n" + error if message else error
    return jsonify({"status": status, "message": message, "need_more": False, "output": output, "error": error,
                    "return_code": result.returncode})


async def accessibility(request: Request) -> Response:
    return jsonify({"AT": TREE})


async def terminal(request: Request) -> Response:
    return jsonify({"output": None, "status": "success"})


async def screen_size(request: Request) -> Response:
    width, height = pyautogui.size()
    return jsonify({"width": width, "height": height})


async def cursor_position(request: Request) -> Response:
    pos = pyautogui.position()
    return jsonify([pos.x, pos.y])


async def desktop_path(request: Request) -> Response:
    path = os.path.join(os.path.expanduser("~"), "Desktop")
    if os.path.exists(path):
        return jsonify({"desktop_path": path})
    return jsonify({"error": "Unsupported operating system or desktop path not found"}, 404)


async def list_directory(request: Request) -> Response:
    def walk(directory: str) -> dict[str, Any]:
        tree: dict[str, Any] = {"type": "directory", "name": os.path.basename(directory), "children": []}
        try:
            for entry in os.listdir(directory):
                full = os.path.join(directory, entry)
                tree["children"].append(walk(full) if os.path.isdir(full) else {"type": "file", "name": entry})
        except OSError as exc:
            tree = {"error": str(exc)}
        return tree

    data = await body_json(request)
    if "path" not in data:
        return jsonify({"error": "Missing 'path' parameter"}, 400)
    if not os.path.isdir(data["path"]):
        return jsonify({"error": "The provided path is not a directory"}, 400)
    return jsonify({"directory_tree": walk(data["path"])})


async def file_route(request: Request) -> Response:
    form = await request.form()
    if "file_path" not in form:
        return jsonify({"error": "file_path is required"}, 400)
    path = os.path.expandvars(os.path.expanduser(str(form["file_path"])))
    if not os.path.exists(path):
        return jsonify({"error": "File not found"}, 404)
    with open(path, "rb") as file:
        data = file.read()
    return Response(data, headers={"content-type": "application/octet-stream",
                                   "content-disposition": f"attachment; filename={os.path.basename(path)}"})


async def upload(request: Request) -> Response:
    form = await request.form()
    if "file_path" not in form or "file_data" not in form:
        return jsonify({"error": "file_path and file_data are required"}, 400)
    path = os.path.expandvars(os.path.expanduser(str(form["file_path"])))
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(await form["file_data"].read())  # type: ignore[union-attr]
    return text(f"File Uploaded: {os.path.getsize(path)} bytes")


async def launch(request: Request) -> Response:
    data = await body_json(request)
    shell = data.get("shell", False)
    command = data.get("command", "" if shell else [])
    if isinstance(command, str) and not shell:
        command = shlex.split(command)
    subprocess.Popen(command, shell=shell)
    return text(f"{command if shell else ' '.join(command)} launched successfully")


def run_action(action: Any) -> dict[str, Any]:
    """The real server's ``execute_stream_action`` for the types the client sends."""
    if not isinstance(action, dict):
        raise ValueError("Action payload must be a dictionary.")
    kind = action.get("action_type")
    if not kind:
        raise ValueError("Action payload must include 'action_type'.")
    params = dict(action["parameters"]) if isinstance(action.get("parameters"), dict) else {
        k: v for k, v in action.items() if k != "action_type"}
    started = time.time()
    keys = list(pyautogui.KEYBOARD_KEYS)

    def key(name: Any) -> str:
        if str(name).lower() not in keys:
            raise ValueError(f"Key must be one of {keys}")
        return str(name)

    def xy() -> dict[str, Any]:
        if ("x" in params) != ("y" in params):
            raise ValueError(f"Unknown parameters: {params}")
        return {"x": params["x"], "y": params["y"]} if "x" in params else {}

    if kind in {"WAIT", "FAIL", "DONE"}:
        return {"status": "success", "started_at": started, "completed_at": time.time(), "result": {"noop": True}}
    if kind == "MOVE_TO":
        pyautogui.moveTo(params["x"], params["y"])
    elif kind == "CLICK":
        extra = {"button": params["button"]} if "button" in params else {}
        if "num_clicks" in params:
            extra["clicks"] = params["num_clicks"]
        pyautogui.click(**xy(), **extra)
    elif kind in ("MOUSE_DOWN", "MOUSE_UP"):
        call = pyautogui.mouseDown if kind == "MOUSE_DOWN" else pyautogui.mouseUp
        call(**({"button": params["button"]} if "button" in params else {}))
    elif kind == "RIGHT_CLICK":
        pyautogui.rightClick(**xy())
    elif kind == "DOUBLE_CLICK":
        pyautogui.doubleClick(**xy())
    elif kind == "DRAG_TO":
        pyautogui.dragTo(params["x"], params["y"], duration=params.get("duration", 1.0),
                         button=params.get("button", "left"), mouseDownUp=True)
    elif kind == "SCROLL":
        if "dx" not in params and "dy" not in params:
            raise ValueError(f"Unknown parameters: {params}")
        if "dx" in params:
            pyautogui.hscroll(params["dx"])
        if "dy" in params:
            pyautogui.vscroll(params["dy"])
    elif kind == "TYPING":
        if "text" not in params:
            raise ValueError(f"Unknown parameters: {params}")
        pyautogui.typewrite(str(params["text"]), interval=params.get("interval", 0.0))
    elif kind in ("PRESS", "KEY_DOWN", "KEY_UP"):
        call = {"PRESS": pyautogui.press, "KEY_DOWN": pyautogui.keyDown, "KEY_UP": pyautogui.keyUp}[kind]
        call(key(params.get("key", "")))
    elif kind == "HOTKEY":
        names = params.get("keys")
        if not isinstance(names, list) or not names:
            raise ValueError("Keys must be a non-empty list of keys")
        pyautogui.hotkey(*[key(k) for k in names])
    else:
        raise ValueError(f"Unknown action type: {kind}")
    return {"status": "success", "started_at": started, "completed_at": time.time(), "result": {}}


async def control(websocket: WebSocket) -> None:
    await websocket.accept()
    session = websocket.query_params.get("session_id") or uuid.uuid4().hex
    await websocket.send_json({"type": "control_ready", "session_id": session, "timestamp": time.time()})
    try:
        while True:
            try:
                message = json.loads(await websocket.receive_text())
            except json.JSONDecodeError as exc:
                await websocket.send_json({"type": "error", "session_id": session, "timestamp": time.time(),
                                           "error": f"Invalid JSON message: {exc}"})
                continue
            kind = message.get("type")
            if kind == "ping":
                await websocket.send_json({"type": "pong", "session_id": session, "timestamp": time.time()})
                continue
            if kind == "close":
                break
            if kind != "action":
                await websocket.send_json({"type": "error", "session_id": session, "timestamp": time.time(),
                                           "error": f"Unsupported message type: {kind}"})
                continue
            action_id = str(message.get("action_id") or uuid.uuid4().hex)
            await websocket.send_json({"type": "action_ack", "session_id": session, "action_id": action_id,
                                       "timestamp": time.time(), "status": "received"})
            counts["control"] += 1
            try:
                result = await asyncio.to_thread(run_action, message.get("action"))
            except Exception as exc:
                await websocket.send_json({"type": "action_result", "session_id": session, "action_id": action_id,
                                           "timestamp": time.time(), "status": "error", "error": str(exc)})
                continue
            await websocket.send_json({
                "type": "action_result", "session_id": session, "action_id": action_id,
                "timestamp": result["completed_at"], "status": result["status"], "started_at": result["started_at"],
                "completed_at": result["completed_at"], "result": result["result"]})
    except WebSocketDisconnect:
        pass
    finally:
        try:
            await websocket.close()
        except RuntimeError:
            pass


async def double_counts(request: Request) -> Response:
    return jsonify(dict(counts))


ROUTES = {
    "/platform": (["GET"], platform_route), "/screenshot": (["GET"], screenshot),
    "/execute": (["POST"], execute), "/setup/execute": (["POST"], execute), "/run_python": (["POST"], run_python),
    "/accessibility": (["GET"], accessibility), "/terminal": (["GET"], terminal),
    "/screen_size": (["POST"], screen_size), "/cursor_position": (["GET"], cursor_position),
    "/desktop_path": (["POST"], desktop_path), "/list_directory": (["POST"], list_directory),
    "/file": (["POST"], file_route), "/setup/upload": (["POST"], upload), "/setup/launch": (["POST"], launch),
    "/double/counts": (["GET"], double_counts),
}


def app(control_channel: bool = True) -> Starlette:
    routes: list[Any] = [Route(path, endpoint, methods=methods) for path, (methods, endpoint) in ROUTES.items()]
    if control_channel:
        routes.append(WebSocketRoute("/ws/control", control))

    async def not_found(request: Request, exc: Exception) -> Response:
        return text(NOT_FOUND, 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return text(NOT_ALLOWED, 405)

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-control", action="store_true", help="refuse /ws/control (an older OSWorld server)")
    args = parser.parse_args()
    uvicorn.run(app(not args.no_control), host="127.0.0.1", port=args.port, log_level="warning", ws="websockets")


if __name__ == "__main__":
    main()

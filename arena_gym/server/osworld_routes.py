"""Routes OSWorld's client (desktop-env's ``PythonController``) calls that WAA's does not, in the shapes
the OSWorld guest server answers (xlang-ai/osworld-server ``src/http_routes.py``).

- ``POST /window_size`` (form or JSON ``app_class_name``): ``{"width", "height"}`` of the first client
  window whose WM_CLASS instance or class is that name (any case); 404 when there is none (OSWorld's
  server answers an empty 500 there; its client reads both as "no size").
- ``GET /terminal``: ``{"output": text, "status": "success"}``, the text of the terminal in front, read
  from the accessibility tree as OSWorld does (a ``terminal`` node of a terminal application, the
  focused one in the active frame first); ``output`` is null when there is none.
- ``POST /run_python`` (``code``), ``POST /run_bash_script`` (``script``, ``timeout``, ``working_dir``) and
  ``POST /execute_with_verification`` (an execute, then ``verification``: ``window_exists`` and/or
  ``command_success``, polled until ``max_wait_time``): in OSWorld's answer shapes. They run in the
  arena's sandbox like ``/execute``, from the request's text as an argument (OSWorld writes it to a file
  in /tmp first), with the Python of ``/execute`` (its light start).
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import Xlib.error
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from Xlib import X
from Xlib import display as xdisplay

from .accessibility import NAMESPACES
from .desktop import Desktop, DesktopError, expand_path, sandboxed, split_command
from .light_python import light_env
from .pools import slow
from .stock import Fail, json_body

log = logging.getLogger(__name__)

# Applications OSWorld's server reads terminal text from (their accessible names, lower case).
TERMINAL_APPS = {"gnome-terminal-server", "gnome-terminal", "xfce4-terminal", "mate-terminal", "terminator",
                 "tilix", "konsole", "qterminal", "lxterminal", "kgx", "ptyxis"}


def window_size(app_class: str) -> dict[str, int] | None:
    """The geometry of the first managed window of that WM_CLASS, as the X server has it."""
    conn = xdisplay.Display()
    try:
        clients = conn.screen().root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
        for wid in clients.value if clients is not None else []:
            try:
                window = conn.create_resource_object("window", wid)
                names = window.get_wm_class()
                if names and app_class.lower() in (n.lower() for n in names):
                    geometry = window.get_geometry()
                    return {"width": int(geometry.width), "height": int(geometry.height)}
            except (Xlib.error.BadWindow, Xlib.error.BadDrawable):
                continue  # closed while we looked
        return None
    finally:
        conn.close()


def terminal_text(tree_xml: str) -> str | None:
    """The text of the terminal in front, from an accessibility tree in OSWorld's shape."""
    if not tree_xml:
        return None
    try:
        root = ET.fromstring(tree_xml)
    except ET.ParseError:
        return None
    st = f"{{{NAMESPACES['st']}}}"
    apps = [a for a in root.iter("application") if (a.get("name") or "").lower() in TERMINAL_APPS]
    active_frames = [f for a in apps for f in a.findall("frame") if f.get(st + "active") == "true"]
    candidates = [
        [t for f in active_frames for t in f.iter("terminal") if t.get(st + "focused") == "true"],
        [t for a in apps for t in a.iter("terminal") if t.get(st + "focused") == "true"],
        [t for f in active_frames for t in f.iter("terminal")],
    ]
    for found in candidates:
        if len(found) == 1:
            return (found[0].text or "").rstrip()
    return None


def _run(argv: list[str] | str, timeout: float, cwd: str | None = None, merge: bool = False) -> subprocess.CompletedProcess[str]:
    command = sandboxed(argv)
    return subprocess.run(  # noqa: S603 - argument list, or the client's own script through bash
        command, shell=isinstance(command, str), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE, text=True, timeout=timeout, cwd=cwd,
        stdin=subprocess.DEVNULL, check=False, env=light_env())


def run_python(code: str) -> tuple[dict[str, Any], int]:
    try:
        done = _run(["python3", "-c", code], 30)
    except subprocess.TimeoutExpired:
        return {"status": "error", "message": "Execution timeout: Code took too long to execute",
                "error": "TimeoutExpired", "need_more": False, "output": None}, 500
    output, error = done.stdout, done.stderr
    message = output + (("\n" + error) if output and error else error)
    if done.returncode != 0 and not error:
        error = f"Process exited with code {done.returncode}"
        message = f"{message}\n{error}" if message else error
    return {"status": "success" if done.returncode == 0 else "error", "message": message, "need_more": False,
            "output": output, "error": error, "return_code": done.returncode}, 200


def run_bash_script(script: str, timeout: float, working_dir: str | None) -> tuple[dict[str, Any], int]:
    import os

    cwd = expand_path(working_dir) if working_dir else None
    if cwd is not None and not os.path.exists(cwd):
        return {"status": "error", "output": f"Working directory does not exist: {cwd}", "error": "",
                "returncode": -1}, 400
    try:
        done = _run(["/bin/bash", "-c", script], timeout, cwd=cwd, merge=True)
    except subprocess.TimeoutExpired:
        return {"status": "error", "output": f"Script execution timed out after {timeout:g} seconds", "error": "",
                "returncode": -1}, 500
    return {"status": "success" if done.returncode == 0 else "error", "output": done.stdout, "error": "",
            "returncode": done.returncode}, 200


def execute_with_verification(body: dict[str, Any], desktop: Desktop) -> tuple[dict[str, Any], int]:
    shell = body.get("shell", False) in (True, "true", "True", 1)
    argv = split_command(body.get("command", "" if shell else []), shell)
    verification = body.get("verification") or {}
    max_wait = min(float(body.get("max_wait_time", 10)), 120.0)
    interval = min(max(float(body.get("check_interval", 1)), 0.05), 10.0)
    done = _run(argv, 120)
    answer: dict[str, Any] = {"output": done.stdout, "error": done.stderr, "returncode": done.returncode}
    if not verification:
        return {"status": "success", **answer}, 200
    start = time.monotonic()
    while time.monotonic() - start < max_wait:
        passed = True
        if "window_exists" in verification:
            want = str(verification["window_exists"]).lower()
            try:
                passed = any(want in w.title.lower() for w in desktop.windows())
            except DesktopError:
                passed = False
        if passed and "command_success" in verification:
            try:
                passed = _run(str(verification["command_success"]), 5).returncode == 0
            except subprocess.TimeoutExpired:
                passed = False
        if passed:
            return {"status": "success", **answer, "verification": "passed",
                    "wait_time": time.monotonic() - start}, 200
        time.sleep(interval)  # OSWorld's check_interval: the client asked for this polling period
    return {"status": "verification_failed", **answer, "verification": "failed", "wait_time": max_wait}, 500


def routes(read_tree: Callable[[], str], desktop: Desktop) -> list[tuple[str, Any, list[str]]]:
    """The routes, given how the server reads its accessibility tree (inside the sandbox, or here)."""

    async def window_size_route(request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            body: Any = await request.json()
        else:
            body = await request.form()
        name = body.get("app_class_name") if hasattr(body, "get") else None
        if not isinstance(name, str) or not name:
            raise Fail(400, {"error": "app_class_name is required"})
        size = await slow(window_size, name)
        if size is None:
            return JSONResponse({"error": f"no window of class {name!r}"}, 404)
        return JSONResponse(size)

    async def terminal_route(request: Request) -> Response:
        output = terminal_text(await slow(read_tree))
        return JSONResponse({"output": output, "status": "success"})

    async def run_python_route(request: Request) -> Response:
        code = (await json_body(request)).get("code")
        if not code or not isinstance(code, str):
            return JSONResponse({"status": "error", "message": "Code not supplied!"}, 400)
        answer, status = await slow(run_python, code)
        return JSONResponse(answer, status)

    async def run_bash_script_route(request: Request) -> Response:
        body = await json_body(request)
        script = body.get("script")
        if not script or not isinstance(script, str):
            return JSONResponse({"status": "error", "output": "Script not supplied!", "error": "", "returncode": -1}, 400)
        timeout = min(float(body.get("timeout", 100)), 600.0)
        answer, status = await slow(run_bash_script, script, timeout, body.get("working_dir"))
        return JSONResponse(answer, status)

    async def execute_with_verification_route(request: Request) -> Response:
        body = await json_body(request)
        try:
            answer, status = await slow(execute_with_verification, body, desktop)
        except (OSError, ValueError, DesktopError, subprocess.TimeoutExpired) as exc:
            return JSONResponse({"status": "error", "message": str(exc)}, 500)
        return JSONResponse(answer, status)

    return [("/window_size", window_size_route, ["POST"]), ("/terminal", terminal_route, ["GET"]),
            ("/run_python", run_python_route, ["POST"]), ("/run_bash_script", run_bash_script_route, ["POST"]),
            ("/execute_with_verification", execute_with_verification_route, ["POST"]),
            ("/setup/execute_with_verification", execute_with_verification_route, ["POST"])]

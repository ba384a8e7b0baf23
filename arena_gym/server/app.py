"""arena-gym's desktop server: the stock WAA VM protocol on a Linux X display, plus extensions.

Extensions are announced at ``GET /arena/capabilities`` (stock servers answer that route with an
error, which clients read as "no extensions"):
- ``POST /arena/step``: run action code, settle server-side, answer with the screenshot (one round trip);
- ``GET /screenshot?format=jpeg|webp&quality=N``: a format other than PNG.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .. import __version__
from ..arena.sandbox import Sandbox
from ..protocol import frame_files
from ..protocol.models import MEDIA_TYPES, StepRequest, WindowRequest, starts_work
from ..validation import field_errors
from . import files, osworld_routes, readiness, recording
from .accessibility import accessibility_tree
from .agent_worker import AgentWorker
from .auth import TokenGuard
from .capture import DisplayDown, Grab, Screen, encode
from .damage import DamageWatch
from .desktop import Desktop, DesktopError, sandboxed, split_command
from .guard import FORM, JSON, MULTIPART, RequestGuard
from .light_python import light_env
from .pools import frames, slow
from .stock import Fail, error, field, json_body, not_found, stock_errors

log = logging.getLogger(__name__)

EXECUTE_TIMEOUT_S = 120


@dataclass
class ServerOptions:
    token: str | None = None
    max_upload_bytes: int = 512 * 1024 * 1024
    cursor: bool = True
    isolate_agent: bool = True  # agent code in a PID namespace of its own where Linux allows it
    host: str = "127.0.0.1"  # the address it is bound to (a Host the guard accepts)
    allowed_hosts: tuple[str, ...] = ()  # more host names it answers to (--allowed-host)
    body_idle_s: float = 30.0  # a request body that stalls this long is answered 408
    action_timeout_s: float = 60.0  # agent code still running after this is stopped (the agent's error)
    settle_source: str = "damage"  # "damage": the X server's damage events; "frames": grab and compare


class DisplayWatch:
    """The display's health, checked in the background twice a second (and on demand before actions)."""

    def __init__(self, screen: Screen, interval_s: float = 0.5) -> None:
        self.screen = screen
        self.down: str | None = screen.alive()
        thread = threading.Thread(target=self._loop, args=(interval_s,), name="display-watch", daemon=True)
        thread.start()

    def check(self) -> str | None:
        self.down = self.screen.alive()
        return self.down

    def _loop(self, interval_s: float) -> None:
        while True:
            time.sleep(interval_s)
            self.check()


class DesktopServer:
    """State shared by the routes: the screen, the desktop, the ``computer`` object, one input lock."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self.screen = Screen(cursor=self.options.cursor)
        self.desktop = Desktop()
        # Agent code (and the ``computer`` object it sees) lives in a worker process: see agent_worker.
        self.sandbox = Sandbox.from_env()
        self.worker = AgentWorker(self.screen.size(), isolate=self.options.isolate_agent, sandbox=self.sandbox)
        self.pinger = readiness.AppPinger()
        self.damage = DamageWatch()
        self.display_watch = DisplayWatch(self.screen)
        self.recorder = recording.Recorder(self.screen.size())
        self.worker.start()
        # One mouse and keyboard: actions (and their settle) run one at a time.
        self.input_lock = threading.Lock()

    # ---- observation
    async def probe(self, request: Request) -> Response:
        # No I/O here: the display's health is watched in the background, so /probe stays fast under load.
        down = self.display_watch.down
        if down:
            return JSONResponse({"status": "error", "message": down, "display": "down"}, 503)
        return JSONResponse({"status": "Probe successful", "message": "Service is operational",
                             "display": self.screen.display})

    async def capabilities(self, request: Request) -> Response:
        return JSONResponse({
            "server": "arena-gym", "version": __version__,
            # readiness: the settle waits for the app in front to have handled the input (see readiness.py)
            # frame_file: a step can put its frame's pixels into a client's file in /dev/shm (frame_files.py)
            "extensions": ["step", "screenshot_format", "settle", "readiness", "frame_file"],
            "screenshot_formats": list(MEDIA_TYPES),
        })

    def _image(self, fmt: str, quality: int | None) -> bytes:
        return encode(self.screen.grab().image(), fmt, quality)

    async def screenshot(self, request: Request) -> Response:
        fmt, quality = _format_args(request.query_params.get("format", "png"), request.query_params.get("quality"))
        data = await frames(self._image, fmt, quality)
        return Response(data, media_type=MEDIA_TYPES[fmt])

    async def screen_size(self, request: Request) -> Response:
        width, height = self.screen.size()
        return JSONResponse({"width": width, "height": height})

    async def cursor_position(self, request: Request) -> Response:
        import pyautogui

        x, y = await run_in_threadpool(pyautogui.position)
        return JSONResponse([int(x), int(y)])

    async def platform(self, request: Request) -> Response:
        return PlainTextResponse("Linux", media_type="text/html")

    def read_accessibility(self) -> str:
        # In a sandboxed arena the session bus belongs to the sandbox's account: ask from inside it.
        return self.worker.accessibility() if self.sandbox is not None else accessibility_tree()

    async def accessibility(self, request: Request) -> Response:
        backend = request.query_params.get("backend", "uia")
        if backend not in ("uia", "win32", "atspi"):
            return PlainTextResponse("Invalid backend specified", status_code=400, media_type="text/html")
        return JSONResponse({"AT": await slow(self.read_accessibility)})

    async def obs_winagent(self, request: Request) -> Response:
        def observe() -> dict[str, Any]:
            grab = self.screen.grab()
            title, rect = self.desktop.active_window()
            if not title:
                title, rect = "Desktop", [0, 0, grab.width, grab.height]
            return {
                "image": base64.b64encode(encode(grab.image(), "png")).decode(),
                "window_title": title, "rect": rect,
                "window_names_str": "\n".join(w.title for w in self.desktop.windows() if w.title),
                "computer_clipboard": self.worker.clipboard(),
                "human_input": None, "status": "success",
            }

        return JSONResponse(await run_in_threadpool(observe))

    # ---- actions
    def _exec(self, code: str) -> str | None:
        """Run agent code in the worker; the agent's error message, or None (the stock server's rules:
        what raised, or printed "error", failed). A dead display is not the agent's: DisplayDown."""
        # The watch's last look costs nothing here; a display that died since is found by the worker,
        # which checks its own connection before running anything.
        if self.display_watch.down:
            raise DisplayDown(self.display_watch.down)
        try:
            return self.worker.run(code, self.options.action_timeout_s)
        except RuntimeError as exc:  # the worker could not start again: the display is the usual reason
            down = self.display_watch.check()
            if down:
                raise DisplayDown(down) from exc
            raise

    async def execute_windows(self, request: Request) -> Response:
        code = field(await json_body(request), "command", str)

        def act() -> str | None:
            with self.input_lock:
                return self._exec(code)

        failure = await run_in_threadpool(act)
        return error(failure) if failure is not None else JSONResponse({"status": "success"})

    async def step(self, request: Request) -> Response:
        try:
            step = StepRequest.model_validate(await json_body(request))
        except ValidationError as exc:
            raise Fail(400, {"status": "error", "message": field_errors(exc)}) from None
        code, settle = step.command, step.settle
        raw = step.format == "rgb"
        fmt, quality = ("png", None) if raw else _format_args(step.format, step.quality)
        sink = None
        if step.frame_file is not None:
            try:  # before acting: a client on another machine is refused with nothing done
                sink = frame_files.FrameSink(step.frame_file)
            except frame_files.FrameFileError as exc:
                raise Fail(400, {"status": "error", "message": str(exc)}) from None

        timings: dict[str, float] = {}

        def act() -> tuple[bytes, str | None, float, bool, Grab]:
            try:
                # The model bounds every wait, so no request holds the input lock past its own deadline.
                with self.input_lock:
                    # Settle off (the default of a bare step): nothing to measure, so no damage events read.
                    settling = settle.timeout_s > 0
                    watch = self.damage if settling and self.options.settle_source == "damage" else None
                    if watch is not None:
                        watch.start()
                    failure = self._exec(code) if code else None
                    quiet_ms = settle.quiet_ms(damage=watch is not None and watch.usable,
                                               after_enter=starts_work(code))
                    grab, stable, waited = readiness.settle(
                        self.screen, self.pinger, settle.timeout_s, quiet_ms, settle.interval_ms,
                        settle.fixed_wait_s, watch)
                    if watch is not None and watch.usable:  # how long the screen had been still at the grab
                        timings["since_drawn_ms"] = (time.monotonic() - watch.last_change) * 1000
                    if sink is not None:  # under the lock: a later step's frame always lands after this one
                        sink.write(grab.rgb())
                        return b"", failure, waited, stable, grab
            finally:
                if sink is not None:
                    sink.close()
            data = grab.rgb() if raw else encode(grab.image(), fmt, quality)
            return data, failure, waited, stable, grab

        data, failure, waited, stable, grab = await run_in_threadpool(act)
        headers = {
            "X-Arena-Action-Status": "ok" if failure is None else "error",
            "X-Arena-Settle-Ms": f"{waited:.1f}",
            "X-Arena-Stable": "1" if stable else "0",
        }
        if "since_drawn_ms" in timings:
            headers["X-Arena-Since-Drawn-Ms"] = f"{timings['since_drawn_ms']:.1f}"
        if failure is not None:
            headers["X-Arena-Action-Error"] = quote(failure[:2000])
        if raw:
            headers[frame_files.SIZE_HEADER] = f"{grab.width}x{grab.height}"
            return Response(data, media_type=frame_files.MEDIA_TYPE, headers=headers)
        return Response(data, media_type=MEDIA_TYPES[fmt], headers=headers)

    async def update_computer(self, request: Request) -> Response:
        body = await json_body(request)
        state = {k: body.get(k) for k in ("rects", "window_rect", "screenshot", "scale", "clipboard_content",
                                           "swap_ctrl_alt")}
        await run_in_threadpool(self.worker.update, state)
        return JSONResponse({"success": True})

    async def execute(self, request: Request) -> Response:
        body = await json_body(request)
        shell = body.get("shell", False)
        shell = shell in (True, "true", "True", 1)
        argv = split_command(field(body, "command", (list, str)), shell)

        def run() -> subprocess.CompletedProcess[str]:
            command = sandboxed(argv)
            return subprocess.run(  # noqa: S603 - argument list, or the client's own shell command
                command, shell=isinstance(command, str), capture_output=True, text=True,
                timeout=EXECUTE_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False, env=light_env(),
            )

        try:
            result = await slow(run)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return error(str(exc))
        return JSONResponse({
            "status": "success", "output": result.stdout, "error": result.stderr, "returncode": result.returncode,
        })

    # ---- setup
    async def launch(self, request: Request) -> Response:
        body = await json_body(request)
        command = field(body, "command", (list, str))
        shell = body.get("shell", False) in (True, "true", "True", 1)
        try:
            await slow(self.desktop.launch, command, shell)
        except (OSError, DesktopError) as exc:
            return JSONResponse(
                {"status": "error", "message": str(exc), "shell": shell, "command": command, "data": body}, 500
            )
        shown = command if isinstance(command, str) else " ".join(command)
        return PlainTextResponse(f"{shown} launched successfully", media_type="text/html")

    async def open_file(self, request: Request) -> Response:
        body = await json_body(request)
        if not body.get("path"):
            return PlainTextResponse("Path not supplied!", status_code=400, media_type="text/html")
        try:
            await slow(self.desktop.open_path, str(body["path"]))
        except DesktopError as exc:
            return PlainTextResponse(str(exc), status_code=exc.status, media_type="text/html")
        return PlainTextResponse("File opened successfully", media_type="text/html")

    def _window_route(self, action: str):  # noqa: ANN202 - returns a route
        async def route(request: Request) -> Response:
            try:
                window = WindowRequest.model_validate(await json_body(request))
            except ValidationError as exc:
                raise Fail(400, {"status": "error", "message": field_errors(exc)}) from None
            try:
                if action == "activate":
                    # Like WAA's fork: give a starting app time to map its window (15 s unless told).
                    await slow(self.desktop.activate, window.window_name, window.strict, window.by_class,
                               window.timeout)
                else:
                    await slow(self.desktop.close, window.window_name, window.strict, window.by_class)
            except DesktopError as exc:
                return PlainTextResponse(str(exc), status_code=exc.status, media_type="text/html")
            verb = "activated" if action == "activate" else "closed"
            return PlainTextResponse(f"Window {verb} successfully", media_type="text/html")

        return route

    async def close_all(self, request: Request) -> Response:
        await slow(self.desktop.close_all)
        return PlainTextResponse("All windows closed successfully.", media_type="text/html")

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]
        table: list[tuple[str, Any, list[str]]] = [
            ("/probe", self.probe, get),
            ("/screenshot", self.screenshot, get),
            ("/accessibility", self.accessibility, get),
            ("/obs_winagent", self.obs_winagent, get),
            ("/cursor_position", self.cursor_position, get),
            ("/platform", self.platform, get),
            ("/screen_size", self.screen_size, post),
            ("/execute", self.execute, post),
            ("/setup/execute", self.execute, post),
            ("/execute_windows", self.execute_windows, post),
            ("/update_computer", self.update_computer, post),
            ("/file", files.get_file, post),
            ("/setup/upload", files.upload, post),
            ("/desktop_path", files.desktop_path, post),
            ("/documents_path", files.documents_path, post),
            ("/list_directory", files.list_directory, post),
            ("/file_exists", files.file_exists, post),
            ("/folder_exists", files.folder_exists, post),
            ("/wallpaper", files.wallpaper, post),
            ("/setup/launch", self.launch, post),
            ("/setup/change_wallpaper", files.change_wallpaper, post),
            ("/setup/open_file", self.open_file, post),
            ("/setup/activate_window", self._window_route("activate"), post),
            ("/setup/close_window", self._window_route("close"), post),
            ("/setup/close_all", self.close_all, post),
            ("/setup/create_folder", files.create_folder, post),
            ("/setup/create_file", files.create_file, post),
            ("/setup/recycle", files.recycle, post),
            ("/setup/clear_task_files", files.clear_task_files, post),
            ("/arena/capabilities", self.capabilities, get),
            ("/arena/step", self.step, post),
            *osworld_routes.routes(self.read_accessibility, self.desktop),
            *recording.routes(self.recorder),
        ]
        return [Route(path, stock_errors(handler), methods=methods) for path, handler, methods in table]


def _format_args(fmt: Any, quality: Any) -> tuple[str, int | None]:
    fmt = str(fmt or "png").lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in MEDIA_TYPES:
        raise Fail(500, {"status": "error", "message": f"unknown format {fmt!r}: use png, jpeg or webp"})
    if quality in (None, ""):
        return fmt, None
    try:
        q = int(quality)
    except (TypeError, ValueError) as exc:
        raise Fail(500, {"status": "error", "message": f"quality must be an integer 1-100, got {quality!r}"}) from exc
    if not 1 <= q <= 100:
        raise Fail(500, {"status": "error", "message": f"quality must be 1-100, got {q}"})
    return fmt, q


def create_app(options: ServerOptions | None = None) -> ASGIApp:
    """The ASGI app for the X display named by ``$DISPLAY``."""
    server = DesktopServer(options)
    # The agent worker needs no shutdown hook: it ends when its stdin (this process) closes.
    app: ASGIApp = Starlette(routes=server.routes(), exception_handlers={404: not_found, 405: not_found})
    if server.options.token:
        app = TokenGuard(app, server.options.token)
    # What stock clients send where: WAA's and OSWorld's clients post forms to /file and /window_size and
    # multipart to /setup/upload (a form without the file gets the stock 400); everything else is JSON.
    media = {"/file": frozenset({FORM, MULTIPART}), "/setup/upload": frozenset({FORM, MULTIPART}),
             "/window_size": frozenset({FORM, JSON})}
    app = RequestGuard(app, bound=server.options.host, allowed_hosts=server.options.allowed_hosts, media=media,
                       body_limits={"/setup/upload": server.options.max_upload_bytes},
                       body_idle_s=server.options.body_idle_s)
    log.info("desktop server ready (python %s, screen %sx%s)", sys.version.split()[0], *server.screen.size())
    return app

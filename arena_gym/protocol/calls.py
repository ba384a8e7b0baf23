"""The protocol without I/O: each call is a value that says what to send and how to read the answer.

The sync and async clients run the same ``Call`` values, so there is one description of the wire
for both faces. ``Sleep`` lets multi-call plans (settle by polling) wait without knowing how.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from .errors import ActionFailed

if TYPE_CHECKING:
    from .control import Control
from .models import Capabilities, DirectoryNode, ExecResult, Frame, ScreenSize, SettleSpec, StepRequest

T = TypeVar("T")


class Kind(str, Enum):
    """Classes of calls; each has its own timeout."""

    PROBE = "probe"
    SCREENSHOT = "screenshot"
    ACTION = "action"
    EXECUTE = "execute"
    FILE = "file"
    UPLOAD = "upload"
    ACCESSIBILITY = "accessibility"
    SETUP = "setup"
    STEP = "step"


class BadAnswer(ValueError):
    """Raised by a parser when a 2xx answer is not in the protocol's shape."""


@dataclass(frozen=True)
class Call(Generic[T]):
    name: str
    method: str
    path: str
    kind: Kind
    idempotent: bool
    parse: Callable[[httpx.Response], T]
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    # Status codes that are answers, not errors (status-code-as-boolean endpoints use 400 too).
    accept: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Sleep:
    seconds: float


# A plan yields calls, sleeps, and OSWorld control-channel actions (control.py), and receives their results.
Plan = Generator["Call[Any] | Sleep | Control", Any, T]


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadAnswer(f"expected JSON, got {resp.headers.get('content-type', '?')}: {resp.text[:200]!r}") from exc


def _model(model: type[Any], key: str | None = None) -> Callable[[httpx.Response], Any]:
    def parse(resp: httpx.Response) -> Any:
        body = _json(resp)
        if key is not None:
            if not isinstance(body, dict) or key not in body:
                raise BadAnswer(f"expected a JSON object with {key!r}, got {str(body)[:200]}")
            body = body[key]
        try:
            return model.model_validate(body)
        except Exception as exc:
            raise BadAnswer(f"answer is not a {model.__name__}: {exc}") from exc

    return parse


def _frame(resp: httpx.Response) -> Frame:
    ctype = resp.headers.get("content-type", "")
    if not ctype.startswith("image/"):
        raise BadAnswer(f"expected an image, got content-type {ctype!r}: {resp.content[:120]!r}")
    declared = resp.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != len(resp.content):
        raise BadAnswer(f"image body has {len(resp.content)} of {declared} declared bytes")
    try:
        return Frame.decode(resp.content)
    except ValueError as exc:
        raise BadAnswer(str(exc)) from exc


def _text(resp: httpx.Response) -> str:
    return resp.text


def _bytes(resp: httpx.Response) -> bytes:
    return resp.content


def _status_ok(resp: httpx.Response) -> bool:
    return resp.status_code == 200


def _none(resp: httpx.Response) -> None:
    return None


def _key(key: str) -> Callable[[httpx.Response], Any]:
    def parse(resp: httpx.Response) -> Any:
        body = _json(resp)
        if not isinstance(body, dict) or key not in body:
            raise BadAnswer(f"expected a JSON object with {key!r}, got {str(body)[:200]}")
        return body[key]

    return parse


def _capabilities(resp: httpx.Response) -> Capabilities:
    if resp.status_code != 200:
        return Capabilities()
    try:
        body = resp.json()
    except ValueError:
        return Capabilities()
    if not isinstance(body, dict) or body.get("server") in (None, "stock"):
        return Capabilities()
    return Capabilities.model_validate(body)


# Lines, not "; ": code that starts with a compound statement (``for k in ...:``) cannot follow a ";".
# (OSWorld's own client glues its prefix on with "; " and fails on such code; this one does not.)
PYAUTOGUI_PREFIX = "import pyautogui\nimport time\npyautogui.FAILSAFE = False\n"


class WAADialect:
    """The stock WAA VM server (spec section 1), as WAA's own client speaks it."""

    name = "waa"
    control_channel = False  # OSWorld's /ws/control (control.py)

    def probe(self) -> Call[dict[str, Any]]:
        return Call("probe", "GET", "/probe", Kind.PROBE, True, _json)

    def capabilities(self) -> Call[Capabilities]:
        # Stock servers answer 500 "404 Not Found" (WAA) or 404 (OSWorld): both mean "no extensions".
        return Call(
            "capabilities", "GET", "/arena/capabilities", Kind.PROBE, True, _capabilities,
            accept=(200, 404, 405, 500),
        )

    def screenshot(self, fmt: str | None = None, quality: int | None = None) -> Call[Frame]:
        params = {}
        if fmt and fmt != "png":
            params["format"] = fmt
        if quality is not None:
            params["quality"] = str(quality)
        return Call("screenshot", "GET", "/screenshot", Kind.SCREENSHOT, True, _frame, params=params or None)

    def window_titles(self) -> Call[list[str]]:
        """Titles of the open windows (``/obs_winagent``'s ``window_names_str``: WAA's only window list)."""
        return Call("window_titles", "GET", "/obs_winagent", Kind.SCREENSHOT, True,
                    lambda r: [t for t in str(_json(r).get("window_names_str") or "").split("\n") if t])

    def execute_windows(self, code: str) -> Call[None]:
        """Run Python in the server process (WAA's ``code_block`` action path)."""
        return Call("execute_windows", "POST", "/execute_windows", Kind.ACTION, False, _none, json={"command": code})

    def run_python(self, code: str) -> Call[None]:
        """Run agent code (pyautogui / ``computer``) the cheapest way the server offers."""
        return self.execute_windows(code)

    def execute(self, command: list[str] | str, shell: bool = False, path: str = "/execute") -> Call[ExecResult]:
        return Call(
            "execute", "POST", path, Kind.EXECUTE, False, _model(ExecResult),
            json={"command": command, "shell": shell},
        )

    def accessibility(self, backend: str = "uia") -> Call[str]:
        return Call(
            "accessibility", "GET", "/accessibility", Kind.ACCESSIBILITY, True, _key("AT"),
            params={"backend": backend},
        )

    def file(self, path: str) -> Call[bytes]:
        return Call("file", "POST", "/file", Kind.FILE, True, _bytes, data={"file_path": path})

    def upload(self, path: str, content: bytes, filename: str | None = None) -> Call[str]:
        # Re-sending an upload writes the same bytes again: idempotent.
        name = filename or os.path.basename(path.replace("\\", "/")) or "file"
        return Call(
            "upload", "POST", "/setup/upload", Kind.UPLOAD, True, _text,
            data={"file_path": path}, files={"file_data": (name, content, "application/octet-stream")},
        )

    def screen_size(self) -> Call[ScreenSize]:
        return Call("screen_size", "POST", "/screen_size", Kind.PROBE, True, _model(ScreenSize))

    def window_size(self, app_class_name: str) -> Call[dict[str, int] | None]:
        """``{"width", "height"}`` of the app's window (OSWorld's route); None when it has none."""
        return Call("window_size", "POST", "/window_size", Kind.PROBE, True,
                    lambda r: _json(r) if r.status_code == 200 else None, data={"app_class_name": app_class_name},
                    accept=(200, 404, 500))

    def terminal(self) -> Call[str | None]:
        """The text of the terminal in front (OSWorld's route); None when there is none."""
        return Call("terminal", "GET", "/terminal", Kind.ACCESSIBILITY, True, lambda r: _json(r).get("output"))

    def desktop_path(self) -> Call[str]:
        return Call("desktop_path", "POST", "/desktop_path", Kind.PROBE, True, _key("desktop_path"))

    def documents_path(self) -> Call[str]:
        return Call("documents_path", "POST", "/documents_path", Kind.PROBE, True, _key("documents_path"))

    def list_directory(self, path: str) -> Call[DirectoryNode]:
        return Call(
            "list_directory", "POST", "/list_directory", Kind.FILE, True,
            _model(DirectoryNode, "directory_tree"), json={"path": path},
        )

    def file_exists(self, path: str, file_name: str) -> Call[bool]:
        return Call(
            "file_exists", "POST", "/file_exists", Kind.PROBE, True, _status_ok,
            json={"file_name": file_name, "path": path}, accept=(200, 400),
        )

    def folder_exists(self, path: str, folder_name: str) -> Call[bool]:
        return Call(
            "folder_exists", "POST", "/folder_exists", Kind.PROBE, True, _status_ok,
            json={"folder_name": folder_name, "path": path}, accept=(200, 400),
        )

    def ui_probe(self, path: str, body: dict[str, Any]) -> Call[bool]:
        """The Windows UI-state probes (``/is_details_view``, ``/check_if_timer_started`` ...): 200 yes, 400 no."""
        return Call(path.strip("/"), "POST", "/" + path.strip("/"), Kind.PROBE, True, _status_ok,
                    json=body, accept=(200, 400))

    def library_folders(self, library_name: str) -> Call[list[str] | None]:
        return Call("library_folders", "POST", "/library_folders", Kind.PROBE, True,
                    lambda r: _json(r).get("output") if r.status_code == 200 else None,
                    json={"library_name": library_name}, accept=(200, 400))

    def cursor_position(self) -> Call[list[int]]:
        """``[x, y]`` (arena-gym and OSWorld servers; the stock WAA route is broken and answers 500)."""
        return Call("cursor_position", "GET", "/cursor_position", Kind.PROBE, True, _json)

    def wallpaper(self) -> Call[bytes]:
        return Call("wallpaper", "POST", "/wallpaper", Kind.FILE, True, _bytes)

    def platform(self) -> Call[str]:
        return Call("platform", "GET", "/platform", Kind.PROBE, True, lambda r: r.text.strip())

    # ---- /setup/* (spec 1.2). Launch, open and close change the VM: never re-sent blindly.
    def setup(self, step: str, body: dict[str, Any], *, idempotent: bool = False) -> Call[str]:
        return Call(f"setup/{step}", "POST", f"/setup/{step}", Kind.SETUP, idempotent, _text, json=body)

    def launch(self, command: list[str] | str, shell: bool = False) -> Call[str]:
        return self.setup("launch", {"command": command, "shell": shell})

    def open_file(self, path: str) -> Call[str]:
        return self.setup("open_file", {"path": path})

    def activate_window(self, window_name: str, strict: bool = False, by_class: bool = False) -> Call[str]:
        body = {"window_name": window_name, "strict": strict, "by_class": by_class}
        return self.setup("activate_window", body, idempotent=True)

    def close_window(self, window_name: str, strict: bool = False, by_class: bool = False) -> Call[str]:
        return self.setup("close_window", {"window_name": window_name, "strict": strict, "by_class": by_class})

    def close_all(self) -> Call[str]:
        return self.setup("close_all", {})

    def create_folder(self, path: str) -> Call[str]:
        return self.setup("create_folder", {"path": path}, idempotent=True)

    def create_file(self, path: str, content: str = "") -> Call[str]:
        return self.setup("create_file", {"path": path, "content": content}, idempotent=True)

    def clear_task_files(self) -> Call[str]:
        return self.setup("clear_task_files", {}, idempotent=True)

    def recycle(self, path: str) -> Call[str]:
        return self.setup("recycle", {"path": path})

    # ---- arena extensions (only used after ``capabilities`` says they exist)
    def arena_step(
        self, code: str, settle: SettleSpec | None, fmt: str = "png", quality: int | None = None,
        frame_file: str | None = None,
    ) -> Call[httpx.Response]:
        request = StepRequest(command=code, format=fmt, quality=quality,  # type: ignore[arg-type]
                              frame_file=frame_file, **({"settle": settle} if settle is not None else {}))
        body = request.model_dump(exclude_defaults=True)
        body.setdefault("command", code)
        return Call("step", "POST", "/arena/step", Kind.STEP, False, lambda r: r, json=body)


class OSWorldDialect(WAADialect):
    """The OSWorld guest server (spec/osworld_protocol.md): no /probe, no in-process exec."""

    name = "osworld"
    control_channel = True

    def probe(self) -> Call[dict[str, Any]]:
        return Call("probe", "GET", "/platform", Kind.PROBE, True, lambda r: {"platform": r.text.strip()})

    def run_python(self, code: str) -> Call[None]:
        # OSWorld's own client path: a fresh interpreter per action via /execute.
        call = self.execute(["python", "-c", PYAUTOGUI_PREFIX + code])
        return Call(
            "run_python", call.method, call.path, Kind.ACTION, False, _exec_checked, json=call.json,
        )

    def execute_windows(self, code: str) -> Call[None]:
        return self.run_python(code)

    def accessibility(self, backend: str = "uia") -> Call[str]:
        return Call("accessibility", "GET", "/accessibility", Kind.ACCESSIBILITY, True, _key("AT"))


def _exec_checked(resp: httpx.Response) -> None:
    result = _model(ExecResult)(resp)
    if result.returncode != 0:
        raise ActionFailed(500, f"exit {result.returncode}: {result.error.strip()[-500:]}", call="run_python")


DIALECTS: dict[str, type[WAADialect]] = {"waa": WAADialect, "osworld": OSWorldDialect}


@dataclass
class Detected:
    dialect: str
    capabilities: Capabilities = field(default_factory=Capabilities)

"""What the desktop server does to a Linux X desktop besides input: windows, programs, clipboard.

Every subprocess gets an argument list. Commands that come from a client with ``shell: true``
are the protocol's own remote-exec feature (guarded by loopback binding or a token), not strings
we build.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import Xlib.error
from Xlib import X
from Xlib import display as xdisplay

from ..arena.sandbox import Sandbox
from ..polling import PollTimeout, poll_until
from ..processes import terminate_tree

log = logging.getLogger(__name__)

# --norestore: a LibreOffice ended by a reset must not greet the next task with a recovery dialog.
CALC, WRITER, IMPRESS = (["libreoffice", f"--{app}", "--norestore"] for app in ("calc", "writer", "impress"))
# Files a Linux desktop opens with a known program (``/setup/open_file``); the rest go to xdg-open.
OPENERS: dict[str, list[str]] = {
    ".txt": ["mousepad"], ".md": ["mousepad"], ".py": ["mousepad"], ".json": ["mousepad"], ".log": ["mousepad"],
    ".csv": CALC, ".xlsx": CALC, ".xls": CALC, ".ods": CALC, ".docx": WRITER, ".doc": WRITER, ".odt": WRITER,
    ".pptx": IMPRESS, ".odp": IMPRESS,
}


class DesktopError(Exception):
    """A desktop operation failed; ``status`` is the HTTP status the stock server would use."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


def sandboxed(argv: list[str] | str) -> list[str] | str:
    """What a task or an agent asks to run, inside the arena's sandbox when the server has one (a shell
    string runs through ``sh -c`` in it)."""
    sandbox = Sandbox.from_env()
    if sandbox is None:
        return argv
    if isinstance(argv, list) and argv and shutil.which(argv[0]) is None:
        # As a program run directly: one that does not exist cannot start (the stock 500), not a 127.
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", argv[0])
    return sandbox.wrap(["/bin/sh", "-c", argv] if isinstance(argv, str) else argv)


@dataclass
class Window:
    id: str
    desktop: int
    wm_class: str
    title: str
    pid: int = 0  # _NET_WM_PID; 0 when the program does not say


def _cardinal(window, atom: int, missing: int) -> int:  # noqa: ANN001 - an Xlib window
    prop = window.get_full_property(atom, X.AnyPropertyType)
    if prop is None or not len(prop.value):
        return missing
    value = int(prop.value[0])
    return value - (1 << 32) if value >= 1 << 31 else value  # 0xFFFFFFFF: on every desktop (-1)


def _describe(window, atoms: dict[str, int]) -> Window:  # noqa: ANN001 - an Xlib window
    """As wmctrl -lpx shows it: id, desktop (0 when unset), pid, ``instance.Class``, title."""
    name = window.get_full_property(atoms["_NET_WM_NAME"], atoms["UTF8_STRING"])
    if name is not None:
        title = name.value.decode("utf-8", "replace") if isinstance(name.value, bytes) else str(name.value)
    else:
        legacy = window.get_wm_name()
        title = legacy.decode("latin-1") if isinstance(legacy, bytes) else (legacy or "")
    wm_class = window.get_wm_class()
    return Window(f"0x{window.id:08x}", _cardinal(window, atoms["_NET_WM_DESKTOP"], 0),
                  ".".join(wm_class) if wm_class else "", title, _cardinal(window, atoms["_NET_WM_PID"], 0))


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie's window and sockets are gone already)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _fold_dashes(text: str) -> str:
    return text.replace("\u2014", "-").replace("\u2013", "-")


def run(argv: list[str], timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def expand_path(path: str) -> str:
    """``~``, ``$VARS``, and the arena's home alias (OSWorld's ``/home/user``, where the sandboxed apps see
    the home) onto the home this server sees."""
    path = os.path.expandvars(os.path.expanduser(path))
    alias = os.environ.get("ARENA_GYM_HOME_ALIAS", "").rstrip("/")
    if alias and (path == alias or path.startswith(alias + "/")):
        path = os.path.expanduser("~") + path[len(alias):]
    return path


def split_command(command: list[str] | str, shell: bool) -> list[str] | str:
    """The stock server's rule: a string without shell is split POSIX-style; ``~/`` args expand."""
    if isinstance(command, str):
        if shell:
            return command
        command = shlex.split(command)
    if not isinstance(command, list) or not all(isinstance(a, str) for a in command) or not command:
        raise DesktopError("'command' must be a non-empty list of strings or a string", 400)
    return [os.path.expanduser(a) if a.startswith("~/") else a for a in command]


class Desktop:
    """One X display's windows and programs."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    # ---- programs
    def launch(self, command: list[str] | str, shell: bool = False) -> None:
        argv = sandboxed(split_command(command, shell))
        self._reap()
        proc = subprocess.Popen(  # noqa: S603 - argument list, or the client's own shell command
            argv, shell=isinstance(argv, str), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        with self._lock:
            self._children.append(proc)

    def _reap(self) -> None:
        with self._lock:
            self._children = [p for p in self._children if p.poll() is None]

    def open_path(self, path: str, wait_s: float = 30.0) -> None:
        target = Path(expand_path(path))
        if not target.exists():
            raise DesktopError(f"File not found: {path}", 404)
        opener = OPENERS.get(target.suffix.lower())
        if target.is_dir():
            opener = ["xdg-open"] if shutil.which("xdg-open") else None
            if opener is None:
                raise DesktopError("no file manager on this desktop to open a folder", 500)
        if opener is None:
            opener = ["xdg-open"]
        if shutil.which(opener[0]) is None:
            raise DesktopError(f"cannot open {path}: {opener[0]} is not installed", 500)
        self.launch([*opener, str(target)])
        # As the OSWorld server does: answer once a window shows the file, so the next step finds it.
        if wait_s > 0 and not target.is_dir() and not self.wait_for_window(target.name, wait_s):
            raise DesktopError(f"opened {path}, but no window showed it within {wait_s:.0f} s", 500)

    # ---- windows (wmctrl speaks EWMH to any compliant window manager)
    def windows(self) -> list[Window]:
        """The window manager's client list (EWMH), read straight from the X server.

        Not through ``wmctrl -l``: it lists, then asks about each window, and one that closes in between
        (any closing app, a reset's close_all) fails the whole listing with BadWindow. Here such a
        window is skipped.
        """
        try:
            conn = xdisplay.Display()
        except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError) as exc:
            raise DesktopError(f"cannot reach the X display {os.environ.get('DISPLAY')!r}: {exc}") from None
        try:
            atoms = {name: conn.intern_atom(name) for name in
                     ("_NET_CLIENT_LIST", "_NET_WM_NAME", "_NET_WM_DESKTOP", "_NET_WM_PID", "UTF8_STRING")}
            clients = conn.screen().root.get_full_property(atoms["_NET_CLIENT_LIST"], X.AnyPropertyType)
            if clients is None:
                raise DesktopError("the window manager publishes no client list (_NET_CLIENT_LIST): is it running?")
            windows = []
            for wid in clients.value:
                try:
                    windows.append(_describe(conn.create_resource_object("window", wid), atoms))
                except (Xlib.error.BadWindow, Xlib.error.BadDrawable):
                    continue  # closed while we looked
            return windows
        finally:
            conn.close()

    def find_windows(self, name: str, strict: bool = False, by_class: bool = False) -> list[Window]:
        """Substring match (case-insensitive), or exact with ``strict``. Dashes are folded, so WAA's
        Windows titles ("a.xlsx — LibreOffice Calc") match their Linux form ("a.xlsx - LibreOffice Calc")."""
        want = _fold_dashes(name)

        def matches(w: Window) -> bool:
            value = _fold_dashes(w.wm_class if by_class else w.title)
            if strict:
                return value == want
            return want.lower() in value.lower()

        return [w for w in self.windows() if matches(w)]

    def wait_for_window(
        self, name: str, timeout: float, strict: bool = False, by_class: bool = False
    ) -> list[Window]:
        """Poll for a window (apps take seconds to map theirs) until ``timeout``; [] if none came."""
        try:
            return poll_until(lambda: self.find_windows(name, strict, by_class), timeout, interval=0.1,
                              what=f"window {name!r}")
        except PollTimeout:
            return []

    def activate(self, name: str, strict: bool = False, by_class: bool = False, timeout: float = 0.0) -> Window:
        found = self.wait_for_window(name, timeout, strict, by_class)
        if not found:
            raise DesktopError(f"Window {name} not found (empty results)", 404)
        run(["wmctrl", "-i", "-a", found[0].id])
        # The next step acts on whatever has the focus: answer once it is this window.
        try:
            poll_until(lambda: self.active_window_id() == int(found[0].id, 16), max(timeout, 5.0), interval=0.02,
                       what="the focus")
        except PollTimeout:
            raise DesktopError(f"Window {found[0].title!r} was found but did not take the focus", 500) from None
        return found[0]

    def active_window_id(self) -> int | None:
        """The focused window's id (EWMH ``_NET_ACTIVE_WINDOW``), None when there is none."""
        try:
            conn = xdisplay.Display()
        except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError):
            return None
        try:
            prop = conn.screen().root.get_full_property(conn.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
            return int(prop.value[0]) or None if prop is not None and len(prop.value) else None
        finally:
            conn.close()

    def close(self, name: str, strict: bool = False, by_class: bool = False) -> Window:
        found = self.find_windows(name, strict, by_class)
        if not found:
            raise DesktopError(f"Window {name} not found (empty results)", 404)
        run(["wmctrl", "-i", "-c", found[0].id])
        return found[0]

    def close_all(self, grace_s: float = 5.0) -> int:
        """Close every application window, then wait until the programs behind them have exited.

        Waiting matters: single-instance programs (mousepad, LibreOffice) hand the next task's ``open`` to
        a still-running old instance, which then dies with it, and the new window never comes. A program
        still running after ``grace_s``, or one that answered with a new window (a "save changes?"
        dialog), is ended: a reset wants a clean desktop, not a question.
        """
        targets = [w for w in self.windows() if w.desktop >= 0 and w.title]
        for w in targets:
            run(["wmctrl", "-i", "-c", w.id])
        closed_ids = {w.id for w in targets}
        pids = {w.pid for w in targets if w.pid > 1 and w.pid != os.getpid()}
        deadline = time.monotonic() + grace_s
        while pids and time.monotonic() < deadline:
            self._reap()
            pids = {p for p in pids if _running(p)}
            if any(w.pid in pids and w.id not in closed_ids for w in self.windows()):
                break  # it asks something instead of closing
            time.sleep(0.05)
        self._end(pids)
        return len(targets)

    def _end(self, pids: set[int]) -> None:
        pids = {p for p in pids if _running(p)}
        if pids:
            log.info("ending programs that did not close: %s", sorted(pids))
        for pid in pids:
            terminate_tree(pid, grace_s=2.0)
        self._reap()

    def active_window(self) -> tuple[str, list[int]]:
        """Title and [x0, y0, x1, y1] of the focused window; ('', []) when none."""
        result = run(["xdotool", "getactivewindow", "getwindowname", "getwindowgeometry", "--shell"])
        if result.returncode != 0:
            return "", []
        lines = result.stdout.splitlines()
        title = lines[0] if lines else ""
        geo = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
        try:
            x, y, w, h = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        except (KeyError, ValueError):
            return title, []
        return title, [x, y, x + w, y + h]

    def maximize_active(self) -> None:
        run(["wmctrl", "-r", ":ACTIVE:", "-b", "add,maximized_vert,maximized_horz"])

    # ---- clipboard (xclip: the CLIPBOARD selection, as Ctrl+C/Ctrl+V use)
    def clipboard_get(self) -> str:
        result = run(["xclip", "-selection", "clipboard", "-o"], timeout=5)
        return result.stdout if result.returncode == 0 else ""

    def clipboard_set(self, text: str) -> None:
        # xclip stays alive to own the selection: detach it rather than wait.
        proc = subprocess.Popen(
            ["xclip", "-selection", "clipboard", "-i"], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None
        proc.stdin.write(text.encode())
        proc.stdin.close()
        with self._lock:
            self._children.append(proc)

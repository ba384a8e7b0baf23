"""Agent code runs here, in an interpreter of its own, never in the server's process.

WAA runs ``/execute_windows`` code with ``exec`` inside its server, so code that calls ``exit()``,
raises ``KeyboardInterrupt`` or calls ``os._exit`` ends or breaks the server, and the env would read the
lost answer as an infrastructure failure (which a policy could learn to provoke to drop its failing
episodes). Here whatever the code does is the agent's own action error and the server keeps serving:

- the worker catches every exception, ``SystemExit`` and ``KeyboardInterrupt`` included;
- when the worker itself dies (``os._exit``, a crash) or overruns its deadline, the server reports the
  action's error, kills the worker and starts a fresh one;
- where Linux allows it, the worker runs in a PID namespace of its own, so it cannot signal the server,
  the display or the window manager (``os.kill(os.getppid(), 9)`` finds nothing to kill).

The protocol is one JSON object a line on the worker's stdin and stdout: ``{"op": "exec", "code": ...}``
-> ``{"error": str | null}``; ``{"op": "update", ...}`` (the ``/update_computer`` fields) and
``{"op": "clipboard"}`` -> ``{"clipboard": str | null}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

from ..arena.sandbox import Sandbox
from ..processes import terminate_tree
from .capture import DisplayDown

log = logging.getLogger(__name__)

# What the code printed is the stock server's channel for failure: any "error" in it fails the call.
_ERROR_WORD = "error"


class AgentWorker:
    """The server's handle on the worker process: start, run code with a deadline, restart."""

    def __init__(self, screen_size: tuple[int, int], isolate: bool = True, sandbox: Sandbox | None = None) -> None:
        self.screen_size = screen_size
        self.isolate = isolate
        self.sandbox = sandbox
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self._computer_state: dict[str, Any] | None = None

    # ---- life cycle
    def _command(self) -> list[str]:
        argv = [sys.executable, "-m", "arena_gym.server.agent_worker", str(self.screen_size[0]), str(self.screen_size[1])]
        if self.sandbox is not None:
            # The arena's sandbox: another account (it cannot signal the server), its own mounts and network.
            return self.sandbox.wrap(argv)
        unshare = shutil.which("unshare")
        if not (self.isolate and unshare):
            return argv
        # A PID namespace: the code sees only itself and what it starts. As root no user namespace is
        # needed; otherwise one maps the user to root inside it, where the kernel allows that.
        flags = ["--pid", "--fork", "--kill-child", "--mount", "--mount-proc"]
        if os.geteuid() != 0:
            flags = ["--user", "--map-root-user", *flags]
        return [unshare, *flags, *argv]

    def start(self) -> None:
        command = self._command()
        plain = command[command.index(sys.executable):] if self.sandbox is None else command
        proc = self._spawn(command)
        if proc is None and command != plain:
            log.warning("agent code runs without a PID namespace here (unshare failed); it can signal other processes")
            proc = self._spawn(plain)
        if proc is None:
            raise RuntimeError("the agent-code worker did not start")
        self.proc = proc
        if self._computer_state is not None:
            self._call({"op": "update", **self._computer_state}, 10.0)

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes] | None:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                start_new_session=True)
        try:
            ready = self._read(proc, time.monotonic() + 30.0)
        except (OSError, ValueError) as exc:
            log.warning("agent worker %s did not start: %s", command[0], exc)
            ready = None
        if not ready or not ready.get("ready"):
            _kill(proc)
            return None
        return proc

    def stop(self) -> None:
        if self.proc is not None:
            _kill(self.proc)
            self.proc = None

    def _restart(self) -> None:
        self.stop()
        self.start()

    # ---- calls
    @staticmethod
    def _read(proc: subprocess.Popen[bytes], deadline: float) -> dict[str, Any] | None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                return None  # the worker ended
            buf += chunk
        return json.loads(buf)

    def _call(self, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read(self.proc, time.monotonic() + timeout)

    def run(self, code: str, timeout: float) -> str | None:
        """Run agent code; the agent's error message, or None when it ran cleanly. Raises ``DisplayDown``
        when the worker's display connection is dead even after a fresh start (the code never ran)."""
        with self.lock:
            for attempt in range(2):
                try:
                    answer = self._call({"op": "exec", "code": code}, timeout)
                except TimeoutError:
                    self._restart()
                    return f"the action's code was still running after {timeout:g} s and was stopped"
                if answer is None:
                    code_ = self.proc.wait(5) if self.proc is not None else None
                    self._restart()
                    return f"the action's code ended its interpreter (exit status {code_})"
                if not answer.get("display_lost"):
                    return answer.get("error")
                # The display restarted under the worker; the code did not run: start afresh, once.
                log.info("agent worker lost its display (attempt %d); restarting it", attempt + 1)
                self.stop()
            raise DisplayDown(f"the X display {os.environ.get('DISPLAY', '')} is not reachable by agent code")

    def update(self, state: dict[str, Any]) -> None:
        with self.lock:
            self._computer_state = state
            try:
                self._call({"op": "update", **state}, 10.0)
            except TimeoutError:
                self._restart()

    def accessibility(self) -> str:
        """The AT-SPI tree as seen from inside the sandbox (whose account owns the session bus)."""
        with self.lock:
            try:
                answer = self._call({"op": "accessibility"}, 60.0)
            except TimeoutError:
                self._restart()
                return ""
            return "" if answer is None else str(answer.get("tree", ""))

    def clipboard(self) -> str | None:
        with self.lock:
            try:
                answer = self._call({"op": "clipboard"}, 5.0)
            except TimeoutError:
                self._restart()
                return None
            return None if answer is None else answer.get("clipboard")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    terminate_tree(proc, grace_s=0)  # the worker and whatever the agent's code started


# ---- the worker's side

def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the action's code called exit({exc.code!r}); the episode goes on"
    if isinstance(exc, KeyboardInterrupt):
        return "the action's code raised KeyboardInterrupt; the episode goes on"
    return f"{type(exc).__name__}: {exc}"


def _display_ok() -> bool:
    """A round trip on pyautogui's own X connection (it is made once, at import, and dies with the display)."""
    try:
        from .keyboard import pyautogui_x11

        pyautogui_x11()._display.get_input_focus()
    except Exception:  # ConnectionClosedError, OSError: the display went away under this process
        return False
    return True


def _serve(width: int, height: int) -> None:
    import pyautogui

    from .computer import Computer
    from .desktop import Desktop
    from .keyboard import fix_pyautogui_keymap

    pyautogui.PAUSE = 0  # as the stock server: no pause after every call
    pyautogui.FAILSAFE = False
    fix_pyautogui_keymap()
    computer = Computer(Desktop(), (width, height))
    # The protocol owns the real stdin and stdout, under other names: agent code sees an empty stdin
    # (``exit()`` closes ``sys.stdin``) and prints into a buffer.
    requests = os.fdopen(os.dup(sys.stdin.fileno()), "r")
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the worker
    sys.stdout = io.StringIO()

    def answer(payload: dict[str, Any]) -> None:
        channel.write(json.dumps(payload) + "\n")
        channel.flush()

    answer({"ready": True, "pid": os.getpid()})
    for line in requests:
        message = json.loads(line)
        op = message.pop("op")
        if op == "exec" and not _display_ok():
            answer({"display_lost": True})  # nothing ran: the server starts a fresh worker
        elif op == "exec":
            out = io.StringIO()
            error = None
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(message["code"], "<action>", "exec"),  # noqa: S102 - the protocol's purpose
                         {"computer": computer, "human": None, "__name__": "__agent__"})
            except BaseException as exc:  # noqa: BLE001 - whatever agent code does is its own error
                error = _describe(exc)
            printed = out.getvalue()
            if error is None and _ERROR_WORD in printed.lower():
                error = printed
            answer({"error": error})
        elif op == "update":
            computer.update(message.get("rects") or [], message.get("window_rect") or [], message.get("screenshot"),
                            message.get("scale") or (1.0, 1.0), message.get("clipboard_content"),
                            bool(message.get("swap_ctrl_alt")))
            answer({"ok": True})
        elif op == "clipboard":
            answer({"clipboard": computer.clipboard.clipboard_content})
        elif op == "accessibility":
            from .accessibility import accessibility_tree

            answer({"tree": accessibility_tree()})


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))

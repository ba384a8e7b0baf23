"""Is the app in front ready? A round trip through its own event queue, then a still screen.

A still screen is not readiness: an app that is loading a document, or that the machine has not
scheduled for a while, shows a still frame from before it handled the input. What tells is the app
itself. EWMH's ``_NET_WM_PING`` is a client message the app answers from its event loop, after it has
read the input queued before it; an app that is busy (loading, or stopped by a loaded machine)
answers late or not at all. So the settle here is:

1. the focused window answers a ping promptly (its event loop is running and has read the input);
2. then the screen stays unchanged for the quiet window;
3. then the app shows it is running and drawing nothing: two prompt answers ``CONFIRM_MS`` apart with
   the screen the same frame throughout (an app that read the input and was then descheduled would
   draw as soon as it runs again, so a quiet window alone can pass on a stale frame).

Windows that do not take part in the ping protocol (xterm, plain X clients) skip steps 1 and 3. All of
it is bounded by the caller's deadline; the result says whether readiness was reached.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import Xlib.error
from Xlib import X, protocol
from Xlib import display as xdisplay

from .capture import Grab, Screen
from .damage import DamageWatch

log = logging.getLogger(__name__)

# An idle GTK or VCL event loop answers in ~2 ms; a loaded machine adds some. Busy or stopped apps
# take 50 ms to seconds.
PROMPT_MS = 30.0
# Long enough for a running GTK/VCL app to paint what it has: more than one frame-clock tick (16.7 ms).
CONFIRM_MS = 20.0


@dataclass
class Ping:
    """One ping's outcome: ``rtt_ms`` (inf when no answer in time), or ``supported=False``."""

    supported: bool
    rtt_ms: float = float("inf")

    @property
    def prompt(self) -> bool:
        return not self.supported or self.rtt_ms <= PROMPT_MS


class AppPinger:
    """``_NET_WM_PING`` to the active window, over this thread's own X connection."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _conn(self) -> xdisplay.Display:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = xdisplay.Display()
            # Apps send the answer to the root window, for the window manager; a client other than the
            # window manager sees it by selecting what the answer is sent to: GTK and VCL send it to
            # SubstructureNotify, Qt (VLC) to StructureNotify.
            conn.screen().root.change_attributes(event_mask=X.SubstructureNotifyMask | X.StructureNotifyMask)
            self._local.conn = conn
            self._local.serial = 0
        return conn

    def reset(self) -> None:
        """Drop this thread's X connection (after the display went away)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a dead connection may fail to close
                log.debug("closing a dead X connection failed", exc_info=True)

    def active_window(self) -> int | None:
        conn = self._conn()
        prop = conn.screen().root.get_full_property(conn.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
        wid = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        return wid or None

    def ping(self, timeout_s: float, window: int | None = None) -> Ping:
        """Ping ``window`` (default: the active one) and wait up to ``timeout_s`` for its answer."""
        try:
            return self._ping(timeout_s, window)
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError, OSError) as exc:
            log.debug("ping failed: %s", exc)
            self.reset()
            return Ping(supported=False)

    def _ping(self, timeout_s: float, window: int | None) -> Ping:
        conn = self._conn()
        wid = window or self.active_window()
        if wid is None:
            return Ping(supported=False)
        target = conn.create_resource_object("window", wid)
        protocols = conn.intern_atom("WM_PROTOCOLS")
        ping_atom = conn.intern_atom("_NET_WM_PING")
        try:
            if ping_atom not in (target.get_wm_protocols() or []):
                return Ping(supported=False)
        except (Xlib.error.BadWindow, Xlib.error.BadDrawable):
            return Ping(supported=False)  # it closed meanwhile
        while conn.pending_events():  # answers to earlier pings, map/configure notices
            conn.next_event()
        self._local.serial = (self._local.serial + 1) & 0x7FFFFFFF
        stamp = self._local.serial
        event = protocol.event.ClientMessage(window=target, client_type=protocols,
                                             data=(32, [ping_atom, stamp, wid, 0, 0]))
        target.send_event(event, event_mask=X.NoEventMask)
        conn.flush()
        start = time.monotonic()
        deadline = start + timeout_s
        while True:
            while conn.pending_events():
                answer = conn.next_event()
                if (answer.type == X.ClientMessage and answer.data[1][0] == ping_atom
                        and answer.data[1][1] == stamp):
                    return Ping(True, (time.monotonic() - start) * 1000)
            left = deadline - time.monotonic()
            if left <= 0:
                return Ping(True)
            # Wait on the connection's socket rather than spinning.
            select.select([conn.fileno()], [], [], min(left, 0.05))


def wait_prompt(pinger: AppPinger, deadline: float) -> Ping | None:
    """Ping the active window until it answers promptly (or turns out not to take pings); None when
    ``deadline`` passed first."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        answer = pinger.ping(min(left, 1.0))
        if answer.prompt:
            return answer


def settle(screen: Screen, pinger: AppPinger, timeout_s: float, stable_ms: float, interval_ms: float,
           fixed_wait_s: float = 0.0, watch: DamageWatch | None = None) -> tuple[Grab, bool, float]:
    """The frame once the app in front is ready (see the module's doc), whether it got ready before
    ``timeout_s``, and the milliseconds spent. ``timeout_s <= 0``: the frame now, no waiting.

    With a damage ``watch`` (started before the action) the quiet window is measured from the last
    drawing the X server reports, and "still" means nothing was drawn; the frame is grabbed after both,
    so it never predates what the action drew. Without one, frames are grabbed and compared."""
    start = time.monotonic()
    if fixed_wait_s:
        time.sleep(fixed_wait_s)
    if timeout_s <= 0:
        return screen.grab(), True, (time.monotonic() - start) * 1000
    deadline = start + fixed_wait_s + timeout_s

    def spent() -> float:
        return (time.monotonic() - start) * 1000

    if watch is not None and watch.usable:
        return _settle_on_damage(screen, pinger, watch, deadline, stable_ms, spent)
    while True:
        if wait_prompt(pinger, deadline) is None:
            return screen.grab(), False, spent()
        frame, stable = screen.quiet(deadline, stable_ms, interval_ms)
        if not stable:
            return frame, False, spent()
        if _running_and_still(screen, pinger, frame, deadline):
            return frame, True, spent()
        if time.monotonic() >= deadline:
            return frame, False, spent()


def _settle_on_damage(screen: Screen, pinger: AppPinger, watch: DamageWatch, deadline: float, stable_ms: float,
                      spent: Callable[[], float]) -> tuple[Grab, bool, float]:
    """Steps 1-3 of the module's doc with "nothing changed" read from damage events, step 3 overlapped
    with the quiet window: once the screen has been still for ``stable_ms - CONFIRM_MS`` the app is pinged;
    ready when it answers promptly, nothing is drawn for the rest of the window and ``CONFIRM_MS`` after
    that answer, and it answers promptly again. (Two prompt answers ``CONFIRM_MS`` apart on a still screen,
    as before, without waiting for them one after the other.)"""
    while True:
        if wait_prompt(pinger, deadline) is None:
            return screen.grab(), False, spent()
        if not watch.quiet(deadline, max(0.0, stable_ms - CONFIRM_MS)):
            return screen.grab(), False, spent()
        still_from = watch.last_change
        first = wait_prompt(pinger, deadline)
        if first is None:
            return screen.grab(), False, spent()
        until = still_from + stable_ms / 1000
        if first.supported:
            until = max(until, time.monotonic() + CONFIRM_MS / 1000)
        still = _nothing_drawn_until(watch, still_from, until, deadline)
        if still and (not first.supported or (pinger.ping(PROMPT_MS / 1000).prompt
                                              and not watch.changed_since(still_from))):
            return screen.grab(), True, spent()
        if time.monotonic() >= deadline:
            return screen.grab(), False, spent()


def _nothing_drawn_until(watch: DamageWatch, still_from: float, until: float, deadline: float) -> bool:
    while True:
        watch.poll()
        if watch.last_change > still_from:
            return False
        now = time.monotonic()
        if now >= until:
            return True
        if now >= deadline:
            return False
        watch.poll(min(until, deadline) - now)


def _running_and_still(screen: Screen, pinger: AppPinger, frame: Grab, deadline: float) -> bool:
    """Two prompt pings ``CONFIRM_MS`` apart, the screen still ``frame`` at both (step 3)."""
    answer = wait_prompt(pinger, deadline)
    if answer is None or screen.grab().raw != frame.raw:
        return False
    if not answer.supported:
        return True
    time.sleep(CONFIRM_MS / 1000)
    return pinger.ping(PROMPT_MS / 1000).prompt and screen.grab().raw == frame.raw


def save_and_wait(path: str, timeout_s: float = 60.0, idle_pings: int = 3, idle_span_s: float = 1.5) -> bool:
    """Press Ctrl+S in the window in front and wait until ``path`` is written (True), or until the app has
    answered ``idle_pings`` pings promptly over ``idle_span_s`` without writing it: it had nothing to save
    (False). Saving runs on an app's main loop, so a busy app does not answer promptly meanwhile."""
    import os

    import pyautogui

    from .desktop import expand_path

    target = expand_path(path)

    def stamp() -> int:
        try:
            return os.stat(target).st_mtime_ns
        except FileNotFoundError:
            return -1

    before = stamp()
    pyautogui.hotkey("ctrl", "s")
    pinger = AppPinger()
    deadline = time.monotonic() + timeout_s
    prompt_times: list[float] = []
    while time.monotonic() < deadline:
        if stamp() != before:
            return True
        answer = pinger.ping(0.25)
        now = time.monotonic()
        if answer.supported and answer.prompt:
            prompt_times.append(now)
            recent = [t for t in prompt_times if now - t <= idle_span_s * 2]
            if len(recent) >= idle_pings and recent[-1] - recent[0] >= idle_span_s:
                return stamp() != before
        time.sleep(0.1)
    return stamp() != before


def main(argv: list[str] | None = None) -> int:
    """``python -m arena_gym.server.readiness save PATH``: what the local suite's tasks run to save before
    scoring. Prints SAVED or UNCHANGED (what a task's ``until`` can match) and exits 0 either way."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "save":
        print("usage: python -m arena_gym.server.readiness save PATH", file=sys.stderr)
        return 2
    print("SAVED" if save_and_wait(args[1]) else "UNCHANGED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""When did the screen last change? The X server says so itself: DAMAGE events on the root window.

Frame comparison needs full-screen grabs every few milliseconds and still only samples; a damage event
comes for every drawing to the screen, a fraction of a millisecond after it. The settle's quiet window is
measured from the last one. One connection, used under the server's input lock (one settle at a time).
"""

from __future__ import annotations

import logging
import select
import time
from typing import Any

from .capture import DisplayDown

log = logging.getLogger(__name__)


class DamageWatch:
    """``last_change``: the monotonic time of the latest damage seen (or of ``start()``, if later)."""

    def __init__(self) -> None:
        self._conn: Any = None
        self._damage: int | None = None
        self._broken = False
        self.last_change = 0.0

    @property
    def usable(self) -> bool:
        return self._open() is not None

    def _open(self) -> Any:
        if self._conn is not None or self._broken:
            return self._conn
        try:
            from Xlib import display as xdisplay
            from Xlib.ext import damage

            conn = xdisplay.Display()
            if not conn.has_extension("DAMAGE"):
                log.info("the X server has no DAMAGE extension: the settle compares frames")
                self._broken = True
                conn.close()
                return None
            conn.damage_query_version()
            self._damage = conn.screen().root.damage_create(damage.DamageReportNonEmpty)
            conn.flush()
            self._conn = conn
        except Exception as exc:  # no display now: frames are compared this time, and it is tried again
            log.info("no damage events (%s): the settle compares frames", exc)
            return None
        return self._conn

    def drop(self) -> None:
        """Forget the connection (the display died); the next use connects afresh."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a dead display's connection may fail to close: it is gone either way
                pass

    def start(self) -> None:
        """An action is about to run: what changed before it does not count."""
        self.poll()
        self.last_change = time.monotonic()

    def poll(self, wait_s: float = 0.0) -> None:
        """Read the damage events that have come (waiting up to ``wait_s`` for the first)."""
        conn = self._open()
        if conn is None:
            return
        try:
            if wait_s > 0 and not conn.pending_events():
                select.select([conn.fileno()], [], [], wait_s)
            seen = False
            while conn.pending_events():
                event = conn.next_event()
                if event.type == conn.extension_event.DamageNotify:
                    seen = True
            if seen:
                self.last_change = time.monotonic()
                # NonEmpty reports once until the damage is taken away: take it, to hear of the next.
                conn.damage_subtract(self._damage)
                conn.flush()
        except Exception as exc:  # the display went away under the connection
            log.info("damage watch lost its display: %s", exc)
            self.drop()
            raise DisplayDown(f"the X display went away: {exc or type(exc).__name__}") from None

    def quiet(self, deadline: float, quiet_ms: float) -> bool:
        """Wait until nothing was drawn for ``quiet_ms`` (True), or until ``deadline`` (False)."""
        while True:
            self.poll()
            now = time.monotonic()
            left = quiet_ms / 1000 - (now - self.last_change)
            if left <= 0:
                return True
            if now >= deadline:
                return False
            self.poll(min(left, deadline - now))

    def changed_since(self, moment: float) -> bool:
        self.poll()
        return self.last_change > moment

"""Poll until a deadline: the one way arena-gym waits for something to become true (never sleep and hope)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class PollTimeout(TimeoutError):
    """What was waited for did not come before the deadline; ``last`` is the last value seen."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"{what} did not happen within {timeout:g} s")
        self.what, self.timeout, self.last = what, timeout, last


def poll_until(check: Callable[[], T], timeout: float, *, interval: float = 0.05, what: str = "the condition",
               deadline: float | None = None) -> T:
    """The first truthy value of ``check()``, called every ``interval`` seconds; ``PollTimeout`` once
    ``timeout`` (or the absolute monotonic ``deadline``) has passed. ``check`` runs at least once."""
    end = deadline if deadline is not None else time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        left = end - time.monotonic()
        if left <= 0:
            raise PollTimeout(what, timeout if deadline is None else max(0.0, timeout), value)
        time.sleep(min(interval, left))

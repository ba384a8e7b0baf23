"""Tests wait the way the package does (arena_gym.polling), failing the test when the deadline passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from arena_gym.polling import PollTimeout, poll_until

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, what: str = "condition") -> T:
    """Return the first truthy value of ``check()``; fail the test if none comes before the deadline. An
    exception from ``check`` counts as not yet (the thing polled may not exist yet)."""
    last: list[object] = [None]

    def attempt() -> T | None:
        try:
            value = check()
        except Exception as exc:
            last[0] = exc
            return None
        last[0] = value
        return value

    try:
        return poll_until(attempt, timeout, interval=interval, what=what)  # type: ignore[return-value]
    except PollTimeout:
        raise AssertionError(f"{what} did not hold within {timeout} s (last: {last[0]!r})") from None

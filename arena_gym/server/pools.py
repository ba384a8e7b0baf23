"""Thread pools per kind of work, so slow routes cannot starve health checks and screenshots.

Starlette runs blocking handlers in one shared pool (40 threads). Setup routes wait seconds by design
(a window to map, a program to end, a command to run), so 40 such calls would leave ``/screenshot`` and
``/probe`` queueing behind them. Slow work runs here, at most ``SLOW_THREADS`` at a time; the shared
pool stays free for observations and actions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
SLOW_THREADS = 8
_slow: anyio.CapacityLimiter | None = None


async def slow(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking ``fn(*args)`` in the pool for slow work (setup, commands, listings, accessibility)."""
    global _slow
    if _slow is None:  # made on first use: a limiter belongs to the running event loop
        _slow = anyio.CapacityLimiter(SLOW_THREADS)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_slow)

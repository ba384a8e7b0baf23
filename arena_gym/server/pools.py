"""Thread pools per kind of work, so slow routes cannot starve health checks and screenshots.

Starlette runs blocking handlers in one shared pool (40 threads). Setup routes wait seconds by design
(a window to map, a program to end, a command to run), so 40 such calls would leave ``/screenshot`` and
``/probe`` queueing behind them. Slow work runs here, at most ``SLOW_THREADS`` at a time, and frames
(CPU-bound grabs and encodes) at most ``FRAME_THREADS``; the shared pool stays free for actions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
SLOW_THREADS = 8
# Grabbing and encoding a frame is CPU work: more threads than cores only fight over the GIL and the
# event loop (which answers /probe) with it.
FRAME_THREADS = 3
_limiters: dict[str, anyio.CapacityLimiter] = {}


def _limiter(kind: str, size: int) -> anyio.CapacityLimiter:
    if kind not in _limiters:  # made on first use: a limiter belongs to the running event loop
        _limiters[kind] = anyio.CapacityLimiter(size)
    return _limiters[kind]


async def slow(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking ``fn(*args)`` in the pool for slow work (setup, commands, listings, accessibility)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_limiter("slow", SLOW_THREADS))


async def frames(fn: Callable[..., T], *args: Any) -> T:
    """Run a frame grab and encode, at most ``FRAME_THREADS`` at a time."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_limiter("frames", FRAME_THREADS))

"""Timing helpers shared by the benchmarks: medians and p90s of repeated calls, printed as a table."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def measure(name: str, fn: Callable[[], object], n: int = 50, warmup: int = 3) -> Figure:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return Figure(name, samples)


def table(rows: list[tuple[Figure, float | None]], title: str) -> str:
    """Rows of (figure, baseline median in ms or None) -> a fixed-width table with ratios."""
    width = max(len(f.name) for f, _ in rows) + 2
    lines = [title, f"{'':{width}}{'median ms':>11}{'p90 ms':>10}{'x floor':>9}"]
    for fig, base in rows:
        ratio = f"{fig.median / base:8.2f}x" if base else f"{'':>9}"
        lines.append(f"{fig.name:{width}}{fig.median:11.2f}{fig.p90:10.2f}{ratio}")
    return "\n".join(lines)


class LoopServer:
    """A server on an asyncio loop of its own thread, on 127.0.0.1: ``start_server(loop)`` (a subclass's)
    makes the listening server; ``port`` is known once entered; leaving stops the loop and cancels what
    still runs on it."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=type(self).__name__)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractServer:
        raise NotImplementedError

    def __enter__(self) -> LoopServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = self.start_server(loop)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()


class EmptyHTTPServer(LoopServer):
    """The cheapest HTTP answer loopback allows (asyncio, fixed bytes): the round-trip floor."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    def start_server(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractServer:
        class Proto(asyncio.Protocol):
            def connection_made(self, transport):  # noqa: ANN001
                self.transport = transport
                self.buf = b""

            def data_received(self, data: bytes) -> None:
                self.buf += data
                while b"\r\n\r\n" in self.buf:
                    _, self.buf = self.buf.split(b"\r\n\r\n", 1)
                    self.transport.write(EmptyHTTPServer.RESPONSE)

        return loop.run_until_complete(loop.create_server(Proto, "127.0.0.1", 0))


def start_guest_server(argv: list[str], env: dict[str, str], cwd: str | os.PathLike[str], url: str,
                       what: str, timeout: float = 60.0) -> subprocess.Popen[bytes]:
    """Start an OSWorld-dialect server (the real one, or the test double) and wait until its /platform
    answers; raise, saying how to run it by hand, if it exits first."""
    import httpx

    from arena_gym.polling import poll_until

    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}): run {' '.join(argv)} by hand from {cwd}")
        try:
            return httpx.get(url + "/platform", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    poll_until(up, timeout, what=f"{what}'s /platform")
    return proc

"""A TCP relay on loopback that delivers every byte a fixed time after it arrived, in each direction:
a link with a round-trip time of ``2 * one_way_ms`` and no bandwidth limit.

It stands in for ``tc qdisc ... netem delay`` where the kernel has no netem scheduler (``tc`` answers
"Specified qdisc kind is unknown"). Like netem it delays packets in flight and keeps their order; unlike
netem it delays the relay's reads rather than the kernel's packets, so TCP's own handshake is not delayed
(each figure's connection is kept alive, so that does not show in them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from bench.common import LoopServer


class DelayRelay(LoopServer):
    def __init__(self, target_port: int, one_way_ms: float, target_host: str = "127.0.0.1") -> None:
        super().__init__()
        self.target = (target_host, target_port)
        self.delay = one_way_ms / 1000

    def start_server(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractServer:
        return loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        except asyncio.CancelledError:  # the relay is stopping; asyncio's start_server would log a cancelled task
            pass
        finally:
            client_w.close()
            server_w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                with contextlib.suppress(OSError):
                    await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while True:
                chunk = await reader.read(256 * 1024)
                queue.put_nowait((time.monotonic() + self.delay, chunk))
                if not chunk:
                    break
        except OSError:
            queue.put_nowait((time.monotonic(), b""))
        await sender

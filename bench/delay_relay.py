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
import threading
import time


class DelayRelay:
    def __init__(self, target_port: int, one_way_ms: float, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.delay = one_way_ms / 1000
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="delay-relay")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayRelay:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay relay did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()

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

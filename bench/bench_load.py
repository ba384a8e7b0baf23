"""Load on one local arena's server (loopback only, bounded in time): N concurrent clients mixing
screenshots, commands and file reads for a fixed time, while a prober measures /probe every 50 ms.

Prints requests/s, errors, /probe p50/p99 against an idle-server baseline measured first in the same run,
and the server's resident memory after warm-up and at the end (with the agent worker).

    .venv/bin/python bench/bench_load.py [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena_gym.arena import LocalArena  # noqa: E402


def _rss_mb(pid: int) -> float:
    """The server process's own resident memory (its children come and go with the commands it runs)."""
    return psutil.Process(pid).memory_info().rss / 2**20


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _prober(url: str, headers: dict[str, str], seconds: float, out: Any) -> None:
    """In a process of its own, so the load generator's event loop is not what gets measured."""
    samples = []
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        while time.monotonic() < end:
            t0 = time.perf_counter()
            if http.get("/probe").status_code == 200:
                samples.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.05)
    out.put(samples)


def probe_for(url: str, headers: dict[str, str], seconds: float) -> tuple[Any, Any]:
    queue: Any = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_prober, args=(url, headers, seconds, queue))
    proc.start()
    return proc, queue


async def _client(n: int, http: httpx.AsyncClient, stop: asyncio.Event, note: Path, counts: dict[str, int]) -> None:
    kinds = ("screenshot", "execute", "file")
    i = n
    while not stop.is_set():
        kind = kinds[i % len(kinds)]
        i += 1
        try:
            if kind == "screenshot":
                r = await http.get("/screenshot", params={"format": "jpeg"})
            elif kind == "execute":
                r = await http.post("/execute", json={"command": ["true"]})
            else:
                r = await http.post("/file", data={"file_path": str(note)})
            counts["ok" if r.status_code == 200 else "errors"] += 1
        except httpx.HTTPError:
            counts["errors"] += 1


async def run(url: str, headers: dict[str, str], clients: int, seconds: float, note: Path, server_pid: int) -> None:
    limits = httpx.Limits(max_connections=clients + 5)
    proc, queue = probe_for(url, headers, 3.0)
    idle = queue.get()
    proc.join()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        counts = {"ok": 0, "errors": 0}
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_client(i, http, stop, note, counts)) for i in range(clients)]
        warmup = min(5.0, seconds / 4)
        await asyncio.sleep(warmup)
        proc, queue = probe_for(url, headers, seconds)
        warm_rss = _rss_mb(server_pid)
        warm_ok = counts["ok"]
        t_warm = time.perf_counter()
        await asyncio.sleep(seconds / 2)
        mid_rss = _rss_mb(server_pid)
        await asyncio.sleep(seconds / 2)
        stop.set()
        await asyncio.gather(*tasks)
        end_rss = _rss_mb(server_pid)
        rate = (counts["ok"] - warm_ok) / (time.perf_counter() - t_warm)
    loaded = queue.get()
    proc.join()

    print(f"load: {clients} clients for {seconds:g} s after warm-up, mixing screenshot (JPEG), execute and file")
    print(f"  requests served          {counts['ok']:>8}  ({rate:.0f}/s)")
    print(f"  errors                   {counts['errors']:>8}")
    print(f"  /probe idle   p50 / p99  {statistics.median(idle):8.2f} / {_pct(idle, 0.99):.2f} ms  (baseline)")
    print(f"  /probe loaded p50 / p99  {statistics.median(loaded):8.2f} / {_pct(loaded, 0.99):.2f} ms  "
          f"({_pct(loaded, 0.99) / max(_pct(idle, 0.99), 1e-3):.1f}x the idle p99; target p99 < 100 ms)")
    print(f"  server RSS after warm-up {warm_rss:8.1f} MB, half-way {mid_rss:.1f} MB, at the end {end_rss:.1f} MB "
          f"(second half {end_rss - mid_rss:+.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with LocalArena(apps=["xterm"], size=(1280, 800)) as arena:
        note = arena.write("bench/note.txt", "x" * 4096)
        asyncio.run(run(arena.url, arena.auth_headers(), args.clients, args.seconds, note, arena.pids()["server"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

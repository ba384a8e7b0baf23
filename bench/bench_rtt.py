"""A step over a link with a real round-trip time: the step's time against round trips x RTT, for our
server's one-round-trip step and for the stock protocol (an action call, then screenshots; the client
settles by polling them), in one run on one desktop.

    .venv/bin/python bench/bench_rtt.py [--rtt-ms 30] [--n 20] \\
        [--osworld-server CHECKOUT --osworld-python VENV/bin/python]

The link is bench/delay_relay.py (each byte delivered RTT/2 after it came, both ways) in front of each
server. Frames go as PNG, as they would from a remote VM. "Stock protocol on our server" is our server
addressed with the stock calls only (its extensions ignored), so the difference is the protocol; the
OSWorld guest server (a checkout and its virtualenv, see bench_stock_exec.py) is the real stock peer,
whose actions are a ``python -c`` each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arena_gym.arena import LocalArena  # noqa: E402
from arena_gym.processes import terminate_tree  # noqa: E402
from arena_gym.protocol import ArenaClient, Capabilities, SettleSpec  # noqa: E402
from bench.bench_stock_exec import start_osworld  # noqa: E402
from bench.delay_relay import DelayRelay  # noqa: E402


def click(i: int) -> str:
    x, y = (300, 300) if i % 2 else (700, 450)
    return f"import pyautogui; pyautogui.click({x}, {y})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtt-ms", type=float, default=30.0)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--osworld-server", type=Path)
    parser.add_argument("--osworld-python")
    args = parser.parse_args()
    if bool(args.osworld_server) != bool(args.osworld_python):
        parser.error("--osworld-server and --osworld-python go together")
    settles = {"settle off": SettleSpec(timeout_s=0), "default settle": SettleSpec()}

    with LocalArena(apps=["xterm"]) as arena:
        port = int(arena.url.rsplit(":", 1)[1])
        osworld = None
        relays = {"ours": DelayRelay(port, args.rtt_ms / 2).__enter__()}
        if args.osworld_server:
            osworld, url = start_osworld(args.osworld_server, args.osworld_python, arena.display or "")
            relays["osworld"] = DelayRelay(int(url.rsplit(":", 1)[1]), args.rtt_ms / 2).__enter__()
        try:
            with httpx.Client(base_url=relays["ours"].url) as raw:
                raw.get("/probe")
                rtts = []
                for _ in range(10):
                    rtts.append(raw.get("/probe").elapsed.total_seconds() * 1000)
            rtt = statistics.median(rtts)
            clients = {
                "ours: one-round-trip step": ArenaClient(relays["ours"].url, token=arena.token, shared_frames=False),
                "ours, stock protocol": ArenaClient(relays["ours"].url, token=arena.token, shared_frames=False),
            }
            if "osworld" in relays:
                clients["OSWorld server (python -c)"] = ArenaClient(relays["osworld"].url, shared_frames=False)
            for vm in clients.values():
                vm.discover()
            clients["ours, stock protocol"]._capabilities = Capabilities()  # the stock calls only
            rows = []
            for settle_name, settle in settles.items():
                figures: dict[str, list[tuple[float, int]]] = {name: [] for name in clients}
                for i in range(args.n + 2):
                    for name, vm in clients.items():
                        result = vm.step(click(i), settle)
                        if i >= 2:
                            figures[name].append((result.timings["step_ms"], result.round_trips))
                for name, samples in figures.items():
                    ms = statistics.median(s for s, _ in samples)
                    trips = statistics.median(t for _, t in samples)
                    rows.append((f"{name}, {settle_name}", ms, trips, trips * rtt))
            for vm in clients.values():
                vm.close()
        finally:
            for relay in relays.values():
                relay.__exit__()
            if osworld is not None:
                terminate_tree(osworld)

    print(f"link: {args.rtt_ms:.0f} ms asked, {rtt:.1f} ms measured (keep-alive GET /probe through the relay)")
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'':{width}}{'step ms':>9}{'trips':>7}{'trips x RTT':>13}{'rest ms':>9}")
    for name, ms, trips, floor in rows:
        print(f"{name:{width}}{ms:9.1f}{trips:7.0f}{floor:13.1f}{ms - floor:9.1f}")


if __name__ == "__main__":
    main()

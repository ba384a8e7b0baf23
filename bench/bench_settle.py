"""The default step's settle: damage events (now) against frame comparison with the 120 ms window (before),
the same actions on two local arenas, interleaved in one run; and both against a raw screenshot call.

    .venv/bin/python bench/bench_settle.py [--n 40]

Each step types one character into the text editor of the local task te-type-hello (as the P1 check
does) and every 8th presses Enter; the env resets every 12 steps. Printed: median and p90 step time,
the server's settle time (X-Arena-Settle-Ms), and ratios to the before figure and to the raw screenshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gymnasium as gym  # noqa: E402
import httpx  # noqa: E402

import arena_gym  # noqa: E402,F401
from arena_gym.arena import LocalArena  # noqa: E402
from bench.common import Figure, table  # noqa: E402


def arena(source: str) -> LocalArena:
    os.environ["ARENA_SETTLE_SOURCE"] = source  # read by the arena's server when it starts
    try:
        return LocalArena(apps=[]).start()
    finally:
        os.environ.pop("ARENA_SETTLE_SOURCE", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    arenas = {"before": arena("frames"), "after": arena("damage")}
    settle = {"before": {"stable_ms": 120.0}, "after": {}}  # before: today's 120 ms window, compared frames
    try:
        envs = {name: gym.make("LocalDesktop-v0", server_url=a.url, token=a.token, settle=settle[name],
                               tasks={"ids": ["te-type-hello"]}) for name, a in arenas.items()}
        steps: dict[str, list[float]] = {name: [] for name in envs}
        settles: dict[str, list[float]] = {name: [] for name in envs}
        quiet: list[float] = []
        shots: list[float] = []
        http = httpx.Client(timeout=30)
        for env in envs.values():
            env.reset(seed=0)
        for i in range(args.n):
            t0 = time.perf_counter()
            http.get(arenas["after"].url + "/screenshot")
            shots.append((time.perf_counter() - t0) * 1000)
            action = {"action_type": "PRESS", "key": "enter"} if i % 8 == 7 else {
                "action_type": "TYPING", "text": "ab"[i % 2]}
            for name, env in envs.items():
                t0 = time.perf_counter()
                _, _, _, _, info = env.step(action)
                steps[name].append((time.perf_counter() - t0) * 1000)
                settles[name].append(info["timings"]["settle_ms"])
                if name == "after" and "since_drawn_ms" in info["timings"]:
                    quiet.append(info["timings"]["since_drawn_ms"])
                if i % 12 == 11:
                    env.reset(seed=0)
        for env in envs.values():
            env.close()
    finally:
        for a in arenas.values():
            a.stop()
    before = Figure("default step before (frames, 120 ms)", steps["before"])
    after = Figure("default step after (damage events)", steps["after"])
    raw = Figure("raw PNG screenshot call", shots)
    print(table([(raw, None), (before, raw.median), (after, raw.median)], "x floor = ratio to the raw screenshot"))
    print(f"settle inside the step: before {statistics.median(settles['before']):.0f} ms, "
          f"after {statistics.median(settles['after']):.0f} ms (medians, X-Arena-Settle-Ms)")
    print(f"default step: {before.median:.0f} ms -> {after.median:.0f} ms: {before.median / after.median:.2f}x faster")
    if quiet:
        print(f"the screen's stillness when the frame was taken (after the last damage event): median "
              f"{statistics.median(quiet):.0f} ms, p90 {sorted(quiet)[int(0.9 * len(quiet))]:.0f} ms")


if __name__ == "__main__":
    main()

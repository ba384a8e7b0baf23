"""Env overhead per step over the raw client call, steps/s of one env, and of vector envs over N local
arenas, measured in one run on this machine.

    .venv/bin/python bench/bench_env.py [--n 60] [--vector 1,2,4]

Baseline: the raw protocol call the env makes per step (``client.step``: action + screenshot in one
round trip, decoded). The env adds action parsing, code rendering, the observation dict and info.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gymnasium as gym  # noqa: E402

import arena_gym  # noqa: E402,F401
from arena_gym.protocol import SettleSpec  # noqa: E402
from bench.common import measure, table  # noqa: E402

OFF = {"timeout_s": 0}
ACTION = {"action_type": "MOVE_TO", "x": 400, "y": 300}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--vector", default="1,2,4", help="vector sizes to measure")
    parser.add_argument("--format", default="png", choices=["png", "jpeg", "webp"],
                        help="png: unencoded frames through /dev/shm on a local arena (lossless either way)")
    args = parser.parse_args()
    common = {"tasks": {"ids": ["click-blue"]}, "max_steps": 10_000, "settle": OFF,
              "observation": {"width": 1280, "height": 800, "image_format": args.format}}

    env = gym.make("LocalDesktop-v0", **common)
    env.reset(seed=0)
    client = env.unwrapped.coordinator.client
    code = "import pyautogui; pyautogui.moveTo(400, 300)"
    raw = measure(f"raw client.step ({args.format}, no settle)", lambda: client.step(code, SettleSpec(timeout_s=0), args.format), args.n)
    stepped = measure("env.step (same action)", lambda: env.step(ACTION), args.n)
    env.close()
    overhead = stepped.median - raw.median
    print(table([(raw, None), (stepped, raw.median)], "one env, settle off (x floor = ratio to the raw call)"))
    print(f"env overhead per step: {overhead:.2f} ms (median env.step - median raw call)")
    print(f"one env: {1000 / stepped.median:.1f} steps/s without settle")

    env = gym.make("LocalDesktop-v0", **{**common, "settle": {}})
    env.reset(seed=0)
    settled = measure("env.step with the default settle", lambda: env.step(ACTION), max(10, args.n // 4))
    env.close()
    print(f"one env: {1000 / settled.median:.1f} steps/s with the default settle ({settled.median:.0f} ms/step)")

    print("\nvector env over N local arenas (async, a process per arena), settle off; observations pickled")
    print("through the pipes (the baseline) or handed over in shared memory:")
    base = None
    for n in [int(v) for v in args.vector.split(",")]:
        rates = {}
        for shared in (False, True):
            envs = gym.make_vec("LocalDesktop-v0", num_envs=n, vectorization_mode="vector_entry_point",
                                shared_memory=shared, **common)
            envs.reset(seed=0)
            batch = [ACTION] * n
            for _ in range(3):
                envs.step(batch)
            steps = max(10, args.n // 2)
            t0 = time.perf_counter()
            for _ in range(steps):
                envs.step(batch)
            rates[shared] = steps * n / (time.perf_counter() - t0)
            envs.close()
        base = base or rates[True]
        print(f"  N={n}: pickled {rates[False]:6.1f}, shared memory {rates[True]:6.1f} env-steps/s "
              f"({rates[True] / rates[False]:4.2f}x pickled; {rates[True] / base:4.2f}x N=1)")


if __name__ == "__main__":
    main()

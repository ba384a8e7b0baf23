"""The collector against gymnasium's lock-step AsyncVectorEnv, on the same local arenas, in one run.

    .venv/bin/python bench/bench_rollouts.py                 # N = 1, 2, 4; then one VM stalled
    .venv/bin/python bench/bench_rollouts.py --n 2 --episodes-per-slot 2

The work: the local suite's pixel tasks (seconds) and spreadsheet tasks (LibreOffice setup and scoring)
1:1, the random agent, ``--max-steps`` steps an episode, no added sleeps. For each N: episodes per minute
and slot utilisation (the share of wall time each slot spends in its own episodes) for both, and their
ratio. Then, with N = max(--n), one VM's server stopped (SIGSTOP: it accepts connections and never
answers): the healthy slots' episodes per minute against a run on those same slots without the stalled
VM, for the collector and for the lock-step vector env.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym  # noqa: E402

import arena_gym  # noqa: E402,F401 - registers the ids
from arena_gym.agents import RandomAgent  # noqa: E402
from arena_gym.arena import LocalArena  # noqa: E402
from arena_gym.rollout import Collector, url_slots  # noqa: E402

TASKS = ["click-red", "calc-label-cell"]  # a pixel task and a spreadsheet task, 1:1


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_steps": args.max_steps, "settle": {"timeout_s": 0.5, "stable_ms": 60},
            "observation": {"width": 640, "height": 400}, "close_windows_on_reset": True,
            # A stalled VM is found by the probe before each episode; calls keep their defaults (a loaded
            # machine's LibreOffice needs them).
            "timeouts": {"probe": args.stall_timeout}}


def random_policy(seed: int) -> Any:
    agents: dict[str, RandomAgent] = {}

    def act(obs: dict[str, Any], info: dict[str, Any]) -> Any:
        agent = agents.setdefault(info["slot"], RandomAgent(seed + len(agents)))
        return agent.act(obs, info)

    return act


def run_collector(urls: list[str], episodes: int, args: argparse.Namespace) -> dict[str, Any]:
    slots = url_slots("LocalDesktop-v0", urls, **env_kwargs(args))
    # An episode a stalled VM cut short is re-run on another slot: both runs end with ``episodes`` scores.
    # As a trainer uses it: the queue never runs dry (twice the work is queued), and the run is measured up
    # to the ``episodes``-th scored episode; what is still queued then is dropped.
    with Collector(slots, random_policy(args.seed), quarantine_after=1, reprobe_s=3600, max_retries=3) as collector:
        t0 = time.monotonic()
        for i in range(2 * episodes):
            collector.submit(TASKS[i % 2], seed=args.seed + i)
        records = []
        while sum(r.reward_valid for r in records) < episodes:
            records.append(collector.next_episode())
        wall = time.monotonic() - t0
        stats = collector.stats()
    valid = [r for r in records if r.reward_valid]
    healthy = [s for s in stats["slots"].values() if s["state"] != "quarantined"]
    return {"episodes": len(valid), "wall_s": wall, "per_min": 60 * len(valid) / wall,
            "utilisation": statistics.fmean(s["utilisation"] for s in healthy) if healthy else 0.0,
            "lost": len(records) - len(valid)}


def run_lockstep(urls: list[str], episodes: int, args: argparse.Namespace) -> dict[str, Any]:
    """gymnasium's AsyncVectorEnv: every step waits for every sub-env, until ``episodes`` scored episodes
    (a stalled sub-env's cut-short episodes do not count)."""
    n = len(urls)
    envs = gym.make_vec("LocalDesktop-v0", num_envs=n, vectorization_mode="vector_entry_point", server_urls=urls,
                        tasks={"ids": TASKS}, **env_kwargs(args))
    agents = [RandomAgent(args.seed + i) for i in range(n)]
    busy = [0.0] * n
    done_valid = lost = 0
    try:
        t0 = time.monotonic()
        obs, infos = envs.reset(seed=args.seed)
        _add_busy(busy, infos, "reset_ms")
        resetting = [False] * n  # a sub-env that just ended resets on this step and ignores its action
        while done_valid < episodes:
            # Draw an action only where it is used, so each agent's action stream is the collector's.
            actions = [{"action_type": "WAIT"} if resetting[i] else agents[i].act({"screenshot": obs["screenshot"][i]}, {})
                       for i in range(n)]
            obs, _, terms, truncs, infos = envs.step(actions)
            resetting = [bool(terms[i] or truncs[i]) for i in range(n)]
            _add_busy(busy, infos, "step_ms")
            _add_busy(busy, infos, "reset_ms")
            for i in range(n):
                if terms[i] or truncs[i]:
                    if infos["reward_valid"][i] and not infos.get("infra_error", [None] * n)[i]:
                        done_valid += 1
                    else:
                        lost += 1
        wall = time.monotonic() - t0
    finally:
        envs.close()
    return {"episodes": done_valid, "wall_s": wall, "per_min": 60 * done_valid / wall,
            "utilisation": statistics.fmean(b / 1000 / wall for b in busy), "lost": lost}


def _add_busy(busy: list[float], infos: dict[str, Any], key: str) -> None:
    timings = infos.get("timings", {})
    values, mask = timings.get(key), timings.get(f"_{key}")
    if values is None:
        return
    for i in range(len(busy)):
        if mask is None or mask[i]:
            busy[i] += float(values[i])


@contextlib.contextmanager
def arenas(n: int) -> Iterator[list[LocalArena]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(LocalArena(apps=[])) for _ in range(n)]


@contextlib.contextmanager
def stalled(arena: LocalArena) -> Iterator[None]:
    """The arena's server stopped: connections are accepted by the kernel, nothing answers."""
    pid = arena.server_pid
    assert pid is not None, "the arena has no server process"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def line(name: str, c: dict[str, Any], v: dict[str, Any]) -> str:
    return (f"{name:<22}{c['per_min']:9.1f}{c['utilisation']:8.0%}{v['per_min']:11.1f}{v['utilisation']:8.0%}"
            f"{c['per_min'] / max(v['per_min'], 1e-9):9.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 2, 4], help="slot counts (default 1 2 4)")
    parser.add_argument("--episodes-per-slot", type=int, default=6, help="(default 6)")
    parser.add_argument("--max-steps", type=int, default=3, help="(default 3)")
    parser.add_argument("--stall-timeout", type=float, default=5.0, help="the env's probe timeout, s (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_max = max(args.n)
    header = f"{'':<22}{'collector':>9}{'util':>8}{'lock-step':>11}{'util':>8}{'ratio':>10}"
    print(f"episodes/min, random agent, {' + '.join(TASKS)} 1:1, {args.max_steps} steps an episode", flush=True)
    print(header, flush=True)
    with arenas(n_max) as all_arenas:
        urls = [str(a.url) for a in all_arenas]
        run_collector(urls[:1], 2, args)  # warm: LibreOffice's first start on this machine
        for n in args.n:
            episodes = args.episodes_per_slot * n
            c = run_collector(urls[:n], episodes, args)
            v = run_lockstep(urls[:n], episodes, args)
            print(line(f"N={n} ({episodes} episodes)", c, v), flush=True)
        if n_max >= 2:
            episodes = args.episodes_per_slot * (n_max - 1)
            c_without = run_collector(urls[1:], episodes, args)
            v_without = run_lockstep(urls[1:], episodes, args)
            print(line(f"N={n_max - 1} healthy only", c_without, v_without), flush=True)
            with stalled(all_arenas[0]):
                c_stall = run_collector(urls, episodes, args)
                v_stall = run_lockstep(urls, episodes, args)
            print(line(f"N={n_max}, 1 stalled", c_stall, v_stall), flush=True)
            print(f"with one VM stalled, the healthy slots keep {c_stall['per_min'] / c_without['per_min']:.0%} "
                  f"of their throughput under the collector, {v_stall['per_min'] / v_without['per_min']:.0%} "
                  f"under lock-step", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

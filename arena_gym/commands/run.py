"""``arena-gym run``: an agent acting through the env on a local arena (or a VM), episode by episode,
with a progress line per episode, every trajectory recorded as it goes, and a score table at the end."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gymnasium as gym

from ..agents import load_agent
from ..envs.catalog import UnscorableTask
from ..tasks.loader import TaskNotFound
from ..wrappers import RecordEpisodes

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an agent through tasks on a local arena (or a VM) and score it")
    p.add_argument("--agent", default="oracle", help="oracle, random, or module:callable (default: oracle)")
    p.add_argument("--server-url", default=None, help="a VM or arena server (default: start a local arena)")
    p.add_argument("--evaluate-url", default=None, help="the evaluate server next to that VM")
    p.add_argument("--tasks", default=None, help="a task folder or suite file (default: the local suite)")
    p.add_argument("--domain", action="append", default=None, help="only this domain (repeatable)")
    p.add_argument("--task-id", action="append", default=None, help="only this task (repeatable)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes to run (default: each selected task once, in order)")
    p.add_argument("--max-steps", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs"), help="where runs are recorded (default: runs/)")
    p.add_argument("--no-images", action="store_true", help="record actions and rewards but no screenshots")
    p.set_defaults(func=run)


def _env_kwargs(args: argparse.Namespace, face: str) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    if args.tasks:
        tasks["suite" if Path(args.tasks).is_file() else "folder"] = args.tasks
    if args.domain:
        tasks["domains"] = args.domain
    if args.task_id:
        tasks["ids"] = args.task_id
    kwargs: dict[str, Any] = {"tasks": tasks, "action_face": face, "max_steps": args.max_steps}
    if args.server_url:
        kwargs["server_url"] = args.server_url
        kwargs["evaluate_url"] = args.evaluate_url
    return kwargs


def unique_run_dir(out: Path) -> Path:
    """A new folder under ``out``, named by the time; made atomically, so two runs started in the same
    second never share one (the second gets a ``-2`` suffix)."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        candidate = out / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"no free run folder under {out} for {stamp}")


def summary(results: list[dict[str, Any]]) -> str:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        rows[r["domain"] or "?"].append(r)
    width = max([len(d) for d in rows] + [6])
    lines = [f"{'domain':<{width}}  {'episodes':>8}  {'mean score':>10}  {'solved':>6}  {'invalid':>8}"]
    for domain in sorted(rows):
        rs = rows[domain]
        valid = [r for r in rs if r["reward_valid"]]
        mean = sum(r["reward"] for r in valid) / len(valid) if valid else 0.0
        solved = sum(1 for r in valid if r["reward"] >= 1.0)
        lines.append(f"{domain:<{width}}  {len(rs):>8}  {mean:>10.2f}  {solved:>6}  {len(rs) - len(valid):>8}")
    valid = [r for r in results if r["reward_valid"]]
    mean = sum(r["reward"] for r in valid) / len(valid) if valid else 0.0
    lines.append(f"{'all':<{width}}  {len(results):>8}  {mean:>10.2f}  "
                 f"{sum(1 for r in valid if r['reward'] >= 1.0):>6}  {len(results) - len(valid):>8}")
    lines.append("invalid: episodes whose reward is not a score (infrastructure failures, unscorable tasks); "
                 "the mean leaves them out")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        agent = load_agent(args.agent, args.seed)
    except ValueError as exc:
        print(f"arena-gym run: {exc}", file=sys.stderr)
        return 2
    env_id = "WAA-v0" if args.server_url and args.evaluate_url else "LocalDesktop-v0"
    run_dir = unique_run_dir(args.out)
    env = RecordEpisodes(gym.make(env_id, **_env_kwargs(args, agent.action_face)), run_dir,
                         save_images=not args.no_images)
    results: list[dict[str, Any]] = []
    try:
        ids = env.unwrapped.catalog.ids()
        episodes = args.episodes or len(ids)
        print(f"run {run_dir}: agent {args.agent}, {episodes} episodes over {len(ids)} tasks", flush=True)
        with open(run_dir / "results.jsonl", "w") as results_file:
            for n in range(episodes):
                options = {"task_id": ids[n % len(ids)]} if args.episodes is None else None
                result = _episode(env, agent, args.seed + n, options)
                results.append(result)
                results_file.write(json.dumps(result) + "\n")
                results_file.flush()
                note = f"  infra: {result['infra_error']}" if result["infra_error"] else (
                    f"  unscorable: {result['unscorable']}" if result["unscorable"] else "")
                counter = f"[{n + 1}/{episodes}]"
                print(f"{counter:>{2 * len(str(episodes)) + 3}} {result['task_id']:<24} reward {result['reward']:.2f}  "
                      f"steps {result['steps']:>2}  {result['seconds']:5.1f}s{note}", flush=True)
    except KeyboardInterrupt:
        print("interrupted; what ran is recorded.", file=sys.stderr)
    except (UnscorableTask, TaskNotFound) as exc:
        print(f"arena-gym run: {exc}", file=sys.stderr)
        return 2
    finally:
        env.close()
    if results:
        print()
        print(summary(results))
        print(f"\ntrajectories: {run_dir}  (arena-gym view {run_dir})")
    return 0


def _episode(env: gym.Env, agent: Any, seed: int, options: dict[str, Any] | None) -> dict[str, Any]:
    start = time.monotonic()
    obs, info = env.reset(seed=seed, options=options)
    task = env.unwrapped.task
    infra = info.get("infra_error")
    reward, steps = 0.0, 0
    if task is not None and not infra:
        agent.reset(task)
        while True:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            steps += 1
            if terminated or truncated:
                infra = info.get("infra_error")
                break
    return {
        "task_id": info.get("task_id"), "domain": info.get("domain"), "reward": float(reward), "steps": steps,
        "reward_valid": info.get("reward_valid", True) and not infra, "infra_error": infra,
        "unscorable": info.get("unscorable"), "seconds": round(time.monotonic() - start, 2),
    }

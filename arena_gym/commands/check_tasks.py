"""``arena-gym check-tasks``: every task checks itself on a real desktop.

For each task: run its setup and score the untouched desktop (it must score a valid 0: no free reward),
then set it up again, solve it (its scripted ``oracle``, or, without one, its gold file put where the
result is read) and score again (it must score a valid 1). A table says what passed and why not; the
exit status is 0 only when every task passed. Users run it on their own task folders.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from ..envs.desktop_env import desktop
from ..suites import task_selection
from ..tasks.models import Task


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-tasks", help="check that each task scores 0 untouched and 1 when solved")
    p.add_argument("source", nargs="?", default=None,
                   help="a task folder or suite file (default: the local suite)")
    p.add_argument("--domain", action="append", default=None, help="only this domain (repeatable)")
    p.add_argument("--task-id", action="append", default=None, help="only this task (repeatable)")
    p.add_argument("--server-url", default=None, help="a VM or arena server (default: start a local arena)")
    p.add_argument("--evaluate-url", default=None, help="the evaluate server next to that VM")
    p.set_defaults(func=run)


@dataclass
class Check:
    task_id: str
    domain: str
    untouched: str = ""
    solved: str = ""
    seconds: float = 0.0
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem


def _score(info: dict[str, Any], reward: float) -> tuple[str, str | None]:
    """What the score says, and why it is not a valid score (None when it is)."""
    if info.get("infra_error"):
        return "infra", f"infrastructure: {info['infra_error']}"
    if info.get("unscorable"):
        return "unscorable", f"unscorable: {info['unscorable']}"
    if info.get("reward_valid") is False:
        return "invalid", "the reward was marked invalid"
    return f"{reward:.2f}", None


def _finish(env: gym.Env) -> tuple[float, dict[str, Any]]:
    _, reward, terminated, truncated, info = env.step("DONE")
    return float(reward), info


def _solve(env: gym.Env, task: Task) -> str | None:
    """Run the task's oracle, or put its gold file where the result is read. None, or why it could not."""
    if task.oracle:
        for code in task.oracle:
            if code.strip() in ("DONE", "FAIL"):
                break
            _, _, terminated, truncated, info = env.step(code)
            if info.get("action_error"):
                return f"oracle step failed: {info['action_error']}"
            if terminated or truncated:
                return "the episode ended before the oracle finished"
        return None
    ev = task.evaluator
    result, expected = ev.result, ev.expected
    if isinstance(result, list) or result is None or result.type != "vm_file" or expected is None \
            or isinstance(expected, list) or expected.type != "cloud_file":
        return "no oracle, and no gold file to place (needs a vm_file result and a cloud_file expected)"
    coordinator = desktop(env).coordinator
    ctx = coordinator.eval_context(task)
    gold = ctx.fetcher.fetch(expected.options()["path"], expected.options().get("dest"), ctx.task_dir)
    # Close the apps first, so a postconfig that saves does not write the old document over the gold.
    ctx.client.close_all()
    ctx.client.upload(ctx.vm_path(result.options()["path"]), Path(gold).read_bytes())
    return None


def check(env: gym.Env, task: Task) -> Check:
    row = Check(task.task_id, task.domain)
    start = time.monotonic()
    _, info = env.reset(options={"task_id": task.task_id})
    if info.get("infra_error"):
        row.problem = f"setup: {info['infra_error']}"
        return row
    reward, info = _finish(env)
    row.untouched, why = _score(info, reward)
    if why:
        row.problem = f"untouched: {why}"
    elif reward != 0.0:
        row.problem = f"the untouched desktop scores {reward:.2f}: a free reward"
    _, info = env.reset(options={"task_id": task.task_id})
    if info.get("infra_error"):
        row.problem = row.problem or f"setup (second time): {info['infra_error']}"
        return row
    failed = _solve(env, task)
    reward, info = _finish(env)
    row.solved, why = _score(info, reward)
    if not row.problem:
        if failed:
            row.problem = failed
        elif why:
            row.problem = f"solved: {why}"
        elif reward != 1.0:
            row.problem = f"the solved task scores {reward:.2f}, not 1"
    row.seconds = round(time.monotonic() - start, 1)
    return row


def table(rows: list[Check]) -> str:
    width = max([len(r.task_id) for r in rows] + [4])
    lines = [f"{'task':<{width}}  {'untouched':>10}  {'solved':>10}  {'time':>6}  verdict"]
    for r in rows:
        verdict = "ok" if r.passed else f"FAIL: {r.problem}"
        lines.append(f"{r.task_id:<{width}}  {r.untouched:>10}  {r.solved:>10}  {r.seconds:>5.1f}s  {verdict}")
    passed = sum(r.passed for r in rows)
    lines.append(f"{passed} of {len(rows)} tasks check out")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        tasks = task_selection(args.source, args.domain, args.task_id)
    except ValueError as exc:
        print(f"arena-gym check-tasks: {exc}", file=sys.stderr)
        return 2
    kwargs: dict[str, Any] = {"tasks": tasks, "action_face": "pyautogui", "max_steps": 50}
    if args.server_url:
        kwargs.update(server_url=args.server_url, evaluate_url=args.evaluate_url)
    env_id = "WAA-v0" if args.server_url else "LocalDesktop-v0"
    env = gym.make(env_id, **kwargs)
    rows: list[Check] = []
    try:
        catalog = desktop(env).catalog
        try:
            selected = [catalog.tasks[i] for i in catalog.ids() if i in catalog.tasks]
        except (ValueError, OSError) as exc:
            print(f"arena-gym check-tasks: {exc}", file=sys.stderr)
            return 2
        if not selected:
            print("arena-gym check-tasks: no tasks selected", file=sys.stderr)
            return 2
        for n, task in enumerate(selected, 1):
            try:
                row = check(env, task)
            except ValueError as exc:  # refused before acting (unscorable here)
                row = Check(task.task_id, task.domain, problem=str(exc))
            rows.append(row)
            print(f"[{n}/{len(selected)}] {task.task_id}: {'ok' if row.passed else row.problem}", flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        env.close()
    print()
    print(table(rows))
    return 0 if rows and all(r.passed for r in rows) else 1

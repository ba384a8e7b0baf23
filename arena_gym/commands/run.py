"""``arena-gym run``: an agent acting through the env on a local arena (or a VM), episode by episode,
with live progress, every trajectory recorded as it goes, and a score table at the end in which episodes
whose reward is not a score (infrastructure failures, unscorable tasks) stand apart from the mean."""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..agents import load_agent
from ..envs.catalog import UnscorableTask
from ..envs.config import EnvConfig
from ..envs.desktop_env import desktop
from ..rollout import EpisodeResult, run_episode
from ..suites import task_selection
from ..tasks.loader import TaskNotFound
from ..validation import field_errors
from ..wrappers import RecordEpisodes

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an agent through tasks on a local arena (or a VM) and score it")
    p.add_argument("--agent", default="oracle",
                   help="oracle, random, module:callable or ./file.py:callable (default: oracle)")
    p.add_argument("--config", type=Path, default=None,
                   help="a YAML file of env settings (gym.make's keywords: tasks, observation, settle, ...); "
                        "the flags below override it")
    p.add_argument("--server-url", default=None, help="a VM or arena server (default: start a local arena)")
    p.add_argument("--evaluate-url", default=None, help="the evaluate server next to that VM")
    p.add_argument("--tasks", default=None, help="a task folder or suite file (default: the local suite)")
    p.add_argument("--domain", action="append", default=None, help="only this domain (repeatable)")
    p.add_argument("--task-id", action="append", default=None, help="only this task (repeatable)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes to run (default: each selected task once, in order)")
    p.add_argument("--max-steps", type=int, default=None, help="steps per episode (default: 15, as WAA)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs"), help="where runs are recorded (default: runs/)")
    p.add_argument("--no-images", action="store_true", help="record actions and rewards but no screenshots")
    p.set_defaults(func=run)


class UsageError(ValueError):
    """The user's input is wrong; the message says what and how to fix it."""


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise UsageError(f"cannot read --config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"--config {path} is not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {path} must be a mapping of env settings (tasks:, observation:, ...)")
    return data


def env_kwargs(args: argparse.Namespace, face: str) -> dict[str, Any]:
    """gym.make's keywords: the config file, then the flags over it; validated here, so a typo is named."""
    kwargs = read_config(args.config) if args.config else {}
    tasks: dict[str, Any] = dict(kwargs.get("tasks") or {})
    if args.tasks:
        for key in ("source", "folder", "suite"):
            tasks.pop(key, None)
    tasks.update(task_selection(args.tasks, args.domain, args.task_id))
    kwargs.update({"tasks": tasks, "action_face": face})
    if args.max_steps is not None:
        kwargs["max_steps"] = args.max_steps
    if args.server_url:
        kwargs["server_url"] = args.server_url
        kwargs["evaluate_url"] = args.evaluate_url
    try:
        EnvConfig.model_validate(kwargs)
    except ValidationError as exc:
        where = f" in {args.config}" if args.config else ""
        raise UsageError(f"env settings{where}: {field_errors(exc)}") from None
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


def summary_table(results: list[EpisodeResult]) -> Table:
    """Per domain: the mean over valid episodes, solved, and apart from them the episodes that are not scores."""
    table = Table(title="scores", caption="not a score: infrastructure failures and unscorable tasks; "
                                          "the mean leaves them out")
    for name, justify in [("domain", "left"), ("episodes", "right"), ("mean score", "right"), ("solved", "right"),
                          ("infra failed", "right"), ("unscorable", "right")]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    rows: dict[str, list[EpisodeResult]] = defaultdict(list)
    for r in results:
        rows[r.domain or "?"].append(r)

    def row(name: str, rs: list[EpisodeResult]) -> list[str]:
        valid = [r for r in rs if r.reward_valid]
        mean = f"{sum(r.reward for r in valid) / len(valid):.2f}" if valid else "-"
        infra = sum(1 for r in rs if r.infra_error)
        return [name, str(len(rs)), mean, str(sum(1 for r in valid if r.reward >= 1.0)),
                str(infra), str(sum(1 for r in rs if not r.reward_valid and not r.infra_error))]

    for domain in sorted(rows):
        table.add_row(*row(domain, rows[domain]))
    table.add_section()
    table.add_row(*row("all", results), style="bold")
    return table


def _line(n: int, total: int, r: EpisodeResult) -> str:
    # Task ids and failure messages are shown as they are, never read as markup.
    status = f"[red]{escape(r.failure)}[/red]" if r.failure else (
        "[green]solved[/green]" if r.reward >= 1.0 else "not solved")
    return (f"\\[{n}/{total}] {escape(r.task_id or '?'):<24} reward {r.reward:.2f}  steps {r.steps:>2}  "
            f"{r.seconds:5.1f}s  {status}")


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        agent = load_agent(args.agent, args.seed)
        kwargs = env_kwargs(args, getattr(agent, "action_face", "structured"))
    except ValueError as exc:
        errors.print(f"arena-gym run: {exc}", markup=False)
        return 2
    env_id = "WAA-v0" if kwargs.get("server_url") and kwargs.get("evaluate_url") else "LocalDesktop-v0"
    run_dir = unique_run_dir(args.out)
    results: list[EpisodeResult] = []
    env = RecordEpisodes(gym.make(env_id, **kwargs), run_dir, save_images=not args.no_images)
    try:
        ids = desktop(env).catalog.ids()
        total = args.episodes or len(ids)
        console.print(f"run {run_dir}: agent {args.agent}, {total} episodes over {len(ids)} tasks")
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True)
        with progress, open(run_dir / "results.jsonl", "w") as results_file:
            bar = progress.add_task("episodes", total=total)
            for n in range(total):
                options = {"task_id": ids[n % len(ids)]} if args.episodes is None else None
                progress.update(bar, description=f"episode {n + 1}: {options['task_id'] if options else 'seeded'}")
                result = run_episode(env, agent, args.seed + n, options)
                results.append(result)
                results_file.write(json.dumps(result.summary()) + "\n")
                results_file.flush()
                progress.console.print(_line(n + 1, total, result))
                progress.advance(bar)
    except KeyboardInterrupt:
        errors.print("interrupted; what ran is recorded.")
    except (UnscorableTask, TaskNotFound, ValueError) as exc:
        errors.print(f"arena-gym run: {exc}", markup=False)
        return 2
    finally:
        env.close()
    if results:
        console.print()
        console.print(summary_table(results))
        console.print(f"\ntrajectories: {run_dir}  (arena-gym view {run_dir})")
    return 0

"""``arena-gym tasks``: what a task folder or suite holds, and which tasks need Windows and why."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

from ..suites import LOCAL
from ..tasks.loader import TaskFormatError, TaskNotFound, load_tasks
from ..tasks.models import Task
from ..tasks.platform import Need, windows_needs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list tasks per domain: which run on a Linux desktop, which need Windows (why)")
    p.add_argument("source", nargs="?", type=Path, default=LOCAL,
                   help="a task folder (examples/<domain>/<id>.json), a suite file (test_all.json) or one task "
                        "(default: the local suite)")
    p.add_argument("-l", "--list", action="store_true", help="also list every task that needs Windows, with reasons")
    p.set_defaults(func=run)


def _reason_key(need: Need) -> str:
    # Group "config[3] launch cmd" and "config[0] launch cmd" together.
    where = need.where.split(" ", 1)[1] if need.where.startswith(("config[", "postconfig[")) else need.where
    return f"{where}: {need.why}"


def table(tasks: list[Task]) -> str:
    by_domain: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        by_domain[task.domain].append(task)
    rows = []
    total = Counter()
    for domain in sorted(by_domain):
        reasons: Counter[str] = Counter()
        linux = 0
        for task in by_domain[domain]:
            needs = windows_needs(task)
            if needs:
                reasons.update({_reason_key(n) for n in needs})
            else:
                linux += 1
        n = len(by_domain[domain])
        total.update(tasks=n, linux=linux)
        top = "; ".join(f"{r} ({c})" for r, c in reasons.most_common(2))
        rows.append((domain, n, linux, n - linux, top))
    width = max([len(r[0]) for r in rows] + [6])
    out = [f"{'domain':<{width}}  {'tasks':>5}  {'linux':>5}  {'windows':>7}  why Windows (most common, tasks)"]
    out += [f"{d:<{width}}  {n:>5}  {lx:>5}  {w:>7}  {why}" for d, n, lx, w, why in rows]
    out.append(f"{'total':<{width}}  {total['tasks']:>5}  {total['linux']:>5}  {total['tasks'] - total['linux']:>7}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        tasks = load_tasks(args.source)
    except (TaskFormatError, TaskNotFound) as exc:
        print(f"arena-gym tasks: {exc}", file=sys.stderr)
        return 1
    print(table(tasks))
    if args.list:
        print()
        for task in tasks:
            needs = windows_needs(task)
            if needs:
                print(f"{task.domain}/{task.task_id}")
                for need in needs:
                    print(f"    {need}")
    return 0

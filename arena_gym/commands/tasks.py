"""``arena-gym tasks``: what a task folder or suite holds, which tasks need Windows, and which cannot be
scored at all by this build (an unknown metric or getter, a side channel not built), and why."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

from ..evaluators.preflight import scoring_blockers
from ..suites import LOCAL, resolve
from ..tasks.loader import TaskFormatError, TaskNotFound, load_tasks
from ..tasks.models import Task
from ..tasks.platform import Need, windows_needs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list tasks per domain: which run on a Linux desktop, which need Windows (why)")
    p.add_argument("source", nargs="?", type=resolve, default=LOCAL,
                   help="a task folder (examples/<domain>/<id>.json), a suite file (test_all.json), one task, "
                        "or a shipped suite's name: local (the default)")
    p.add_argument("-l", "--list", action="store_true",
                   help="also list every task: its id, domain, where it runs, its instruction, and why not Linux")
    p.set_defaults(func=run)


def _reason_key(need: Need) -> str:
    # Group "config[3] launch cmd" and "config[0] launch cmd" together.
    where = need.where.split(" ", 1)[1] if need.where.startswith(("config[", "postconfig[")) else need.where
    return f"{where}: {need.why}"


def _unscorable_key(reason: str) -> str:
    return reason.split(" ", 1)[1] if reason.startswith(("config[", "postconfig[")) else reason


def classify(task: Task) -> tuple[str, list[str]]:
    """``unscorable`` (no VM gives a valid reward with this build), ``windows`` or ``linux``, with why."""
    # On the platform its benchmark's VMs run: OSWorld's are Linux, WAA's Windows.
    unscorable = scoring_blockers(task, "linux" if task.benchmark == "osworld" else "windows")
    if unscorable:
        return "unscorable", [_unscorable_key(r) for r in unscorable]
    needs = windows_needs(task)
    if needs:
        return "windows", [_reason_key(n) for n in needs]
    return "linux", []


def table(tasks: list[Task]) -> str:
    by_domain: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        by_domain[task.domain].append(task)
    rows = []
    total: Counter[str] = Counter()
    for domain in sorted(by_domain):
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for task in by_domain[domain]:
            kind, why = classify(task)
            counts[kind] += 1
            reasons.update(set(why))
        total.update(counts)
        total["tasks"] += len(by_domain[domain])
        top = "; ".join(f"{r} ({c})" for r, c in reasons.most_common(2))
        rows.append((domain, len(by_domain[domain]), counts["linux"], counts["windows"], counts["unscorable"], top))
    width = max([len(r[0]) for r in rows] + [6])
    out = [f"{'domain':<{width}}  {'tasks':>5}  {'linux':>5}  {'windows':>7}  {'unscorable':>10}  "
           "why not Linux, or not scorable (most common, tasks)"]
    out += [f"{d:<{width}}  {n:>5}  {lx:>5}  {w:>7}  {u:>10}  {why}" for d, n, lx, w, u, why in rows]
    out.append(f"{'total':<{width}}  {total['tasks']:>5}  {total['linux']:>5}  {total['windows']:>7}  "
               f"{total['unscorable']:>10}")
    out.append("linux: runs and scores on a Linux desktop; windows: needs a Windows VM; "
               "unscorable: no VM gives a valid reward with this build (its reward would be marked invalid)")
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
        width = max(len(t.task_id) for t in tasks)
        for task in tasks:
            kind, why = classify(task)
            instruction = " ".join(task.instruction.split())
            short = instruction if len(instruction) <= 70 else instruction[:67] + "..."
            print(f"{task.task_id:<{width}}  {task.domain:<18}  {kind:<10}  {short}")
            for reason in why:
                print(f"{'':<{width}}    {reason}")
    return 0

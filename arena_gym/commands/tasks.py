"""``arena-gym tasks``: what a task folder or suite holds, which tasks need Windows, and which cannot be
scored at all by this build (an unknown metric or getter, a side channel not built), and why."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from typing import Any

from ..arena.profiles import NOT_SHIPPED
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


ACCOUNT = "Google account"
KINDS = ("local", "windows", "app", "online", "lacking")
HEADINGS = {"local": "local", "windows": "windows", "app": "no app", "online": "online", "lacking": "lacking"}
LEGEND = ("local: sets up and scores on a local arena (app profile osworld); windows: needs a Windows VM; no app: "
          "opens an app no profile ships; online: needs a Google account, or the desktop on the internet (arena "
          "network='host'); lacking: an evaluator or side channel this build lacks (its reward is marked invalid)")


def classify(task: Task) -> tuple[str, list[str]]:
    """Where ``task`` can give a valid reward (one of KINDS), with why not locally."""
    # On the platform its benchmark's VMs run: OSWorld's are Linux, WAA's Windows.
    unscorable = [_unscorable_key(r) for r in scoring_blockers(task, "linux" if task.benchmark == "osworld" else "windows")]
    needs = windows_needs(task)
    account = [r for r in unscorable if ACCOUNT in r] + [_reason_key(n) for n in needs if n.kind == "account"]
    if account:  # first: no build gives these a valid reward without the account
        return "online", sorted(set(account))
    if unscorable:  # on its own benchmark's VMs
        return "lacking", unscorable
    windows = [_reason_key(n) for n in needs if n.kind != "account"]
    if windows:
        return "windows", windows
    apps = not_shipped(task)
    if apps:
        return "app", apps
    web = web_pages(task)
    if web:
        return "online", web
    return "local", []


def _commands(task: Task) -> list[Any]:
    return [step.parameters.get("command", "") for step in [*task.config, *task.evaluator.postconfig]
            if step.type in ("launch", "execute", "command")]


def not_shipped(task: Task) -> list[str]:
    """The programs ``task`` opens that no app profile has."""
    found = set()
    for command in _commands(task):
        words = command if isinstance(command, list) else str(command).split()
        if words and str(words[0]).rsplit("/", 1)[-1] in NOT_SHIPPED:
            name = str(words[0]).rsplit("/", 1)[-1]
            found.add(f"launches {name}: {NOT_SHIPPED[name]}")
    apps = {a.lower().replace("-", "_") for a in task.related_apps}
    if apps & {"vs_code", "vscode", "visual_studio_code"} and not found:
        found.add(f"uses VS Code: {NOT_SHIPPED['code']}")
    return sorted(found)


_WEB = re.compile(r"https?://(?!(?:127\.|localhost|\[::1\]))[^\s\"']+", re.IGNORECASE)


# Getters that load web pages in the desktop's browser, and the site each loads when its spec names none.
PAGE_GETTERS = {"page_info": None, "info_from_website": None, "pdf_from_url": None,
                "gotoRecreationPage_and_get_html_content": "www.recreation.gov"}


def web_pages(task: Task) -> list[str]:
    """Web pages the desktop itself opens (host-side downloads of task files are not counted)."""
    pages = []
    for step in [*task.config, *task.evaluator.postconfig]:
        if step.type not in ("chrome_open_tabs", "launch", "execute", "command", "open"):
            continue  # downloads are the host's; the others load no page
        for url in _WEB.findall(json.dumps(step.parameters)):
            pages.append(f"{step.type} opens {url.split('/')[2]}")
    for role in (task.evaluator.result, task.evaluator.expected):
        for spec in role if isinstance(role, list) else [role]:
            if spec is None or spec.type not in PAGE_GETTERS:
                continue
            sites = [url.split("/")[2] for url in _WEB.findall(json.dumps(spec.options()))]
            pages += [f"getter {spec.type} loads {site}" for site in sites or [PAGE_GETTERS[spec.type] or "a page"]]
    return sorted(set(pages))


def table(tasks: list[Task]) -> str:
    by_domain: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        by_domain[task.domain].append(task)
    rows: list[tuple[str, int, list[int], str]] = []
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
        rows.append((domain, len(by_domain[domain]), [counts[k] for k in KINDS], top))
    width = max([len(r[0]) for r in rows] + [6])
    heads = "  ".join(f"{HEADINGS[k]:>7}" for k in KINDS)
    out = [f"{'domain':<{width}}  {'tasks':>5}  {heads}  why not local (most common, tasks)"]
    for domain, n, cells, top in rows:
        out.append(f"{domain:<{width}}  {n:>5}  " + "  ".join(f"{c:>7}" for c in cells) + f"  {top}")
    out.append(f"{'total':<{width}}  {total['tasks']:>5}  " + "  ".join(f"{total[k]:>7}" for k in KINDS))
    out.append(LEGEND)
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

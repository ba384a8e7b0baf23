"""The tasks an env draws from, and the seeded choice of the next one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..evaluators.preflight import blockers
from ..tasks.loader import TaskNotFound, load_folder, load_suite, parse_task
from ..tasks.models import Task
from ..tasks.platform import windows_needs
from .config import TaskSelection


def _check_names(asked: list[str], known: set[str], what: str, source: str | None) -> None:
    """Every asked-for domain or id exists; else say which do, and the near ones."""
    import difflib

    missing = [name for name in asked if name not in known]
    if not missing:
        return
    parts = []
    for name in missing:
        near = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5) or [
            k for k in sorted(known) if k.lower() == name.lower()]
        parts.append(f"{name!r}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    where = "the local suite" if source == "local" else "these tasks"
    listed = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
    hint = (" (WAA's Windows domains need a Windows VM: tasks={'folder': ...} with WAA-v0)"
            if source == "local" and what == "domain" else "")
    raise TaskNotFound(f"no {what} {', '.join(parts)} in {where}; known {what}s: {listed}{hint}")


def keyed(tasks: list[Task]) -> dict[str, Task]:
    """Tasks by id; an id that several domains use (OSWorld has 11 shared by chrome and thunderbird) is
    ``domain/id`` for each of them, so none hides another."""
    from collections import Counter

    count = Counter(t.task_id for t in tasks)
    return {(t.task_id if count[t.task_id] == 1 else f"{t.domain}/{t.task_id}"): t for t in tasks}


class UnscorableTask(ValueError):
    """A task was asked for that cannot give a valid reward on this VM (the message says why)."""


class TaskCatalog:
    """Loaded on first use (constructors do no I/O). Unknown ids may be fetched from the evaluate server."""

    def __init__(self, selection: TaskSelection, local: bool) -> None:
        self.selection = selection
        self.local = local
        self._tasks: dict[str, Task] | None = None
        self._blockers: dict[tuple[str, str, str | None], list[str]] = {}
        self._deck: list[str] = []

    def _load(self) -> dict[str, Task]:
        sel = self.selection
        source = sel.source or ("suite" if sel.suite else "folder" if sel.folder else "local" if self.local else None)
        if source == "local":
            from ..suites import local_tasks

            tasks = local_tasks()
        elif source == "suite":
            if not sel.suite:
                raise ValueError("tasks.source is 'suite' but tasks.suite (a suite file path) is not set")
            tasks = load_suite(Path(sel.suite).expanduser(), Path(sel.folder).expanduser() if sel.folder else None)
        elif source == "folder":
            if not sel.folder:
                raise ValueError("tasks.source is 'folder' but tasks.folder is not set")
            tasks = load_folder(Path(sel.folder).expanduser())
        else:
            tasks = []  # ids only, fetched from the evaluate server
        if tasks:
            _check_names(sel.domains or [], {t.domain for t in tasks}, "domain", source)
            _check_names(sel.ids or [], {t.task_id for t in tasks}, "task id", source)
        if sel.domains:
            tasks = [t for t in tasks if t.domain in set(sel.domains)]
        if sel.ids:
            wanted = set(sel.ids)
            tasks = [t for t in tasks if t.task_id in wanted]
        if sel.linux_only:
            tasks = [t for t in tasks if not windows_needs(t)]
        return keyed(tasks)

    @property
    def tasks(self) -> dict[str, Task]:
        if self._tasks is None:
            self._tasks = self._load()
        return self._tasks

    def ids(self) -> list[str]:
        ids = list(self.tasks)
        for extra in self.selection.ids or []:
            if extra not in self.tasks:
                ids.append(extra)  # to be fetched from the evaluate server
        return ids

    def blockers(self, task: Task, platform: str | None) -> list[str]:
        """Why ``task`` cannot give a valid reward on a ``platform`` VM (cached; empty when it can)."""
        key = (task.domain, task.task_id, platform)
        if key not in self._blockers:
            self._blockers[key] = blockers(task, platform)
        return self._blockers[key]

    def choose(self, rng: np.random.Generator, platform: str | None = None, seed: int | None = None) -> str:
        """A seeded choice among the tasks that can give a valid reward on this VM's platform, that covers
        them: with ``seed`` (``reset(seed=s)``), seeds 0..n-1 are the n tasks in a permutation of their own
        (n..2n-1 another one, and so on); without, a deck shuffled by ``rng`` is dealt until it is empty."""
        ids = self.ids()
        if not ids:
            raise TaskNotFound(
                "no tasks to draw from: set tasks.folder (a WAA checkout's examples folder), tasks.suite, "
                "tasks.ids (fetched from the evaluate server), or use the local suite"
            )
        usable = [i for i in ids if i not in self.tasks or not self.blockers(self.tasks[i], platform)]
        if not usable:
            example = next(iter(self.tasks.values()))
            raise TaskNotFound(
                f"none of the {len(ids)} selected tasks can be scored on this {platform or 'unknown'} VM "
                f"(e.g. {example.task_id}: {self.blockers(example, platform)[0]}); "
                "`arena-gym tasks FOLDER` shows which can"
            )
        if seed is not None:
            epoch, slot = divmod(int(seed), len(usable))
            return usable[int(np.random.default_rng(epoch).permutation(len(usable))[slot])]
        self._deck = [i for i in self._deck if i in usable]
        if not self._deck:
            self._deck = [usable[int(k)] for k in rng.permutation(len(usable))]
        return self._deck.pop()

    def check(self, task: Task, platform: str | None) -> None:
        """Refuse, before the agent acts, a task that cannot give a valid reward here."""
        reasons = self.blockers(task, platform)
        if reasons:
            raise UnscorableTask(
                f"task {task.task_id} cannot give a valid reward on this {platform or 'unknown'} VM: "
                + "; ".join(reasons[:3]) + ("" if len(reasons) <= 3 else f" (+{len(reasons) - 3} more)")
            )

    def get(self, task_id: str, fetch: Any = None) -> Task:
        if task_id in self.tasks:
            return self.tasks[task_id]
        same = [key for key in self.tasks if key.endswith(f"/{task_id}")]
        if same:
            raise TaskNotFound(f"task id {task_id!r} is in {len(same)} domains: say which, as "
                               f"{' or '.join(repr(k) for k in same)}")
        if fetch is not None:
            data = fetch(task_id)
            if data is not None:
                task = parse_task(data, f"evaluate server task {task_id}", task_id=task_id)
                self.tasks[task_id] = task
                return task
        raise TaskNotFound(f"unknown task id {task_id!r}; known: {', '.join(sorted(self.tasks)[:10]) or 'none'}")

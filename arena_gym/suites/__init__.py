"""Task suites shipped with arena-gym. ``local``: tasks that run on the local Linux arena."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..tasks.loader import load_folder
from ..tasks.models import Task

SUITES = Path(__file__).parent
LOCAL = SUITES / "local"
NAMED = {"local": LOCAL}  # suites a user can name instead of giving a path


def resolve(source: str | Path) -> Path:
    """A task source as a path: a shipped suite's name (``local``) or a folder/file path as given."""
    path = Path(source).expanduser()
    return NAMED[str(source)] if str(source) in NAMED and not path.exists() else path


def task_selection(source: str | None, domains: list[str] | None = None,
                   ids: list[str] | None = None) -> dict[str, Any]:
    """The env's ``tasks`` setting for what a command line names: a suite's name, a suite file or a folder
    (None: the default), and the domains and ids asked for. A source that does not exist is a ValueError."""
    tasks: dict[str, Any] = {}
    if source:
        path = resolve(source)
        if path == LOCAL:
            tasks["source"] = "local"
        elif not path.exists():
            raise ValueError(f"no task folder or suite file at {source} (or a suite name: {', '.join(NAMED)})")
        else:
            tasks["suite" if path.is_file() else "folder"] = str(path)
    if domains:
        tasks["domains"] = domains
    if ids:
        tasks["ids"] = ids
    return tasks


def local_tasks(domains: list[str] | None = None) -> list[Task]:
    """The local suite: text editor, terminal, files, spreadsheet and pixel tasks, each with an oracle."""
    return load_folder(LOCAL, domains)

"""Task suites shipped with arena-gym. ``local``: tasks that run on the local Linux arena."""

from __future__ import annotations

from pathlib import Path

from ..tasks.loader import load_folder
from ..tasks.models import Task

SUITES = Path(__file__).parent
LOCAL = SUITES / "local"
NAMED = {"local": LOCAL}  # suites a user can name instead of giving a path


def resolve(source: str | Path) -> Path:
    """A task source as a path: a shipped suite's name (``local``) or a folder/file path as given."""
    path = Path(source).expanduser()
    return NAMED[str(source)] if str(source) in NAMED and not path.exists() else path


def local_tasks(domains: list[str] | None = None) -> list[Task]:
    """The local suite: text editor, terminal, files, spreadsheet and pixel tasks, each with an oracle."""
    return load_folder(LOCAL, domains)

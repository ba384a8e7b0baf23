"""Task suites shipped with arena-gym. ``local``: tasks that run on the local Linux arena."""

from __future__ import annotations

from pathlib import Path

from ..tasks.loader import load_folder
from ..tasks.models import Task

SUITES = Path(__file__).parent
LOCAL = SUITES / "local"


def local_tasks(domains: list[str] | None = None) -> list[Task]:
    """The local suite: text editor, terminal, files, spreadsheet and pixel tasks, each with an oracle."""
    return load_folder(LOCAL, domains)

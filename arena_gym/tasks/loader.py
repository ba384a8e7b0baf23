"""Load tasks: one file, a folder laid out as ``examples/<domain>/<id>.json``, or a suite file.

The file stem is the task id (WAA's suites and loaders use it; six stock files carry another ``id``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from .models import Task


class TaskFormatError(ValueError):
    """A task file is not valid; the message names the file, the field and what was expected."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class TaskNotFound(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _loc(parts: Iterable[object]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_task(data: object, source: Path | str, task_id: str | None = None, domain: str = "") -> Task:
    if not isinstance(data, dict):
        raise TaskFormatError(source, [f"expected a JSON object, got {type(data).__name__}"])
    try:
        task = Task.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # Drop pydantic's union-branch names so the location reads like the JSON path.
            loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
            problems.append(f"{_loc(loc)}: {err['msg']}")
        raise TaskFormatError(source, problems) from None
    task.task_id = task_id or task.id
    task.domain = domain
    task.path = str(source)
    return task


def load_task(path: str | Path, domain: str | None = None) -> Task:
    """Load one task file; its stem becomes ``task_id`` and its folder name the domain."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise TaskNotFound(f"no task file at {path}") from None
    except json.JSONDecodeError as exc:
        raise TaskFormatError(path, [f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
    return parse_task(data, path, task_id=path.stem, domain=domain if domain is not None else path.parent.name)


def examples_dir(root: str | Path) -> Path:
    """Accept a WAA checkout's data folder (holding ``examples/``) or the ``examples`` folder itself."""
    root = Path(root)
    if (root / "examples").is_dir():
        return root / "examples"
    if root.is_dir():
        return root
    raise TaskNotFound(f"no task folder at {root} (expected examples/<domain>/<id>.json below it)")


def load_folder(root: str | Path, domains: Iterable[str] | None = None) -> list[Task]:
    """Every ``<domain>/<id>.json`` below ``root``, sorted by domain then id. Bad files raise, naming the file."""
    base = examples_dir(root)
    wanted = set(domains) if domains is not None else None
    tasks = []
    errors: list[str] = []
    for path in sorted(base.glob("*/*.json")):
        if wanted is not None and path.parent.name not in wanted:
            continue
        try:
            tasks.append(load_task(path))
        except TaskFormatError as exc:
            errors.append(str(exc))
    if errors:
        raise TaskFormatError(base, errors)
    if wanted is not None:
        missing = wanted - {t.domain for t in tasks}
        if missing:
            raise TaskNotFound(f"no tasks for domain(s) {', '.join(sorted(missing))} under {base}")
    return tasks


def load_suite(suite: str | Path, root: str | Path | None = None) -> list[Task]:
    """A suite file ``{domain: [id, ...]}`` (e.g. ``test_all.json``); tasks are looked up below ``root``
    (default: the suite file's folder)."""
    suite = Path(suite)
    try:
        index = json.loads(suite.read_text())
    except FileNotFoundError:
        raise TaskNotFound(f"no suite file at {suite}") from None
    except json.JSONDecodeError as exc:
        raise TaskFormatError(suite, [f"not valid JSON at line {exc.lineno}: {exc.msg}"]) from None
    if not isinstance(index, dict) or not all(isinstance(v, list) for v in index.values()):
        raise TaskFormatError(suite, ['expected {"<domain>": ["<task id>", ...], ...}'])
    base = examples_dir(root if root is not None else suite.parent)
    tasks = []
    for domain, ids in index.items():
        for task_id in ids:
            path = base / domain / f"{task_id}.json"
            if not path.is_file():
                raise TaskNotFound(f"{suite} lists {domain}/{task_id}, but {path} does not exist")
            tasks.append(load_task(path, domain=domain))
    return tasks


def load_tasks(source: str | Path) -> list[Task]:
    """A task file, a suite file or a folder: whichever ``source`` is."""
    path = Path(source)
    if path.is_dir():
        return load_folder(path)
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(data, dict) and "instruction" not in data and all(isinstance(v, list) for v in data.values()):
            return load_suite(path)
        return [load_task(path)]
    raise TaskNotFound(f"no task file, suite file or folder at {path}")

"""What a task needs of its VM's platform, and the Windows -> Linux translation for the local arena.

WAA tasks hard-code ``C:\\Users\\Docker\\...``; on a Linux desktop those are the same folders under
the user's home, so setup steps and getters map them to ``~/...`` (the server expands ``~``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .models import GetterSpec, Step, Task

_WIN_HOME = re.compile(r"^(?:[A-Za-z]:\\+Users\\+Docker|%USERPROFILE%)(?=\\|$)", re.IGNORECASE)

# Setup steps that sign in to a Google account (OSWorld's Drive and browser log-ins): no VM can run them
# without that account's credentials.
ACCOUNT_STEPS = {"googledrive": "needs a Google account (Google Drive)",
                 "login": "needs a Google account (a browser sign-in)"}
# Programs that exist only on Windows (as the first word of a command, lower-cased).
WINDOWS_PROGRAMS = {"cmd", "powershell", "reg", "taskkill", "explorer", "start", "fsutil", "msedge",
                    "notepad", "mspaint", "calc", "findstr", "icacls", "attrib"}
# related_apps that have no Linux build.
WINDOWS_APPS = {"notepad", "microsoft_paint", "paint", "windows_calc", "calculator", "clock", "settings",
                "file_explorer", "explorer", "msedge", "edge", "microsoft edge"}


def to_linux_path(path: str) -> str:
    """``C:\\Users\\Docker\\Downloads\\a.xlsx`` -> ``~/Downloads/a.xlsx``; other paths unchanged."""
    match = _WIN_HOME.match(path)
    if not match:
        return path
    rest = path[match.end():].replace("\\", "/").lstrip("/")
    return f"~/{rest}" if rest else "~"


def translate_command(command: list[str] | str) -> list[str] | str:
    """Map Windows home paths inside a command (each argument, or within a shell string)."""
    if isinstance(command, list):
        return [to_linux_path(a) for a in command]
    return re.sub(r"(?i)[A-Za-z]:\\+Users\\+Docker[^\s\"']*", lambda m: to_linux_path(m.group(0)), command)


@dataclass(frozen=True)
class Need:
    """One reason a task needs Windows: what in the task, and why."""

    where: str
    why: str
    # What it is about: "app", "program", "step", "account" (a Google account), or "getter" (a getter
    # registered as Windows-only, which the evaluators' preflight also reports).
    kind: str = "program"

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


def _program(command: list[str] | str) -> str:
    if isinstance(command, list):
        first = command[0] if command else ""
    else:
        first = command.strip().split(" ", 1)[0] if command.strip() else ""
    return first.strip("\"'").replace("\\", "/").rsplit("/", 1)[-1].lower()


def _step_needs(steps: Iterable[Step], where: str) -> list[Need]:
    needs = []
    for i, step in enumerate(steps):
        if step.type in ACCOUNT_STEPS:
            needs.append(Need(f"{where}[{i}] {step.type}", ACCOUNT_STEPS[step.type], "account"))
        elif step.type == "edge_open_tabs":
            needs.append(Need(f"{where}[{i}] {step.type}", "drives Microsoft Edge", "step"))
        elif step.type in ("update_browse_history_edge", "set_default_browser"):
            needs.append(Need(f"{where}[{i}] {step.type}", "writes a Windows browser profile path", "step"))
        elif step.type in ("launch", "execute", "command"):
            prog = _program(step.parameters.get("command", ""))
            if prog in WINDOWS_PROGRAMS or prog.endswith(".exe") or prog.startswith("ms-"):
                needs.append(Need(f"{where}[{i}] {step.type} {prog}", "runs a Windows-only program"))
    return needs


def _getter_needs(specs: Any, where: str) -> list[Need]:
    from ..evaluators.registry import getter_facts  # here: the evaluators import this module

    needs = []
    items = specs if isinstance(specs, list) else [specs]
    for spec in items:
        if not isinstance(spec, GetterSpec):
            continue
        facts = getter_facts(spec.type)
        if facts.platform == "windows":
            needs.append(Need(f"{where} getter {spec.type}", facts.why, "getter"))
        elif spec.type == "vm_command_line":
            prog = _program(spec.options().get("command", ""))
            if prog in WINDOWS_PROGRAMS:
                needs.append(Need(f"{where} getter vm_command_line {prog}", "runs a Windows-only program"))
    return needs


def windows_needs(task: Task) -> list[Need]:
    """Everything in a task that a Linux desktop cannot do; empty when it can run on one."""
    needs = []
    for app in task.related_apps:
        if app.lower().replace("-", "_") in WINDOWS_APPS or app.lower() in WINDOWS_APPS:
            needs.append(Need(f"app {app}", "has no Linux version", "app"))
    needs += _step_needs(task.config, "config")
    needs += _step_needs(task.evaluator.postconfig, "postconfig")
    needs += _getter_needs(task.evaluator.result, "result")
    needs += _getter_needs(task.evaluator.expected, "expected")
    return needs

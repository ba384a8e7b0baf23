"""Getters that run something on the VM, and host-only ones (``rule``, ``rule_relativeTime``)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any

from ..context import EvalContext, or_none
from ..registry import getter


@getter("rule")
def rule(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    return spec["rules"]


@getter("vm_command_line")
def vm_command_line(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    result = or_none(ctx.client.execute, spec["command"], spec.get("shell", False) in (True, "true"))
    return None if result is None else result.output


@getter("vm_command_error")
def vm_command_error(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    result = or_none(ctx.client.execute, spec["command"], spec.get("shell", False) in (True, "true"))
    return None if result is None else result.error


def _python(ctx: EvalContext, code: str) -> str:
    return ctx.client.execute(["python", "-c", code]).output.strip()


@getter("all_png_file_names")
def all_png_file_names(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """``"true"`` iff the lines of ``file_path`` are exactly the ``*.png`` names in ``folder_path``."""
    code = (
        "import os, sys\n"
        "f, d = sys.argv[1], sys.argv[2]\n"
        "lines = {l.strip() for l in open(os.path.expanduser(f)) if l.strip()} if os.path.isfile(os.path.expanduser(f)) else None\n"
        "pngs = {n for n in os.listdir(os.path.expanduser(d)) if n.lower().endswith('.png')}\n"
        "print('true' if lines == pngs else 'false')\n"
    )
    result = ctx.client.execute(["python", "-c", code, ctx.vm_path(spec["file_path"]), ctx.vm_path(spec["folder_path"])])
    return result.output.strip() or "false"


@getter("is_all_docx_in_archive")
def is_all_docx_in_archive(ctx: EvalContext, spec: dict[str, Any]) -> str:
    code = (
        "import os, sys\n"
        "d = os.path.expanduser(sys.argv[1]); a = os.path.join(d, 'Archive')\n"
        "ok = os.path.isdir(a) and all(n.lower().endswith('.docx') for n in os.listdir(a) if os.path.isfile(os.path.join(a, n)))\n"
        "ok = ok and not any(n.lower().endswith('.docx') for n in os.listdir(d) if os.path.isfile(os.path.join(d, n)))\n"
        "print('true' if ok else 'false')\n"
    )
    result = ctx.client.execute(["python", "-c", code, ctx.vm_path(spec["folder_path"])])
    return result.output.strip() or "false"


@getter("is_file_hidden")
def is_file_hidden(ctx: EvalContext, spec: dict[str, Any]) -> str:
    path = ctx.vm_path(spec["file_path"])
    if path.replace("\\", "/").rsplit("/", 1)[-1].startswith("."):
        return "true"
    if ctx.vm_platform() != "windows":
        return "false"
    code = "import ctypes, sys; print(bool(ctypes.windll.kernel32.GetFileAttributesW(sys.argv[1]) & 2))"
    return "true" if ctx.client.execute(["python", "-c", code, path]).output.strip() == "True" else "false"


@getter("vm_active_window_title")
def vm_active_window_title(ctx: EvalContext, spec: dict[str, Any]) -> str:
    if ctx.vm_platform() == "windows":
        return _python(ctx, "import pyautogui; print(pyautogui.getActiveWindowTitle())")
    return ctx.client.execute(["xdotool", "getactivewindow", "getwindowname"]).output.strip()


@getter("vm_screen_size")
def vm_screen_size(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, int]:
    return ctx.client.screen_size().model_dump()


@getter("vm_window_size")
def vm_window_size(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, int] | None:
    """The size of the app's window (``app_class_name``, a WM_CLASS); None when it has no window."""
    return ctx.client.window_size(spec["app_class_name"])


@getter("vm_terminal_output")
def vm_terminal_output(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """The text of the terminal in front, as the server reads it from the accessibility tree."""
    return ctx.client.terminal()


@getter("time_diff_range")
def time_diff_range(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    return spec.get("diff_range_in_minutes")


@getter("list_directory")
def list_directory(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, Any]:
    return ctx.client.list_directory(ctx.vm_path(spec["path"])).model_dump(exclude_none=True)


@getter("accessibility_tree")
def accessibility_tree(ctx: EvalContext, spec: dict[str, Any]) -> str:
    return ctx.client.accessibility()


# ---- rule_relativeTime: resolve "tomorrow", "next Monday", "5th next month" ... into the expected dict

_WEEKDAYS = [d.lower() for d in calendar.day_name]


def resolve_relative_date(phrase: str, today: date) -> date:
    """The phrases WAA's tasks use: today/tomorrow/yesterday, "next <weekday>", "this <weekday>",
    "<n>th next month", "next week", "next month", "first monday four months later"."""
    text = phrase.strip().lower()
    if text in ("today", "now"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text == "next week":
        return today + timedelta(days=7)
    m = re.fullmatch(r"(next|this) (\w+)", text)
    if m and m.group(2) in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(m.group(2)) - today.weekday()) % 7
        if m.group(1) == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    m = re.fullmatch(r"(\d+)(?:st|nd|rd|th)? (next|this) month", text)
    if m:
        year, month = today.year, today.month + (1 if m.group(2) == "next" else 0)
        if month > 12:
            year, month = year + 1, month - 12
        return date(year, month, int(m.group(1)))
    if text == "next month":
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    m = re.fullmatch(r"first (\w+) (\w+) months? later", text)
    numbers = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    if m and m.group(1) in _WEEKDAYS and (m.group(2) in numbers or m.group(2).isdigit()):
        months = numbers.get(m.group(2)) or int(m.group(2))
        year, month = today.year + (today.month - 1 + months) // 12, (today.month - 1 + months) % 12 + 1
        first = date(year, month, 1)
        return first + timedelta(days=(_WEEKDAYS.index(m.group(1)) - first.weekday()) % 7)
    raise ValueError(f"rule_relativeTime: cannot read the date phrase {phrase!r}")


def _format_date(template: str, day: date) -> str:
    values = {
        "Year": str(day.year), "Month": str(day.month), "Month0D": f"{day.month:02d}",
        "MonthFull": calendar.month_name[day.month], "month": calendar.month_name[day.month].lower(),
        "Day0D": f"{day.day:02d}", "DayD": str(day.day), "DoW": calendar.day_name[day.weekday()],
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


@getter("rule_relativeTime")
def rule_relative_time(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, Any]:
    rules = spec["rules"]
    today = datetime.now().date()
    relative = rules["relativeTime"]
    if relative.get("to"):
        raise ValueError("rule_relativeTime: a 'to' date is not supported; give 'from' only")
    start = resolve_relative_date(relative["from"], today)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _format_date(value, start)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return {**rules, "expected": fill(rules["expected"])}

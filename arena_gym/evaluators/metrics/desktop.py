"""OSWorld's metrics on the desktop's own state and plain files: GNOME settings read through commands,
the clipboard, a folder listing, the accessibility tree, logs, Python sources, SQLite, a speed-test CSV.
Semantics are OSWorld's (desktop-env 1.0.2); differences kept on purpose are noted where they are.
"""

from __future__ import annotations

import ast
import datetime
import functools
import logging
import operator
import re
import sqlite3
from typing import Any

from rapidfuzz import fuzz

from ..registry import metric

log = logging.getLogger(__name__)

# The namespaces OSWorld's selectors use for an Ubuntu tree (our server writes the same).
A11Y_NAMESPACES = {
    key: f"https://accessibility.ubuntu.example.org/ns/{path}"
    for key, path in (("st", "state"), ("attr", "attributes"), ("cp", "component"), ("doc", "document"),
                      ("docattr", "document/attributes"), ("txt", "text"), ("val", "value"), ("act", "action"))
}


@metric("check_gnome_favorite_apps")
def check_gnome_favorite_apps(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """``gsettings get org.gnome.shell favorite-apps`` lists exactly the expected apps (any order).
    Different, on purpose: the list is read with ``ast.literal_eval``; OSWorld ``eval``s the VM's output."""
    if result is None:
        return 0.0
    try:
        apps = ast.literal_eval(result.strip())
    except (ValueError, SyntaxError):
        return 0.0
    expected = rules["expected"]
    return float(len(apps) == len(expected) and set(apps) == set(expected))


@metric("is_utc_0")
def is_utc_0(result: str | None, **_: Any) -> float:
    """``timedatectl status``: its fourth line (the time zone) ends in ``+0000)``."""
    lines = (result or "").split("\n")
    return float(len(lines) > 3 and lines[3].endswith("+0000)"))


@metric("check_text_enlarged")
def check_text_enlarged(result: str | None, **_: Any) -> float:
    """GNOME's ``text-scaling-factor`` is above 1."""
    try:
        return float(float(str(result).strip()) > 1.0)
    except ValueError:
        return 0.0


@metric("check_moved_jpgs")
def check_moved_jpgs(result: dict[str, Any] | None, rules: dict[str, Any], **_: Any) -> float:
    """The folder (a ``list_directory`` tree) holds exactly the expected files."""
    if not result:
        return 0.0
    moved = [node["name"] for node in result.get("children", [])]
    expected = rules["expected"]
    return float(len(moved) == len(expected) and set(moved) == set(expected))


@metric("is_in_vm_clickboard")
def is_in_vm_clickboard(rules: dict[str, Any], clipboard: str | None, **_: Any) -> float:
    """The clipboard (``xsel --clipboard --output``) holds the expected text (every one, for a list).
    OSWorld's tasks give the rule first and the clipboard second: this metric's arguments are in that order."""
    expected = rules["expected"]
    text = clipboard or ""
    wanted = expected if isinstance(expected, list) else [expected]
    return float(all(item in text for item in wanted))


@metric("check_accessibility_tree")
def check_accessibility_tree(result: str | None, rules: list[dict[str, Any]], **_: Any) -> float:
    """Each rule selects elements of the tree (``xpath``, or CSS ``selectors`` joined by ", ") in OSWorld's
    namespaces: none selected scores 0; with ``text``, the best element's match (exact, or rapidfuzz's
    ratio) multiplies the score."""
    import lxml.etree
    from lxml.cssselect import CSSSelector

    if not result:
        return 0.0
    tree = lxml.etree.fromstring(result.encode() if isinstance(result, str) else result)
    score = 1.0
    for rule in rules:
        if "xpath" in rule:
            elements = tree.xpath(rule["xpath"], namespaces=A11Y_NAMESPACES)
        elif "selectors" in rule:
            elements = CSSSelector(", ".join(rule["selectors"]), namespaces=A11Y_NAMESPACES)(tree)
        else:
            raise ValueError("check_accessibility_tree: a rule needs xpath or selectors")
        if not elements:
            return 0.0
        if "text" in rule:
            match = functools.partial(operator.eq if rule["exact"] else (lambda a, b: fuzz.ratio(a, b) / 100.0),
                                      rule["text"])
            score *= max(float(match(element.text or None)) for element in elements)
    return float(score)


TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)")


@metric("check_line_number")
def check_line_number(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The number of lines with a time of day (hh:mm:ss) is the expected one."""
    if result is None:
        return 0.0
    try:
        with open(result, encoding="utf-8", errors="replace") as f:
            count = sum(1 for line in f if TIME.search(line))
    except OSError:
        return 0.0
    return float(count == int(rules["expected"]))


def _python_lines(text: str) -> str:
    """OSWorld's normalisation: leading shebang/coding lines (in the first three) dropped, tabs as four
    spaces, trailing blanks and empty lines removed."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and i < 3:
        head = lines[i].strip()
        if head.startswith(("#!", "# -*- coding:", "# coding:", "# coding=")):
            i += 1
            continue
        break
    return "\n".join(line.expandtabs(4).rstrip() for line in lines[i:] if line.strip())


@metric("compare_python_pure_text")
def compare_python_pure_text(result: str | None, expected: str | None, **_: Any) -> float:
    if not result or not expected:
        return 0.0
    try:
        with open(result, encoding="utf-8") as a, open(expected, encoding="utf-8") as b:
            return float(_python_lines(a.read()) == _python_lines(b.read()))
    except (OSError, UnicodeDecodeError):
        return 0.0


@metric("compare_time_in_speedtest_results")
def compare_time_in_speedtest_results(result: str | None, time_diff: Any, **_: Any) -> float:
    """The first result's time (the last five characters of its second CSV field, HH:MM) is within
    ``time_diff`` minutes of now, on the clock of the machine that scores, as OSWorld does."""
    if not result:
        return 0.0
    try:
        with open(result, encoding="utf-8") as f:
            rows = f.readlines()
        stamp = rows[1].split(",")[1][-5:]
        then = datetime.datetime.strptime(stamp, "%H:%M")
        now = datetime.datetime.strptime(datetime.datetime.now().strftime("%H:%M"), "%H:%M")
        return float(abs((then - now).total_seconds()) / 60 < int(time_diff))
    except (OSError, IndexError, ValueError):
        return 0.0


@metric("fuzzy_place_math")
def fuzzy_place_math(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """A .docx with exactly three words, each scored by its best rapidfuzz ratio to the expected answers;
    the mean of the three."""
    if result is None:
        return 0.0
    from docx import Document

    words = [w for para in Document(result).paragraphs for w in para.text.split()]
    if len(words) != 3:
        return 0.0
    return sum(max((fuzz.ratio(w, a) / 100 for a in rules["expected"]), default=0) for w in words) / 3


@metric("run_sqlite3")
def run_sqlite3(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The first column of the first row ``rules["sql"]`` returns (0 for NULL). Opened read-only."""
    if result is None:
        return 0.0
    connection = sqlite3.connect(f"file:{result}?mode=ro", uri=True)
    try:
        row = connection.execute(rules["sql"]).fetchone()
    finally:
        connection.close()
    return float((row[0] if row else 0) or 0)

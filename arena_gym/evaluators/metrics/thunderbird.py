"""Thunderbird metrics of OSWorld's tasks: preferences (prefs.js), message filters (msgFilterRules.dat)
and folder contents (mbox files), with its semantics.

Kept from OSWorld on purpose, because its scores are the benchmark's: ``check_thunderbird_folder`` splits
a folder file on ``"FROM - "`` and keeps only the pieces that are empty after stripping (its code says
``if mail.strip(): continue``). Thunderbird writes ``From - `` (not upper case), so for real folders no
message is kept and any two folder files compare equal: the metric scores 1 whenever the result file
exists. That is what OSWorld scores; it is reproduced, and the test says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..registry import metric
from ..rules import match_value_to_rule

_PREF = re.compile(r'^user_pref\("(?P<key>(?:[^"]|\\")+)\", (?P<val>.+)\);$')
_CONDITION = re.compile(r"\b(?:AND|OR) \((?:[\w ]+),(?:[\w ']+),(?:\"(?:(?:[^\"]|\")+)\"|(?:[^)]+))\)|\bALL\b")


@metric("check_thunderbird_prefs")
def check_thunderbird_prefs(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """Every ``expect`` preference matches its rule (its last line does) and no ``unexpect`` one does."""
    if result is None:
        return 0.0
    expect, unexpect = rules.get("expect", {}), rules.get("unexpect", {})
    found = dict.fromkeys(expect, False)
    clean = True
    with open(result, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = _PREF.match(line.strip())
            if match is None:
                continue
            key, value = match.group("key"), json.loads(match.group("val"))
            if key in expect:
                found[key] = match_value_to_rule(value, expect[key])
            elif key in unexpect:
                clean = clean and not match_value_to_rule(value, unexpect[key])
    return float(all(found.values()) and clean)


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\\\", "\\")


def _filters(path: str) -> list[dict[str, Any]]:
    """The filters of a msgFilterRules.dat, as OSWorld reads them (a filter is complete at its condition)."""
    filters: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    fields = {"enabled=": "enabled", "type=": "type", "action=": "action", "actionValue=": "actionValue"}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("name="):
                current = {"name": _unescape(line[6:-2])}
                continue
            prefix = next((p for p in fields if line.startswith(p)), None)
            if current is None and (prefix or line.startswith("condition=")):
                raise ValueError(f"{path}: a filter field comes before any name= line (OSWorld fails here too)")
            if prefix is not None and current is not None:
                current[fields[prefix]] = _unescape(line[len(prefix) + 1:-2])
            elif line.startswith("condition=") and current is not None:
                current["condition"] = _CONDITION.findall(_unescape(line[11:-2]))
                filters.append(current)
    return filters


def _matches(pattern: dict[str, Any], item: dict[str, Any]) -> bool:
    return all(k in item and item[k] == v for k, v in pattern.items())


@metric("check_thunderbird_filter")
def check_thunderbird_filter(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """Some filter matches each ``expect`` record (all its keys equal) and none matches an ``unexpect`` one."""
    if result is None:
        return 0.0
    filters = _filters(result)
    expect, unexpect = rules.get("expect", []), rules.get("unexpect", [])
    found = [any(_matches(r, f) for f in filters) for r in expect]
    clean = not any(_matches(r, f) for f in filters for r in unexpect)
    return float(all(found) and clean)


def _folder_messages(path: str, options: dict[str, Any]) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        data = f.read().strip()
    messages = []
    for mail in data.split("FROM - "):
        if mail.strip():  # sic: OSWorld keeps only the empty pieces (see the module's doc)
            continue
        if options.get("remove_deleted", True) and re.search(r"X-Mozilla-Status: 000[89]", mail):
            continue
        text = mail
        if options.get("ignore_status", False):
            text = re.sub(r"X-Mozilla-Status\d?:[\s\d]+", "", text)
        if options.get("ignore_keys", False):
            text = re.sub(r"(X-Mozilla-Keys:[^\n]*?)\n(MIME-Version)", r"\2", text)
        messages.append("FROM - " + text.strip())
    kept = set(messages) if options.get("remove_duplicate", True) else messages
    return "\n".join(sorted(kept))


@metric("check_thunderbird_folder")
def check_thunderbird_folder(result: Any, expected: Any, **options: Any) -> float:
    """Each folder file holds the same messages as its reference, as OSWorld compares them."""
    results, references = (result, expected) if isinstance(expected, list) else ([result], [expected])
    for pred, gold in zip(results, references):
        if pred is None:
            return 0.0
        if _folder_messages(pred, options) != _folder_messages(gold, options):
            return 0.0
    return 1.0

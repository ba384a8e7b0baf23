"""General metrics: values, text files, JSON settings, CSV, lists."""

from __future__ import annotations

import csv
import difflib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from ..registry import metric
from ..rules import match_value_to_rule


def _read(path: str | None) -> str | None:
    """A text file's content; None when there is none or it is not UTF-8 text (WAA's ``open().read()``
    fails there, and replacement characters would let a wrong file compare equal)."""
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@metric("infeasible")
def infeasible(*_args: Any, **_kwargs: Any) -> float:
    """A marker: scoring handles infeasible tasks by the agent's last action, never by calling this."""
    raise RuntimeError("infeasible is scored by the last action (FAIL), not called")


@metric("exact_match")
def exact_match(result: Any, rules: dict[str, Any]) -> float:
    return float(result == rules["expected"])


@metric("fuzzy_match")
def fuzzy_match(result: Any, rules: dict[str, Any]) -> float:
    return fuzz.ratio(str(result), str(rules["expected"])) / 100.0


@metric("literal_match")
def literal_match(result: Any, expected: Any, **options: Any) -> float:
    literal_type = options.get("type", "str")
    if literal_type == "str":
        if options.get("ignore_case", False):
            return float(str(result).lower() == str(expected).lower())
        return float(str(result) == str(expected))
    if literal_type == "list":
        if not isinstance(result, (list, tuple)) or not isinstance(expected, (list, tuple)):
            return 0.0
        if len(result) != len(expected):
            return 0.0
        if options.get("ignore_case", False):
            return float([str(r).lower() for r in result] == [str(e).lower() for e in expected])
        return float(list(result) == list(expected))
    raise ValueError(f"literal_match: unknown type {literal_type!r} (use str or list)")


@metric("is_in_list")
def is_in_list(result: Any, rules: dict[str, Any]) -> float:
    return float(rules["expected"] in result) if result is not None else 0.0


@metric("check_include_exclude")
def check_include_exclude(result: str | None, rules: dict[str, Any]) -> float:
    if result is None:
        return 0.0
    include = rules.get("include", [])
    exclude = rules.get("exclude", [])
    return float(all(s in result for s in include) and not any(s in result for s in exclude))


@metric("is_extension_installed")
def is_extension_installed(result: str | None, rules: dict[str, Any]) -> float:
    if result is None:
        return 0.0
    if rules["type"] == "contain":
        return float(rules["expected"] in result)
    if rules["type"] == "not_contain":
        return float(rules["expected"] not in result)
    raise ValueError(f"is_extension_installed: unknown type {rules['type']!r} (use contain or not_contain)")


@metric("diff_text_file")
def diff_text_file(result: str | None, expected: str | None) -> float:
    text1, text2 = _read(result), _read(expected)
    if text1 is None or text2 is None:
        return 0.0
    return difflib.SequenceMatcher(None, text1, text2).ratio()


@metric("compare_text_file")
def compare_text_file(result: str | None, expected: str | None, **options: Any) -> float:
    text1 = _read(result)
    if text1 is None:
        return 0.0
    text2 = _read(expected)
    if text2 is None:  # the task's own gold file: nothing to score against
        raise ValueError(f"compare_text_file: the expected file {expected!r} is missing or not UTF-8 text")
    if options.get("ignore_blanks", False):
        text1 = re.sub(r"[\t\n]", " ", text1).strip()
        text1 = re.sub(r"\s+", " ", text1)
        text2 = re.sub(r"[\t\n]", " ", text2).strip()
        text2 = re.sub(r"\s+", " ", text2)
    if options.get("ignore_case", False):
        text1, text2 = text1.lower(), text2.lower()
    return float(text1 == text2)


@metric("file_contains")
def file_contains(result: str | None, rules: dict[str, Any]) -> float:
    text = _read(result)
    if text is None:
        return 0.0
    return float(all(s in text for s in rules.get("expected", [])))


@metric("check_json_settings")
def check_json_settings(result: str | None, expected: dict[str, Any]) -> float:
    """1 iff every expected top-level key has the expected value (``data.update(expected)`` changes nothing)."""
    text = _read(result)
    if text is None:
        return 0.0
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return 0.0
    if not isinstance(data, dict):
        return 0.0
    want = expected["expected"]
    return float(all(k in data and data[k] == v for k, v in want.items()))


@metric("check_json_keybindings")
def check_json_keybindings(result: str | None, expected: dict[str, Any]) -> float:
    """1 iff the expected binding object is in the keybindings list. As WAA: parse the file, and if that
    does not give a list, parse it again without its first line (VS Code writes a comment there, ``//``
    or ``/* ... */``)."""
    text = _read(result)
    if text is None:
        return 0.0
    for candidate in (text, text.split("\n", 1)[1] if "\n" in text else ""):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, list):
            return float(expected["expected"] in data)
    return 0.0


@metric("check_direct_json_object")
def check_direct_json_object(result: Any, rules: dict[str, Any]) -> float:
    if isinstance(result, str):
        try:
            result = json.loads(result.strip().replace("'", '"'))
        except json.JSONDecodeError:
            return 0.0
    if not isinstance(result, dict):
        return 0.0
    expected = rules["expected"]
    if rules.get("expect_in_result", False):
        return float(all(k in result and str(v) in str(result[k]) for k, v in expected.items()))
    return float(all(k in result and result[k] == v for k, v in expected.items()))


def _json_path(data: Any, path: list[Any]) -> Any:
    for key in path:
        data = data[key]
    return data


@metric("check_json")
def check_json(result: str | None, rules: dict[str, Any], is_yaml: bool = False) -> float:
    """``expect``/``unexpect``: ``[{"key": [path...], "method": m, "ref": r}]`` on a JSON (or YAML) file."""
    text = _read(result)
    if text is None:
        return 0.0
    if is_yaml:
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    for rule in rules.get("expect", []):
        try:
            value = _json_path(data, rule["key"])
        except (KeyError, IndexError, TypeError):
            return 0.0
        if not match_value_to_rule(value, rule):
            return 0.0
    for rule in rules.get("unexpect", []):
        try:
            value = _json_path(data, rule["key"])
        except (KeyError, IndexError, TypeError):
            continue
        if match_value_to_rule(value, rule):
            return 0.0
    return 1.0


@metric("check_csv")
def check_csv(result: str | None, rules: dict[str, Any], **options: Any) -> float:
    """Every ``expect`` row pattern matches some row; no ``unexpect`` pattern matches any."""
    if not result:
        return 0.0
    with open(result, newline="") as f:
        rows = list(csv.DictReader(f))
    expect = rules.get("expect", [])
    unexpect = rules.get("unexpect", [])

    def matches(pattern: dict[str, Any], row: dict[str, Any]) -> bool:
        return all(k in row and row[k] == v for k, v in pattern.items())

    found = [False] * len(expect)
    for row in rows:
        for i, pattern in enumerate(expect):
            found[i] = found[i] or matches(pattern, row)
        if any(matches(p, row) for p in unexpect):
            return 0.0
    return float(all(found))


@metric("check_list")
def check_list(result: str | None, rules: dict[str, Any]) -> float:
    """Regex lines: every ``expect`` pattern matches some line, no ``unexpect`` pattern matches any."""
    text = _read(result)
    if text is None:
        return 0.0
    lines = text.splitlines()
    expect = [re.compile(p) for p in rules.get("expect", [])]
    unexpect = [re.compile(p) for p in rules.get("unexpect", [])]
    if any(p.search(line) for p in unexpect for line in lines):
        return 0.0
    return float(all(any(p.search(line) for line in lines) for p in expect))


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@metric("compare_zip_files")
def compare_zip_files(result: str | None, expected: str | None) -> float:
    """Same entry names; each entry the same bytes, except PDFs, whose text (pypdf, as WAA's PyPDF2)
    must be at least 95 % similar (difflib ratio), since a PDF's bytes change on every save."""
    if not result or not expected:
        return 0.0
    try:
        z1 = zipfile.ZipFile(result)
    except (OSError, zipfile.BadZipFile):
        return 0.0  # the agent's file is not a zip archive
    with z1, zipfile.ZipFile(expected) as z2:
        if set(z1.namelist()) != set(z2.namelist()):
            return 0.0
        for name in z1.namelist():
            a, b = z1.read(name), z2.read(name)
            if name.lower().endswith(".pdf"):
                try:
                    same = difflib.SequenceMatcher(None, _pdf_text(a), _pdf_text(b)).ratio() >= 0.95
                except Exception:  # noqa: BLE001 - pypdf raises many kinds on a broken PDF
                    same = False
                if not same:
                    return 0.0
            elif a != b:
                return 0.0
    return 1.0

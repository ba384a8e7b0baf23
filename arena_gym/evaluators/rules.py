"""Small matching rules shared by metrics (WAA's ``_match_value_to_rule`` and ``compare_urls``)."""

from __future__ import annotations

import functools
import operator
import re
from typing import Any
from urllib.parse import urlparse, urlunparse

_COMPARE = {"eq", "ne", "le", "lt", "ge", "gt"}


def match_value_to_rule(value: Any, rule: dict[str, Any]) -> bool:
    """``{"method": m, "ref": r}``: eq/ne/le/lt/ge/gt, ``re[.FLAG...]``, ``approx:<thr>``,
    ``range.XY`` (e.g. ``range.te``: ref0 < v <= ref1), ``spreadsheet_range``, ``str_list_eq``/``str_set_eq``."""
    method = rule["method"]
    ref: Any = rule.get("ref")
    if method.startswith("re"):
        flags = functools.reduce(operator.or_, (getattr(re, f) for f in method.split(".")[1:]), re.RegexFlag(0))
        return isinstance(value, str) and re.search(ref, value, flags) is not None
    if method in _COMPARE:
        try:
            return bool(getattr(operator, method)(value, ref))
        except TypeError:
            return False
    if method.startswith("approx"):
        threshold = float(method.split(":")[1])
        try:
            return abs(float(value) - float(ref)) <= threshold
        except (TypeError, ValueError):
            return False
    if method.startswith("range."):
        left, right = method[6], method[7]
        return bool(getattr(operator, "l" + left)(ref[0], value) and getattr(operator, "l" + right)(value, ref[1]))
    if method == "spreadsheet_range":
        from openpyxl.worksheet.cell_range import MultiCellRange

        subset, superset = MultiCellRange(ref[0]), MultiCellRange(ref[1])
        return all(r in value for r in subset) and all(r in superset for r in value)
    if method in ("str_list_eq", "str_set_eq"):
        kind = list if method == "str_list_eq" else set
        return kind(str(value).strip("\"'").split(",")) == kind(ref)
    raise ValueError(f"unknown rule method {method!r}")


def normalize_url(url: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(
        scheme=(parsed.scheme or "http").lower(),
        netloc=parsed.netloc.lower().replace("www.", ""),
        path=parsed.path if parsed.path != "/" else "",
    ))


def compare_urls(url1: str | None, url2: str | None) -> bool:
    if url1 is None or url2 is None:
        return url1 == url2
    return normalize_url(url1) == normalize_url(url2)

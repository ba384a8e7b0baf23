"""Metrics on browser profile data (bookmarks, cookies, history, preferences) and desktop shortcuts."""

from __future__ import annotations

import json
from typing import Any

from ..registry import metric
from ..rules import compare_urls


@metric("is_expected_bookmarks")
def is_expected_bookmarks(bookmarks: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    if not bookmarks:
        return 0.0
    bar = bookmarks.get("bookmark_bar", {}).get("children", [])
    if rule["type"] == "bookmark_bar_folders_names":
        names = {b.get("name") for b in bar if b.get("type") == "folder"}
        return float(set(rule["names"]) <= names)
    if rule["type"] == "bookmark_bar_websites_urls":
        urls = {b.get("url") for b in bar if b.get("type") == "url"}
        return float(set(rule["urls"]) <= urls)
    raise ValueError(f"is_expected_bookmarks: unknown type {rule['type']!r}")


@metric("is_expected_bookmarks", benchmark="osworld")
def is_expected_bookmarks_osworld(bookmarks: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    """OSWorld's: the bookmark bar holds exactly the expected folders or URLs (WAA's: at least them)."""
    if not bookmarks:
        return 0.0
    bar = bookmarks.get("bookmark_bar", {}).get("children", [])
    if rule["type"] == "bookmark_bar_folders_names":
        return float({b.get("name") for b in bar if b.get("type") == "folder"} == set(rule["names"]))
    if rule["type"] == "bookmark_bar_websites_urls":
        return float({b.get("url") for b in bar if b.get("type") == "url"} == set(rule["urls"]))
    raise ValueError(f"is_expected_bookmarks: type {rule['type']!r} is not supported here")


@metric("is_cookie_deleted")
def is_cookie_deleted(cookies: list[Any] | None, rule: dict[str, Any]) -> float:
    if cookies is None:
        return 0.0
    if rule["type"] != "domains":
        raise ValueError(f"is_cookie_deleted: unknown type {rule['type']!r}")
    # Row layout of Chrome's cookies table: creation_utc, host_key, ...
    hosts = [row[1] for row in cookies if len(row) > 1]
    return float(not any(compare_urls(h, d) for h in hosts for d in rule["domains"]))


@metric("check_history_deleted")
def check_history_deleted(history: list[Any] | None, rule: dict[str, Any]) -> float:
    if history is None:
        return 0.0
    if rule["type"] != "keywords":
        raise ValueError(f"check_history_deleted: unknown type {rule['type']!r}")
    return float(not any(k in row[0] for row in history for k in rule["keywords"]))


def _font_size_check(prefs: dict[str, Any] | None, rule: dict[str, Any], upper_inclusive: bool) -> float:
    if not prefs:
        return 0.0
    size = prefs.get("default_font_size")
    if size is None:
        return 0.0
    if rule["type"] == "value":
        return float(size == rule["value"])
    if rule["type"] == "range":
        low, high = rule["min"], rule["max"]
        return float((low <= size < high) if upper_inclusive else (low < size < high))
    raise ValueError(f"font size rule type must be value or range, got {rule['type']!r}")


@metric("check_font_size")
def check_font_size(prefs: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    return _font_size_check(prefs, rule, upper_inclusive=False)


@metric("check_edge_font_size")
def check_edge_font_size(prefs: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    return _font_size_check(prefs, rule, upper_inclusive=True)


@metric("is_expected_tabs")
def is_expected_tabs(tabs: list[dict[str, Any]] | None, rule: dict[str, Any]) -> float:
    if tabs is None or rule["type"] != "url":
        return 0.0
    urls = [t.get("url") for t in tabs]
    # As WAA's are_lists_equal: same length, and each expected URL matches some open tab (any order).
    return float(len(urls) == len(rule["urls"]) and all(any(compare_urls(e, u) for u in urls) for e in rule["urls"]))


@metric("is_expected_active_tab")
def is_expected_active_tab(info: Any, rule: dict[str, Any]) -> float:
    if info is None or rule["type"] != "url":
        return 0.0
    url = info.get("url") if isinstance(info, dict) else info
    return float(compare_urls(url, rule["url"]))


@metric("check_enabled_experiments")
def check_enabled_experiments(experiments: list[str] | None, rule: dict[str, Any]) -> float:
    if experiments is None or rule["type"] != "names":
        return 0.0
    return float([e.split("@")[0] for e in experiments] == rule["names"])


@metric("is_shortcut_on_desktop")
def is_shortcut_on_desktop(shortcuts: dict[str, str] | None, rule: dict[str, Any]) -> float:
    if not shortcuts:
        return 0.0
    if rule["type"] == "name":
        # WAA: a .desktop entry's ``Name=<name>`` line.
        return float(any(f"Name={rule['name']}\n" in content for content in shortcuts.values()))
    if rule["type"] == "description":
        # WAA: the shortcut's content is JSON and ``data.description`` contains the text.
        for content in shortcuts.values():
            try:
                if rule["description"] in json.loads(content)["data"]["description"]:
                    return 1.0
            except (ValueError, KeyError, TypeError):
                continue
        return 0.0
    raise ValueError(f"is_shortcut_on_desktop: type {rule['type']!r} is not supported (WAA: name or description)")


@metric("is_url_shortcut_on_desktop")
def is_url_shortcut_on_desktop(shortcuts: dict[str, str] | None, rule: dict[str, Any]) -> float:
    if not shortcuts or rule["type"] != "url":
        return 0.0
    return float(any(rule["url_content"] in content for content in shortcuts.values()))


@metric("is_added_to_steam_cart")
def is_added_to_steam_cart(page: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    if not page:
        return 0.0
    content = page.get("content", "")
    return float(all(item in content for item in rule["items"]))

"""Getters on Chrome / Edge profile files (JSON and SQLite), at each platform's profile path.

The browser should be closed first (tasks do that in postconfig) so its files are flushed.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ..context import EvalContext
from ..registry import getter

PROFILE = {
    ("chrome", "windows"): ("AppData", "Local", "Google", "Chrome", "User Data"),
    ("chrome", "linux"): (".config", "google-chrome"),
    ("edge", "windows"): ("AppData", "Local", "Microsoft", "Edge", "User Data"),
    ("edge", "linux"): (".config", "microsoft-edge"),
}


def _profile_file(ctx: EvalContext, browser: str, *parts: str) -> str:
    root = PROFILE[(browser, ctx.vm_platform())]
    sub = parts if parts[0] == "Local State" else ("Default", *parts)
    return ctx.home(*root, *sub)


def _json_file(ctx: EvalContext, browser: str, name: str) -> Any:
    local = ctx.fetch_vm_file(_profile_file(ctx, browser, name), f"{browser}-{name}.json")
    if local is None:
        return None
    try:
        return json.loads(Path(local).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None  # WAA's getter answers None for a profile file it cannot parse


def _sqlite_rows(ctx: EvalContext, browser: str, parts: tuple[str, ...], dest: str, sql: str) -> list[Any] | None:
    local = ctx.fetch_vm_file(_profile_file(ctx, browser, *parts), dest)
    if local is None:
        return None
    with sqlite3.connect(local) as db:
        return db.execute(sql).fetchall()


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _pref_getter(name: str, browser: str, file: str, path: tuple[str, ...], shape: str, default: Any = None) -> None:
    @getter(name)
    def get(ctx: EvalContext, spec: dict[str, Any]) -> Any:
        data = _json_file(ctx, browser, file)
        value = _dig(data, path) if data is not None else None
        if shape == "bool_str":
            return "true" if value else "false"
        if shape == "present_str":
            return "true" if value is not None else "false"
        return default if value is None else value


_pref_getter("enable_do_not_track", "chrome", "Preferences", ("enable_do_not_track",), "bool_str")
_pref_getter("enable_enhanced_safety_browsing", "chrome", "Preferences", ("safebrowsing", "enhanced"), "bool_str")
_pref_getter("data_delete_automacally", "chrome", "Preferences", ("profile", "default_content_setting_values"),
             "present_str")
_pref_getter("default_search_engine", "chrome", "Preferences",
             ("default_search_provider_data", "template_url_data", "short_name"), "value", "Google")
for _browser, _suffix in (("chrome", ""), ("edge", "_from_edge")):
    _pref_getter(f"profile_name{_suffix}", _browser, "Preferences", ("profile", "name"), "value")


# Edge's own getters read other keys than Chrome's and answer 1.0 / 0.0, not "true" / "false"
# (WAA's edge.py); its tasks expect those floats.
EDGE_ONLY = "reads Edge's profile where WAA's getter supports Windows only"
_CLEAR_ON_EXIT = {"browsing_history": True, "cache": True, "cookies": True, "download_history": True,
                  "form_data": True, "hosted_apps_data": False, "passwords": True, "site_settings": True}
_EDGE_ENGINES = {
    "485bf7d3-0215-45af-87dc-538868000001": "Bing", "485bf7d3-0215-45af-87dc-538868000002": "Yahoo!",
    "485bf7d3-0215-45af-87dc-538868000003": "Google", "485bf7d3-0215-45af-87dc-538868000092": "DuckDuckGo",
    "485bf7d3-0215-45af-87dc-538868000015": "Yandex",
}


def _edge_prefs(ctx: EvalContext) -> Any:
    return _json_file(ctx, "edge", "Preferences")


@getter("enable_do_not_track_from_edge", platform="windows", why=EDGE_ONLY)
def enable_do_not_track_from_edge(ctx: EvalContext, spec: dict[str, Any]) -> float:
    data = _edge_prefs(ctx)
    return 1.0 if isinstance(data, dict) and data.get("enable_do_not_track") else 0.0


@getter("enable_enhanced_safety_browsing_from_edge", platform="windows", why=EDGE_ONLY)
def enable_enhanced_safety_browsing_from_edge(ctx: EvalContext, spec: dict[str, Any]) -> float:
    return 1.0 if _dig(_edge_prefs(ctx), ("edge", "super_duper_secure_mode", "enabled")) else 0.0


@getter("data_delete_automacally_from_edge", platform="windows", why=EDGE_ONLY)
def data_delete_automacally_from_edge(ctx: EvalContext, spec: dict[str, Any]) -> float:
    return 1.0 if _dig(_edge_prefs(ctx), ("browser", "clear_data_on_exit")) == _CLEAR_ON_EXIT else 0.0


@getter("default_search_engine_from_edge", platform="windows", why=EDGE_ONLY)
def default_search_engine_from_edge(ctx: EvalContext, spec: dict[str, Any]) -> str:
    guid = _dig(_edge_prefs(ctx), ("default_search_provider", "synced_guid"))
    return _EDGE_ENGINES.get(guid, "Unknown") if isinstance(guid, str) else "Unknown"
_pref_getter("chrome_font_size", "chrome", "Preferences", ("webkit", "webprefs"), "value",
             {"default_fixed_font_size": 13, "default_font_size": 16})
_pref_getter("edge_font_size", "edge", "Preferences", ("webkit", "webprefs"), "value",
             {"default_fixed_font_size": 13, "default_font_size": 16})
_pref_getter("enabled_experiments", "chrome", "Local State", ("browser", "enabled_labs_experiments"), "value", [])
_pref_getter("bookmarks", "chrome", "Bookmarks", ("roots",), "value")
_pref_getter("favorites", "edge", "Bookmarks", ("roots",), "value")
_pref_getter("edge_default_download_folder", "edge", "Preferences", ("download", "default_directory"), "value")


@getter("edge_home_page")
def edge_home_page(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    data = _json_file(ctx, "edge", "Secure Preferences")
    page = _dig(data, ("homepage",)) if data else None
    if not page:
        return None
    return page.split("://", 1)[-1].rstrip("/")


def _history(browser: str) -> Any:
    def get(ctx: EvalContext, spec: dict[str, Any]) -> Any:
        return _sqlite_rows(ctx, browser, ("History",), spec.get("dest", f"{browser}-History"),
                            "SELECT url, title, last_visit_time FROM urls")

    return get


def _cookies(browser: str) -> Any:
    def get(ctx: EvalContext, spec: dict[str, Any]) -> Any:
        parts = ("Network", "Cookies") if ctx.vm_platform() == "windows" else ("Cookies",)
        return _sqlite_rows(ctx, browser, parts, spec.get("dest", f"{browser}-Cookies"), "SELECT * FROM cookies")

    return get


getter("history")(_history("chrome"))
getter("history_for_edge")(_history("edge"))
getter("cookie_data")(_cookies("chrome"))
getter("cookie_data_for_edge")(_cookies("edge"))


@getter("gotoRecreationPage_and_get_html_content")
def gotoRecreationPage_and_get_html_content(ctx: EvalContext, spec: dict[str, Any]) -> Any:  # noqa: N802
    """OSWorld's walk on recreation.gov (search "Diamond", open the first result, ask for the next available
    date), then the text of ``class`` (the ``order``-th one) on that page, as ``{"expected": {class: text}}``."""
    return ctx.browser.run("recreation", selector=spec.get("selector"), name=spec.get("class"),
                           order=spec.get("order"))


# ---- the open tabs, through the browser's DevTools port (arena_gym/browser.py)
@getter("open_tabs_info")
def open_tabs_info(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """``[{"title", "url"}]`` of every open tab."""
    return ctx.browser.run("tabs_info")


@getter("page_info")
def page_info(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """``{"title", "url", "content"}`` of ``url`` loaded in a new tab."""
    return ctx.browser.run("page_info", url=spec["url"])


@getter("active_tab_html_parse")
def active_tab_html_parse(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """Elements of the tab the address bar shows, read by ``spec["category"]`` (see ``browser.parse_page``);
    None without an address bar, ``{}`` when no tab is at its URL."""
    url = active_url_from_accessTree(ctx, spec)
    return None if url is None else ctx.browser.run("html_parse", url=url, config=spec)


@getter("info_from_website")
def info_from_website(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """Texts or attributes read on ``url`` (``infos``), or the task's ``backups`` when the site changed."""
    return ctx.browser.run("website_info", url=spec["url"], infos=spec.get("infos", []), backups=spec.get("backups"))


@getter("pdf_from_url")
def pdf_from_url(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """``path`` (a URL) printed to a PDF, saved as ``dest``."""
    import uuid

    target = ctx.cache_dir / spec["dest"]
    if ctx.browser.cdp_url is not None:
        return ctx.browser.run("pdf", url=spec["path"], path=str(target))
    # Printed where the browser is, into the home (what the VM's programs and its file route both reach),
    # then fetched.
    on_vm = f"~/arena-gym-page-{uuid.uuid4().hex}.pdf"
    ctx.browser.run("pdf", url=spec["path"], path=on_vm)
    target.write_bytes(ctx.client.file(on_vm))
    ctx.client.execute(f"rm -f {on_vm}", True)
    return str(target)


@getter("active_tab_info")
def active_tab_info(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """The active tab (its URL read from the address bar, as OSWorld reads it) loaded again in a new tab:
    ``{"title", "url", "content"}``; None when there is no address bar."""
    url = active_url_from_accessTree(ctx, spec)
    return None if url is None else ctx.browser.run("page_info", url=url)


# ---- OSWorld's: Chrome's address bar from the accessibility tree, and facts from its Preferences file
ADDRESS_BAR = ('application[name="Google Chrome"] entry[name="Address and search bar"], '
               'application[name="Chromium"] entry[name="Address and search bar"]')


@getter("active_url_from_accessTree")
def active_url_from_accessTree(ctx: EvalContext, spec: dict[str, Any]) -> str | None:  # noqa: N802 - OSWorld's name
    """The address bar's text (Chrome's, or Chromium's) with ``goto_prefix`` (default ``https://``) in
    front, as OSWorld reads it: None when there is no address bar or it is empty."""
    import lxml.etree
    from lxml.cssselect import CSSSelector

    tree = ctx.client.accessibility()
    if not tree:
        return None
    try:
        root = lxml.etree.fromstring(tree.encode())
    except lxml.etree.XMLSyntaxError:
        return None
    bars = CSSSelector(ADDRESS_BAR)(root)
    if not bars or not bars[-1].text:
        return None
    return f"{spec.get('goto_prefix', 'https://')}{bars[0].text}"


def _chrome_preferences(ctx: EvalContext) -> Any:
    """Chrome's Preferences as JSON; OSWorld's getters answer the string "Google" when it cannot be read."""
    data = _json_file(ctx, "chrome", "Preferences")
    return "Google" if data is None else data


def _extensions(ctx: EvalContext, field: Any) -> Any:
    """``field(settings)`` of every extension in Chrome's Preferences; "Google" where OSWorld answers it."""
    data = _chrome_preferences(ctx)
    if not isinstance(data, dict):
        return data
    try:
        return [field(ext) for ext in data.get("extensions", {}).get("settings", {}).values()]
    except (KeyError, TypeError, AttributeError):
        return "Google"


@getter("find_unpacked_extension_path")
def find_unpacked_extension_path(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    return _extensions(ctx, lambda ext: ext["path"])


@getter("find_installed_extension_name")
def find_installed_extension_name(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    return _extensions(ctx, lambda ext: ext["manifest"]["name"])


@getter("new_startup_page")
def new_startup_page(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """"true" when Chrome opens the new tab page on start (no session setting, or restore_on_startup 5)."""
    data = _chrome_preferences(ctx)
    if not isinstance(data, dict):
        return data
    if "session" not in data:
        return "true"
    return "true" if data.get("session", {}).get("restore_on_startup", {}) == 5 else "false"


@getter("active_tab_url_parse")
def active_tab_url_parse(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The query parameters ``parse_keys`` of the address bar's URL (renamed by ``replace``; split at commas
    with ``split_list``), as OSWorld parses them."""
    from urllib.parse import parse_qs, urlparse

    url = active_url_from_accessTree(ctx, spec)
    if url is None:
        return None
    query = parse_qs(urlparse(url).query)
    params: dict[str, Any] = {key: query.get(key, [""])[0] for key in spec["parse_keys"]}
    for old, new in (spec.get("replace") or {}).items():
        params[new] = params.pop(old)
    if spec.get("split_list", False):
        params = {key: value.split(",") for key, value in params.items()}
    return params


@getter("url_dashPart")
def url_dashPart(ctx: EvalContext, spec: dict[str, Any]) -> Any:  # noqa: N802 - OSWorld's name
    """Part ``partIndex`` of the address bar's URL split at "/" (without its query with ``needDeleteId``), as
    a string or ``{key: part}``."""
    url = active_url_from_accessTree(ctx, spec)
    if url is None:
        return None
    try:
        index = int(spec["partIndex"])
    except (TypeError, ValueError):
        return None
    parts = url.split("/")
    if index >= len(parts):
        return None
    part = parts[index].split("?")[0] if spec.get("needDeleteId", False) else parts[index]
    if spec["returnType"] == "string":
        return part
    if spec["returnType"] == "json":
        return {spec["key"]: part}
    return None

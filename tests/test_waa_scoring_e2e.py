"""Every metric the 154 WAA tasks use, scored end to end: the task's own evaluator block, its real
getters against a stock-protocol VM double (files on its disk, programs on its command line), gold
files from a loopback asset server standing in for WAA's asset repository, then the metric.

For each task: a perfect result scores 1.0, a wrong one a valid 0.0. A metric that raises is a
failure here, never a silent 0. Tasks whose getters read the live browser (the double has none) must
never score 1 here, and their metrics are checked on the values WAA's getters return.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from arena_gym.evaluators import EvalContext, evaluate, get_metric
from arena_gym.evaluators.preflight import scoring_blockers
from arena_gym.protocol import ArenaClient
from arena_gym.tasks.loader import load_tasks
from arena_gym.tasks.models import Task

from .support.standins import AssetServer
from .support.stock_server import DESKTOP, HOME, StockWAAServer
from .support.waa_results import artifacts, sqlite_bytes

WAA_TASKS = Path(__file__).resolve().parents[2] / "shared" / "waa_tasks"
WAA_HOSTS = ("raw.githubusercontent.com", "drive.google.com")  # WAA's asset repository, and one Drive file
CHROME = f"{HOME}\\AppData\\Local\\Google\\Chrome\\User Data"
EDGE = f"{HOME}\\AppData\\Local\\Microsoft\\Edge\\User Data"
FILE_GETTERS = {"vm_file", "vlc_config", "vm_wallpaper"}

pytestmark = pytest.mark.skipif(not WAA_TASKS.is_dir(), reason=f"WAA's task files are not at {WAA_TASKS}")


@pytest.fixture(scope="module")
def waa_tasks() -> list[Task]:
    return load_tasks(WAA_TASKS)


@pytest.fixture
def world(tmp_path):
    answers: dict[str, str] = {}

    def program(argv: list[str]) -> tuple[str, str, int]:
        return answers.get("stdout", ""), "", 0

    with StockWAAServer(programs={"cmd": program, "powershell": program, "code": program}) as vm:
        with AssetServer(WAA_HOSTS) as assets:
            yield vm, assets, answers, tmp_path


def _score(vm: StockWAAServer, assets: AssetServer, task: Task, cache: Path) -> Any:
    with ArenaClient(vm.url, dialect="waa") as client:
        ctx = EvalContext(client, cache, platform="windows", mirrors=assets.mirrors())
        return evaluate(task, ctx, "DONE", run_postconfig=False)


def _items(task: Task) -> list[tuple[str, Any, Any, dict[str, Any]]]:
    ev = task.evaluator
    names = ev.metrics
    n = len(names)
    results = ev.result if isinstance(ev.result, list) else [ev.result] * n
    expecteds = ev.expected if isinstance(ev.expected, list) else [ev.expected] * n
    options = ev.options if isinstance(ev.options, list) else [ev.options or {}] * n
    return [(names[i], results[i], expecteds[i], options[i] or {}) for i in range(n)]


def _rules(expected: Any) -> Any:
    return expected.options().get("rules") if expected is not None and expected.type == "rule" else None


def _result_location(spec: Any) -> str:
    opts = spec.options()
    if spec.type == "vm_file":
        return opts["path"]
    if spec.type == "vlc_config":
        return f"{HOME}\\AppData\\Roaming\\vlc\\vlcrc"
    return f"{HOME}\\AppData\\Roaming\\Microsoft\\Windows\\Themes\\TranscodedWallpaper"


# ---- getters that read state rather than one result file: what a perfect and a wrong agent leave

def _profile_state(getter: str, rules: Any) -> tuple[dict[str, bytes], dict[str, bytes]] | None:
    """Files (VM path -> bytes) for a browser-profile getter: (good, bad)."""
    edge = getter.endswith("_from_edge") or getter.startswith("edge_") or getter in (
        "favorites", "history_for_edge", "cookie_data_for_edge")
    root = EDGE if edge else CHROME
    prefs = f"{root}\\Default\\Preferences"
    expected = rules.get("expected") if isinstance(rules, dict) else None
    base = getter.removesuffix("_from_edge")

    def pref(data: dict[str, Any]) -> bytes:
        return json.dumps(data).encode()

    on = expected in ("true", 1.0)
    if base == "enable_do_not_track":
        return {prefs: pref({"enable_do_not_track": on})}, {prefs: pref({"enable_do_not_track": not on})}
    if getter == "enable_enhanced_safety_browsing_from_edge":
        def secure(flag: bool) -> bytes:
            return pref({"edge": {"super_duper_secure_mode": {"enabled": flag}}})
        return {prefs: secure(on)}, {prefs: secure(not on)}
    if base == "enable_enhanced_safety_browsing":
        return ({prefs: pref({"safebrowsing": {"enhanced": on}})}, {prefs: pref({"safebrowsing": {"enhanced": not on}})})
    if getter == "data_delete_automacally_from_edge":
        clear = {"browsing_history": True, "cache": True, "cookies": True, "download_history": True, "form_data": True,
                 "hosted_apps_data": False, "passwords": True, "site_settings": True}
        return {prefs: pref({"browser": {"clear_data_on_exit": clear}})}, {prefs: pref({"browser": {}})}
    if getter == "default_search_engine_from_edge":
        guids = {"Bing": "485bf7d3-0215-45af-87dc-538868000001", "Google": "485bf7d3-0215-45af-87dc-538868000003",
                 "DuckDuckGo": "485bf7d3-0215-45af-87dc-538868000092"}
        return ({prefs: pref({"default_search_provider": {"synced_guid": guids[expected]}})},
                {prefs: pref({"default_search_provider": {"synced_guid": "nope"}})})
    if base == "profile_name":
        return {prefs: pref({"profile": {"name": expected}})}, {prefs: pref({"profile": {"name": "Someone"}})}
    if base == "default_search_engine":
        data = {"default_search_provider_data": {"template_url_data": {"short_name": expected}}}
        other = {"default_search_provider_data": {"template_url_data": {"short_name": "Other"}}}
        return {prefs: pref(data)}, {prefs: pref(other)}
    if base == "data_delete_automacally":
        present = {"profile": {"default_content_setting_values": {"cookies": 4}}}
        return {prefs: pref(present if on else {})}, {prefs: pref({} if on else present)}
    if base in ("chrome_font_size", "edge_font_size"):
        size = rules.get("value", (rules.get("min", 0) + 1))
        return ({prefs: pref({"webkit": {"webprefs": {"default_font_size": size}}})},
                {prefs: pref({"webkit": {"webprefs": {"default_font_size": 1}}})})
    if base == "enabled_experiments":
        state = f"{root}\\Local State"
        names = [f"{n}@1" for n in rules["names"]]
        return ({state: pref({"browser": {"enabled_labs_experiments": names}})},
                {state: pref({"browser": {"enabled_labs_experiments": []}})})
    if base in ("bookmarks", "favorites"):
        marks = f"{root}\\Default\\Bookmarks"
        if rules["type"] == "bookmark_bar_websites_urls":
            children = [{"type": "url", "name": u, "url": u} for u in rules["urls"]]
        else:
            children = [{"type": "folder", "name": n, "children": []} for n in rules["names"]]
        return ({marks: pref({"roots": {"bookmark_bar": {"children": children}}})},
                {marks: pref({"roots": {"bookmark_bar": {"children": []}}})})
    if base in ("history", "history_for_edge"):
        path = f"{root}\\Default\\History"
        create = "CREATE TABLE urls (url TEXT, title TEXT, last_visit_time INTEGER)"
        dirty = [(f"https://www.{k}.com/watch", k, 1) for k in rules["keywords"]]
        return ({path: sqlite_bytes(create, [("https://example.org/", "ok", 1)])}, {path: sqlite_bytes(create, dirty)})
    if base in ("cookie_data", "cookie_data_for_edge"):
        path = f"{root}\\Default\\Network\\Cookies"
        create = "CREATE TABLE cookies (creation_utc INTEGER, host_key TEXT, name TEXT, value TEXT)"
        dirty = [(1, d, "session", "x") for d in rules["domains"]]
        return ({path: sqlite_bytes(create, [(1, ".example.org", "a", "b")])}, {path: sqlite_bytes(create, dirty)})
    return None


def _place_state(vm: StockWAAServer, answers: dict[str, str], spec: Any, rules: Any, good: bool) -> bool:
    """Put what a perfect (or a wrong) agent leaves for a state getter; False when not handled here."""
    opts = spec.options()
    kind = spec.type
    if kind == "zipped_folder_in_desktop":
        import io

        import py7zr

        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w", password=opts["password"] if good else None) as archive:
            archive.writestr(b"notes", "OldProjects/example.txt")
        vm.put(opts["filename"], buf.getvalue())
        return True
    if kind == "is_file_saved_desktop":
        vm.put(f"{DESKTOP}\\{opts['filename']}", opts["textcontent"] if good else "something else")
        return True
    if kind in ("is_file_desktop", "vm_file_exists_in_desktop"):
        name = opts.get("filename") or opts["file_name"]
        if good:
            vm.put(f"{DESKTOP}\\{name}", "x")
        return True
    if kind == "vm_file_exists_in_vm_folder":
        if good:
            vm.put(f"{opts['folder_name']}\\{opts['file_name']}", "x")
        return True
    if kind == "vm_folder_exists_in_documents":
        if good:
            vm.local(f"{HOME}\\Documents\\{opts['folder_name']}").mkdir(parents=True, exist_ok=True)
        return True
    if kind == "vm_command_line" and isinstance(rules, dict):
        want = str(rules.get("expected", ""))
        if rules.get("type") == "not_contain":
            answers["stdout"] = "nothing to see" if good else f"...{want}..."
        elif rules.get("type") == "contain":
            answers["stdout"] = f"...{want}..." if good else "nothing to see"
        else:
            answers["stdout"] = want if good else want + "-not"
        return True
    if kind in ("shortcuts_on_desktop", "url_shortcuts_on_desktop"):
        if kind == "url_shortcuts_on_desktop":
            name, content = "game.url", f"[InternetShortcut]\nURL={rules['url_content']}\n"
        elif rules["type"] == "description":
            name, content = "game.lnk", json.dumps({"data": {"description": rules["description"]}})
        else:
            name, content = "game.lnk", f"[Desktop Entry]\nName={rules['name']}\n"
        if good:
            vm.put(f"{DESKTOP}\\{name}", content)
        return True
    state = _profile_state(kind, rules)
    if state is None:
        return False
    for path, data in state[0 if good else 1].items():
        vm.put(path, data)
    return True


def _prepare(vm: StockWAAServer, assets: AssetServer, answers: dict[str, str], task: Task, good: bool) -> bool:
    for metric, result, expected, options in _items(task):
        rules = _rules(expected)
        if result is None or result.type not in FILE_GETTERS:
            if result is None or not _place_state(vm, answers, result, rules, good):
                return False
            continue
        path = _result_location(result)
        made = artifacts(metric, path, rules, options)
        payload = made.good if good else made.bad
        if payload is not None:
            vm.put(path, payload)
        if expected is not None and expected.type == "cloud_file":
            assert made.gold is not None, f"{metric}: the task downloads a gold file; make one"
            assets.add(expected.options()["path"], made.gold)
        elif expected is not None and expected.type == "vm_file":
            vm.put(expected.options()["path"], made.gold or made.good or b"")
    return True


def _reset(vm: StockWAAServer) -> None:
    for child in vm.drive.iterdir():
        shutil.rmtree(child)
    for folder in ("Desktop", "Documents", "Downloads"):
        vm.local(f"{HOME}\\{folder}").mkdir(parents=True, exist_ok=True)


# Getters WAA reads from the live browser (DevTools, UI Automation): their tasks are unscorable here,
# and the metric is checked on the value WAA's getter returns. metric -> (good value, bad value, rules)
LIVE_BROWSER_VALUES = {
    "is_expected_tabs": ([{"title": "b", "url": "https://www.airbnb.com"}, {"title": "a", "url": "https://lonelyplanet.com/"},
                          {"title": "t", "url": "https://www.tripadvisor.com"}],
                         [{"title": "a", "url": "https://www.lonelyplanet.com"}],
                         {"type": "url", "urls": ["https://www.lonelyplanet.com", "https://www.airbnb.com",
                                                  "https://www.tripadvisor.com"]}),
    "is_added_to_steam_cart": ({"title": "Cart", "url": "u", "content": "<div>The Dota 2 Official Soundtrack</div>"},
                               {"title": "Cart", "url": "u", "content": "<div>Your cart is empty</div>"},
                               {"items": ["The Dota 2 Official Soundtrack"]}),
    "check_direct_json_object": ({"fromStation": "BOM", "toStation": "STO", "time": "2026-12-07"},
                                 {"fromStation": "BOM", "toStation": "LHR", "time": "2026-12-07"},
                                 {"expected": {"fromStation": "BOM", "toStation": "STO", "time": "2026-12-07"}}),
    "is_expected_active_tab": ({"title": "t", "url": "https://discussions.flightaware.com/t/the-banter-thread/4412"},
                               {"title": "t", "url": "https://flightaware.com/"},
                               {"type": "url", "url": "https://discussions.flightaware.com/t/the-banter-thread/4412"}),
}


LIVE_GETTERS = {"open_tabs_info", "active_tab_info", "page_info", "active_tab_url_parse", "url_dashPart",
                "active_url_from_accessTree", "active_tab_html_parse", "info_from_website", "pdf_from_url"}


def _reads_the_live_browser(task: Task) -> bool:
    specs = [s for role in (task.evaluator.result, task.evaluator.expected)
             for s in (role if isinstance(role, list) else [role]) if s is not None]
    return any(getattr(spec, "type", None) in LIVE_GETTERS for spec in specs)


@pytest.mark.slow  # every metric of 154 tasks through its getters: the heavy tier
def test_every_waa_metric_scores_one_for_a_perfect_result_and_a_valid_zero_for_a_wrong_one(waa_tasks, world):
    vm, assets, answers, tmp = world
    used = {name for t in waa_tasks for name in t.evaluator.metrics} - {"infeasible"}
    checked: dict[str, set[str]] = {}
    failures: list[str] = []
    unscorable_seen: set[str] = set()
    for task in waa_tasks:
        if task.evaluator.infeasible:
            continue
        if _reads_the_live_browser(task):
            # The double has no browser: its tabs cannot be read, so no score, or a 0 for no browser open.
            out = _score(vm, assets, task, tmp / f"{task.task_id}-live")
            if out.reward_valid and out.score > 0:
                failures.append(f"{task.task_id}: no browser, yet scored {out.score}")
            unscorable_seen.update(task.evaluator.metrics)
            continue
        blockers = [b for b in scoring_blockers(task, "windows") if not b.startswith(("config", "postconfig"))]
        if blockers:
            out = _score(vm, assets, task, tmp / f"{task.task_id}-blocked")
            if out.reward_valid:
                failures.append(f"{task.task_id}: blocked ({blockers[0]}) but scored {out.score} as valid")
            unscorable_seen.update(task.evaluator.metrics)
            continue
        for good, want in ((True, 1.0), (False, 0.0)):
            _reset(vm)
            answers.clear()
            if not _prepare(vm, assets, answers, task, good):
                break
            out = _score(vm, assets, task, tmp / f"{task.task_id}-{good}")
            if not out.reward_valid or out.score != want:
                failures.append(f"{task.domain}/{task.task_id[:8]} {'good' if good else 'bad'}: "
                                f"{out.score} valid={out.reward_valid} {out.unscorable or out.infra_error or out.details}")
        else:
            for name in task.evaluator.metrics:
                checked.setdefault(name, set()).add(task.task_id)
    # Metrics whose every task reads the live browser: WAA-shaped values straight into the metric.
    for name, (good_value, bad_value, rules) in LIVE_BROWSER_VALUES.items():
        assert get_metric(name)(good_value, rules) == 1.0, name
        assert get_metric(name)(bad_value, rules) == 0.0, name
    assert not failures, "\n".join(failures)
    missing = used - set(checked) - set(LIVE_BROWSER_VALUES)
    assert not missing, f"metrics no task checked end to end: {sorted(missing)}"
    assert set(LIVE_BROWSER_VALUES) <= unscorable_seen
    print(f"\n{len(set().union(*checked.values()))} tasks checked end to end over {len(checked)} metrics")
    uses = {name: sum(name in t.evaluator.metrics for t in waa_tasks) for name in used}
    for name in sorted(used, key=lambda n: -uses[n]):
        print(f"| {name} | {uses[name]} | {len(checked.get(name, ()))} |")


@pytest.mark.parametrize(("route", "status"), [("/file", 503), ("/file", 500), ("/file", 401), ("/execute", 500),
                                               ("/file", 403)])
def test_a_vm_that_fails_or_refuses_a_read_gives_an_infrastructure_failure_not_a_zero(waa_tasks, world, route, status):
    vm, assets, answers, tmp = world
    by_id = {t.task_id: t for t in waa_tasks}
    # A file-reading task and a command-reading task, each with a perfect result in place.
    task = by_id["366de66e-cbae-4d72-b042-26390db2b145-WOS"] if route == "/file" else next(
        t for t in waa_tasks if not t.evaluator.infeasible and isinstance(t.evaluator.result, object)
        and getattr(t.evaluator.result, "type", "") == "vm_command_line" and not scoring_blockers(t, "windows"))
    assert _prepare(vm, assets, answers, task, good=True)
    assert _score(vm, assets, task, tmp / "before").score == 1.0
    vm.fault(route, status)
    out = _score(vm, assets, task, tmp / "after")
    assert out.kind == "infra" and not out.reward_valid and out.infra_error, out
    assert str(status) in out.infra_error


def test_a_missing_result_file_is_a_genuine_valid_zero(waa_tasks, world):
    vm, assets, answers, tmp = world
    task = {t.task_id: t for t in waa_tasks}["366de66e-cbae-4d72-b042-26390db2b145-WOS"]
    assert _prepare(vm, assets, answers, task, good=True)
    vm.local(_items(task)[1][1].options()["path"]).unlink()
    out = _score(vm, assets, task, tmp)
    assert out.kind == "valid" and out.score == 0.0

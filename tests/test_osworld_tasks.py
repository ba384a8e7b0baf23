"""OSWorld's own tasks, and WAA's LibreOffice tasks, on a local arena with OSWorld's app set (app profile
``osworld``): each task's setup runs (its files are stand-ins served on loopback), the untouched desktop
scores 0, and a scripted solution scores 1, with the reward valid both times. The cases are in
tests/support/osworld_cases.py and waa_local_cases.py."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import pytest

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.arena import LocalArena
from arena_gym.arena.profiles import OSWORLD as OSWORLD_PROFILE
from arena_gym.envs.catalog import keyed
from arena_gym.tasks.loader import load_folder

from .support.osworld_cases import CASES, Case, Solver
from .support.standins import AssetServer
from .support.waa_local_cases import WAA_CASES

pytestmark = pytest.mark.osworld

SHARED = Path(__file__).resolve().parents[2] / "shared"
TASKS = Path(os.environ.get("ARENA_GYM_OSWORLD_TASKS", SHARED / "osworld_tasks"))
WAA = Path(os.environ.get("ARENA_GYM_WAA_TASKS", SHARED / "waa_tasks"))
if not (TASKS / "examples").is_dir() or not (WAA / "examples").is_dir():
    pytest.skip(f"OSWorld's or WAA's task files not found at {TASKS}, {WAA} (set ARENA_GYM_OSWORLD_TASKS, "
                "ARENA_GYM_WAA_TASKS)", allow_module_level=True)
if OSWORLD_PROFILE.missing():
    pytest.skip(f"the osworld app profile is not installed ({', '.join(OSWORLD_PROFILE.packages())}): run bash "
                "scripts/setup.sh --osworld as root", allow_module_level=True)

ALL = keyed(load_folder(TASKS / "examples"))  # the env's own keys: "domain/id" where domains share an id
ALL_WAA = keyed(load_folder(WAA / "examples", ["libreoffice_calc", "libreoffice_writer"]))
PARAMS = [pytest.param(domain, case, id=f"{domain}-{case.task_id}") for domain, cases in CASES.items() for case in cases]


def full_id(prefix: str, tasks: dict = ALL, domain: str | None = None) -> str:
    found = [key for key, task in tasks.items() if task.task_id.startswith(prefix) and domain in (None, task.domain)]
    assert len(found) == 1, f"{prefix}: {found}"
    return found[0]


@pytest.fixture(scope="module")
def assets():
    with AssetServer(("drive.google.com", "drive.usercontent.google.com", "huggingface.co")) as server:
        yield server


@pytest.fixture(scope="module")
def osworld_arena(desktop_programs):
    with LocalArena(profile="osworld", size=(1920, 1080), apps=[]) as arena:
        yield arena


def _env(arena, assets, folder: Path):
    return gym.make("LocalDesktop-v0", server_url=arena.url, tasks={"folder": str(folder)},
                    asset_mirrors=assets.mirrors(), observation={"width": 960, "height": 540}, max_steps=100)


@pytest.fixture(scope="module")
def env(osworld_arena, assets):
    env = _env(osworld_arena, assets, TASKS / "examples")
    yield env
    env.close()


@pytest.fixture(scope="module")
def waa_env(osworld_arena, waa_assets):
    env = _env(osworld_arena, waa_assets, WAA / "examples")
    yield env
    env.close()


@pytest.fixture(scope="module")
def waa_assets():
    with AssetServer(("raw.githubusercontent.com",)) as server:
        yield server


def _episode(env, task_id: str) -> None:
    _, info = env.reset(options={"task_id": task_id})
    assert "infra_error" not in info, f"setup failed: {info['infra_error']}"


def _end(env, action: str) -> tuple[float, dict]:
    _, reward, terminated, _, info = env.step({"action_type": action})
    assert terminated and info["reward_valid"], info
    return reward, info


def _run_case(env, arena, assets, key: str, task, case: Case) -> None:
    task_id = key
    for url, data in case.assets(task).items():
        assets.add(url, data)
    _episode(env, task_id)
    untouched, info = _end(env, "DONE")
    assert untouched == 0.0, f"the untouched desktop scored {untouched}: {info.get('eval')}"
    _episode(env, task_id)
    case.solve(Solver(env, arena.client, arena))
    solved, info = _end(env, case.last)
    assert solved == 1.0, f"the solution scored {solved}: {info.get('eval')}"


@pytest.mark.parametrize(("domain", "case"), PARAMS)
def test_the_task_sets_up_scores_0_untouched_and_1_solved(env, osworld_arena, assets, domain: str, case: Case):
    key = full_id(case.task_id, ALL, domain)
    _run_case(env, osworld_arena, assets, key, ALL[key], case)


@pytest.mark.parametrize("case", WAA_CASES, ids=[c.task_id for c in WAA_CASES])
def test_a_waa_libreoffice_task_runs_without_windows(waa_env, osworld_arena, waa_assets, case: Case):
    """Its C:\\Users\\Docker paths land in the home; its "— LibreOffice" window titles match."""
    key = full_id(case.task_id, ALL_WAA)
    assert ALL_WAA[key].benchmark == "waa"
    _run_case(waa_env, osworld_arena, waa_assets, key, ALL_WAA[key], case)


def test_the_osworld_home_is_at_home_user(osworld_arena):
    client = osworld_arena.client
    assert client.execute("echo $HOME", True).output.strip() == "/home/user"
    client.upload("/home/user/Desktop/where.txt", b"here")
    assert (osworld_arena.home / "Desktop" / "where.txt").read_bytes() == b"here"  # the server maps it
    assert client.execute(["cat", "/home/user/Desktop/where.txt"]).output == "here"  # the apps see it


def test_a_qt_app_answers_the_readiness_ping(osworld_arena, monkeypatch):
    """VLC is a Qt app: Qt answers _NET_WM_PING to the root's StructureNotify (GTK to SubstructureNotify)."""
    from arena_gym.polling import poll_until
    from arena_gym.server.readiness import AppPinger

    client = osworld_arena.client
    client.launch(["vlc"], False)
    try:
        poll_until(lambda: "VLC media player" in client.window_titles(), 60, what="VLC's window")
        monkeypatch.setenv("DISPLAY", osworld_arena.display)
        pinger = AppPinger()
        answer = poll_until(lambda: (p := pinger.ping(2.0)).supported and p.rtt_ms < float("inf") and p, 30,
                            what="VLC's answer to a ping")
        assert answer.prompt
        pinger.reset()
    finally:
        client.execute(["pkill", "-x", "vlc"])


def test_the_devtools_side_channel_sets_up_and_scores_a_chrome_task_through_the_vm(osworld_arena, assets, tmp_path):
    """chrome_open_tabs, chrome_close_tabs and open_tabs_info on the arena's own Chromium, whose DevTools
    port only the arena's network namespace reaches: the operations run on the VM."""
    import json

    pages = {name: f"file:///home/user/Desktop/{name}.html" for name in ("a", "b", "c", "d")}
    for name in pages:
        osworld_arena.client.upload(f"/home/user/Desktop/{name}.html", f"<title>{name}</title>{name}".encode())
    task = {
        "id": "cdp-tabs", "snapshot": "chrome", "instruction": "Open d.html in a new tab.",
        "config": [
            {"type": "launch", "parameters": {"command": ["google-chrome", "--remote-debugging-port=1337"]}},
            {"type": "launch", "parameters": {"command": ["socat", "tcp-listen:9222,fork", "tcp:localhost:1337"]}},
            {"type": "chrome_open_tabs", "parameters": {"urls_to_open": [pages["a"], pages["b"], pages["c"]]}},
            {"type": "chrome_close_tabs", "parameters": {"urls_to_close": [pages["b"]]}},
        ],
        "evaluator": {"func": "is_expected_tabs", "result": {"type": "open_tabs_info"},
                      "expected": {"type": "rule", "rules": {"type": "url",
                                                             "urls": [pages["a"], pages["c"], pages["d"]]}}},
    }
    (tmp_path / "chrome").mkdir()
    (tmp_path / "chrome" / "cdp-tabs.json").write_text(json.dumps(task))
    env = _env(osworld_arena, assets, tmp_path)
    try:
        _episode(env, "cdp-tabs")
        untouched, _ = _end(env, "DONE")
        assert untouched == 0.0  # a and c are open, d is not
        _episode(env, "cdp-tabs")
        Solver(env, osworld_arena.client, osworld_arena).act(
            {"action_type": "HOTKEY", "keys": ["ctrl", "t"]}, {"action_type": "HOTKEY", "keys": ["ctrl", "l"]},
            {"action_type": "TYPING", "text": pages["d"]},
            {"action_type": "PRESS", "key": "enter"})
        solved, info = _end(env, "DONE")
        assert solved == 1.0, info.get("eval")
        # A page printed to PDF on the VM and fetched from it (pdf_from_url through the VM).
        from arena_gym.evaluators import EvalContext
        from arena_gym.evaluators.registry import get_getter

        ctx = EvalContext(osworld_arena.client, tmp_path / "cache", platform="linux")
        printed = get_getter("pdf_from_url")(ctx, {"path": pages["a"], "dest": "a.pdf"})
        assert Path(printed).read_bytes()[:5] == b"%PDF-"
        assert not list(osworld_arena.home.glob("arena-gym-page-*.pdf"))  # removed from the VM
    finally:
        env.close()
        osworld_arena.client.execute("pkill -x chromium; pkill -x socat", True)

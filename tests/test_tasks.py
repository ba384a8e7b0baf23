"""Loading WAA task files (the real 154, read from ../shared), errors that name the problem, platform needs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arena_gym.cli import main as cli
from arena_gym.tasks.loader import TaskFormatError, TaskNotFound, load_folder, load_suite, load_task
from arena_gym.tasks.platform import to_linux_path, translate_command, windows_needs

WAA = Path(os.environ.get("ARENA_GYM_WAA_TASKS", Path(__file__).resolve().parents[2] / "shared" / "waa_tasks"))
needs_waa = pytest.mark.skipif(
    not (WAA / "test_all.json").is_file(),
    reason=f"WAA task files not found at {WAA} (set ARENA_GYM_WAA_TASKS to a WAA checkout's task data folder)",
)


@needs_waa
def test_all_154_waa_tasks_load():
    tasks = load_suite(WAA / "test_all.json")
    assert len(tasks) == 154
    assert len({t.task_id for t in tasks}) == 154
    assert len(load_folder(WAA)) == 154
    # The file stem is the id (six stock files say otherwise inside).
    differ = {t.task_id: t.id for t in tasks if t.task_id != t.id}
    assert len(differ) == 6
    assert differ["02F10F89-7171-4D37-8550-A00BA8930CDF-2-WOS"] == "02F10F89-7171-4D37-8550-A00BA8930CDF-WOS-2"
    infeasible = [t for t in tasks if t.evaluator.infeasible]
    assert len(infeasible) == 13
    calc = next(t for t in tasks if t.domain == "libreoffice_calc" and t.evaluator.options)
    assert calc.evaluator.options["rules"][0]["type"] in {"sheet_data", "sheet_name", "pivot_table", "chart"}


@needs_waa
def test_small_suite_and_domains():
    assert len(load_suite(WAA / "test_small.json")) == 6
    assert {t.domain for t in load_folder(WAA, ["vlc", "notepad"])} == {"vlc", "notepad"}
    with pytest.raises(TaskNotFound, match="no tasks for domain"):
        load_folder(WAA, ["no_such_domain"])


@needs_waa
def test_tasks_command_shows_the_linux_windows_table(capsys):
    assert cli(["tasks", str(WAA / "test_all.json"), "--list"]) == 0
    out = capsys.readouterr().out
    table_part = out.split("\n\n")[0]
    lines = {line.split()[0]: line.split() for line in table_part.splitlines() if line and not line.startswith(" ")}
    # domain, tasks, then: local, windows, no app, online, lacking
    assert lines["total"][1] == "154"
    assert sum(int(n) for n in lines["total"][2:7]) == 154
    # Settings: three need Windows; two read registry values this build does not decode (lacking).
    assert lines["settings"][3] == "3" and lines["settings"][6] == "2"
    # Chrome: six kill the browser with taskkill; nine open live web pages (one prints a page to PDF).
    assert lines["chrome"][2:7] == ["2", "6", "0", "9", "0"]
    assert lines["libreoffice_calc"][2] == "24"
    assert lines["vs_code"][4] == "17"  # VS Code is not shipped
    assert "system_timezone: runs PowerShell Get-TimeZone" in out
    assert "decodes a Windows registry value" in out
    listing = out.split("\n\n")[1].splitlines()
    rows = [line.split() for line in listing if not line.startswith(" ")]
    assert len(rows) == 154 and {r[2] for r in rows} == {"local", "windows", "app", "online", "lacking"}  # lacking: 2 registry decoders
    assert any(r[0] == "0cecd4f3-74de-457b-ba94-29ad6b5dafb6-WOS" and r[1] == "libreoffice_calc" for r in rows)


OSWORLD = Path(os.environ.get("ARENA_GYM_OSWORLD_TASKS",
                              Path(__file__).resolve().parents[2] / "shared" / "osworld_tasks"))
needs_osworld = pytest.mark.skipif(
    not (OSWORLD / "test_all.json").is_file(),
    reason=f"OSWorld task files not found at {OSWORLD} (set ARENA_GYM_OSWORLD_TASKS to OSWorld's evaluation_examples)")


@needs_osworld
def test_all_369_osworld_tasks_load_and_name_only_registered_evaluators():
    from arena_gym.evaluators.registry import get_getter, get_metric

    tasks = load_suite(OSWORLD / "test_all.json")
    assert len(tasks) == 369 and {t.benchmark for t in tasks} == {"osworld"}
    metrics = {m for t in tasks for m in t.evaluator.metrics}
    getters = {g.type for t in tasks for role in (t.evaluator.result, t.evaluator.expected)
               for g in (role if isinstance(role, list) else [role]) if g is not None}
    assert len(metrics) == 111 and len(getters) == 47
    for name in metrics:
        get_metric(name, "osworld")  # raises on an unknown name
    for name in getters:
        get_getter(name)


@needs_osworld
def test_the_osworld_table_splits_local_from_missing_apps_accounts_and_what_is_lacking(capsys):
    assert cli(["tasks", str(OSWORLD / "test_all.json"), "--list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.split("\n\n")[0].splitlines()[1:-1]}
    assert lines["total"][1:] == ["369", "280", "0", "35", "54", "0"]  # nothing this build lacks
    assert lines["vs_code"][1:7] == ["23", "0", "0", "23", "0", "0"]  # VS Code is not shipped
    for domain in ("gimp", "libreoffice_calc", "libreoffice_impress", "libreoffice_writer", "os", "thunderbird", "vlc"):
        assert lines[domain][1] == lines[domain][2], f"{domain}: every task sets up and scores locally"
    assert "needs a Google account (Google Drive)" in out


def test_invalid_files_name_the_file_and_field(tmp_path):
    bad = tmp_path / "examples" / "demo" / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({"id": "x", "instruction": "i", "config": [{"type": "launch", "parameters": {}}],
                               "evaluator": {"func": "exact_match"}}))
    with pytest.raises(TaskFormatError) as info:
        load_task(bad)
    assert str(bad) in str(info.value) and "config[0].command: Field required" in str(info.value)
    bad.write_text('{"id": "x",')
    with pytest.raises(TaskFormatError, match="not valid JSON at line 1"):
        load_task(bad)
    bad.write_text(json.dumps({"id": "x", "instruction": "i", "evaluator": {"func": ["a", "b"], "result": [{"type": "r"}]}}))
    with pytest.raises(TaskFormatError, match="func lists 2 metrics but result has 1 entries"):
        load_folder(tmp_path)
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"demo": ["missing"]}))
    with pytest.raises(TaskNotFound, match="lists demo/missing"):
        load_suite(suite)


def test_windows_paths_map_to_home():
    assert to_linux_path("C:\\Users\\Docker\\Downloads\\a b.xlsx") == "~/Downloads/a b.xlsx"
    assert to_linux_path("c:\\users\\docker") == "~"
    assert to_linux_path("/etc/hosts") == "/etc/hosts"
    assert translate_command(["code", "C:\\Users\\Docker\\x.txt"]) == ["code", "~/x.txt"]
    assert translate_command('soffice "C:\\Users\\Docker\\Desktop\\a.xlsx"') == 'soffice "~/Desktop/a.xlsx"'


@needs_waa
def test_windows_needs_name_the_reason():
    notepad = load_folder(WAA, ["notepad"])[0]
    assert any("no Linux version" in str(n) for n in windows_needs(notepad))
    calc = load_folder(WAA, ["libreoffice_calc"])
    assert all(windows_needs(t) == [] for t in calc)


def test_seeded_choice_covers_the_tasks():
    import numpy as np

    from arena_gym.envs.catalog import TaskCatalog
    from arena_gym.envs.config import TaskSelection

    catalog = TaskCatalog(TaskSelection(domains=["files"]), local=True)
    ids = sorted(catalog.ids())
    assert len(ids) == 3
    rng = np.random.default_rng(0)
    assert sorted(catalog.choose(rng, "linux", seed=s) for s in range(3)) == ids  # seeds 0..n-1: every task
    assert sorted(catalog.choose(rng, "linux", seed=s) for s in range(3, 6)) == ids
    assert [catalog.choose(rng, "linux", seed=4) for _ in range(2)] == [catalog.choose(rng, "linux", seed=4)] * 2
    assert sorted(catalog.choose(rng, "linux") for _ in range(3)) == ids  # unseeded: a shuffled deck, dealt


def test_every_not_found_names_what_exists():
    import gymnasium as gym

    from arena_gym.commands import run as run_command  # noqa: F401 - the command catches this error kind
    from arena_gym.envs.catalog import TaskCatalog
    from arena_gym.envs.config import TaskSelection
    from arena_gym.tasks.loader import TaskNotFound

    with pytest.raises(TaskNotFound, match=r"no domain 'Pixels' \(did you mean pixels.*known domains: files, pixels"):
        TaskCatalog(TaskSelection(domains=["Pixels"]), local=True).ids()
    with pytest.raises(TaskNotFound, match=r"no domain 'texteditor' \(did you mean text_editor"):
        TaskCatalog(TaskSelection(domains=["texteditor"]), local=True).ids()
    with pytest.raises(TaskNotFound, match=r"no task id 'nope' in the local suite; known task ids: calc-label-cell"):
        TaskCatalog(TaskSelection(ids=["nope"]), local=True).ids()
    env = gym.make("LocalDesktop-v0", tasks={"domains": ["notepad"]})
    try:
        with pytest.raises(TaskNotFound, match="needs? a Windows VM|Windows domains need a Windows VM"):
            env.unwrapped.catalog.ids()
    finally:
        env.close()


def test_run_says_what_exists_without_a_traceback(capsys):
    assert cli(["run", "--task-id", "nope", "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "known task ids" in err and "Traceback" not in err


def test_an_id_two_domains_share_keeps_both_tasks(tmp_path):
    """OSWorld gives 11 ids to a chrome task and a thunderbird task alike: neither may hide the other."""
    from arena_gym.envs.catalog import TaskCatalog
    from arena_gym.envs.config import TaskSelection

    for domain in ("chrome", "thunderbird"):
        (tmp_path / "examples" / domain).mkdir(parents=True)
        (tmp_path / "examples" / domain / "same-id.json").write_text(json.dumps(
            {"id": "same-id", "instruction": f"a {domain} task", "config": [], "evaluator": {"func": "infeasible"}}))
    (tmp_path / "examples" / "chrome" / "other.json").write_text(json.dumps(
        {"id": "other", "instruction": "i", "config": [], "evaluator": {"func": "infeasible"}}))
    catalog = TaskCatalog(TaskSelection(folder=str(tmp_path / "examples")), local=True)
    assert sorted(catalog.ids()) == ["chrome/same-id", "other", "thunderbird/same-id"]
    assert catalog.get("thunderbird/same-id").instruction == "a thunderbird task"
    with pytest.raises(TaskNotFound, match="is in 2 domains: say which"):
        catalog.get("same-id")

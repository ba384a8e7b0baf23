"""A ready desktop: reset and step hand back the app's state after it handled the input, even when the
app stutters as on a loaded VM (stopped 200 ms out of every 300 ms), and every local task checks itself.

The stutter runs are the heavy tier (``-m stutter``): each runs the oracle through 8 episodes."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from arena_gym.arena import LocalArena
from arena_gym.protocol import ArenaClient, SettleSpec

from .support.stutter import stuttering

ARENA = [sys.executable, "-m", "arena_gym.cli"]


def _oracle_run(tmp_path, domain: str, episodes: int = 8) -> list[dict]:
    out = tmp_path / "runs"
    proc = subprocess.run([*ARENA, "run", "--agent", "oracle", "--domain", domain, "--episodes", str(episodes),
                           "--seed", "3", "--out", str(out), "--no-images"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [results] = list(out.glob("*/results.jsonl"))
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


@pytest.mark.stutter
@pytest.mark.desktop
@pytest.mark.parametrize(("domain", "process"), [("spreadsheet", "soffice.bin"), ("text_editor", "mousepad")])
def test_oracle_solves_every_episode_while_the_app_stutters(desktop_programs, tmp_path, domain, process):
    with stuttering(process):
        results = _oracle_run(tmp_path, domain)
    assert len(results) == 8
    failed = [r for r in results if not (r["reward"] == 1.0 and r["reward_valid"])]
    assert not failed, failed


@pytest.mark.desktop
# The frame-comparison settle is the fallback (servers without DAMAGE), and a longer quiet window only
# widens the default's margin: those variants run in the heavy tier.
@pytest.mark.parametrize(("source", "stable_ms"), [("damage", None),
                                                   pytest.param("damage", 120.0, marks=pytest.mark.slow),
                                                   pytest.param("frames", None, marks=pytest.mark.slow)],
                         ids=["damage-default", "damage-120ms", "frames-default"])
def test_a_step_frame_never_predates_the_actions_effect(desktop_programs, tmp_path, monkeypatch, source, stable_ms):
    """Typing into a stuttering editor: the frame the step returns is the one that stays, whether the
    settle hears of changes from damage events or compares frames."""
    monkeypatch.setenv("ARENA_SETTLE_SOURCE", source)
    with LocalArena(apps=["mousepad"], size=(800, 600)) as arena, stuttering("mousepad"):
        with ArenaClient(arena.url, token=arena.token) as client:
            client.discover()
            settle = SettleSpec(timeout_s=10.0, stable_ms=stable_ms)
            client.step(None, settle, "png", None)  # the editor is up and ready
            for word in ("alpha ", "beta ", "gamma "):
                result = client.step(f"import pyautogui; pyautogui.write({word!r})", settle, "png", None)
                assert result.ok and result.stable
                # Half a second later (several stutter cycles), nothing more has appeared.
                time.sleep(0.6)
                later = client.step(None, SettleSpec(timeout_s=0), "png", None)
                assert (later.frame.array == result.frame.array).all(), f"the frame after {word!r} was stale"


@pytest.mark.desktop
@pytest.mark.parametrize("source", ["damage", pytest.param("frames", marks=pytest.mark.slow)])
def test_the_settle_waits_for_work_that_enter_started(desktop_programs, monkeypatch, source):
    """Enter runs a command that draws 150 ms later (after the action's own echo, and after a short quiet
    window): the step's frame already shows it."""
    monkeypatch.setenv("ARENA_SETTLE_SOURCE", source)
    with LocalArena(apps=["xterm"], size=(800, 600)) as arena:
        with ArenaClient(arena.url, token=arena.token) as client:
            client.discover()
            client.step(None, SettleSpec(timeout_s=10.0), "png", None)
            for n in range(3):
                code = f"import pyautogui; pyautogui.write('sleep 0.15; echo done-{n}'); pyautogui.press('enter')"
                result = client.step(code, SettleSpec(timeout_s=10.0), "png", None)
                assert result.ok and result.stable
                time.sleep(0.6)
                later = client.step(None, SettleSpec(timeout_s=0), "png", None)
                assert (later.frame.array == result.frame.array).all(), f"the frame missed what Enter started ({n})"


@pytest.mark.desktop
def test_a_reset_that_never_gets_ready_is_an_infrastructure_failure(desktop_programs, tmp_path):
    """The editor in front stops answering for good: the settle says not ready, and reset truncates."""
    import gymnasium as gym

    folder = tmp_path / "examples" / "demo"
    folder.mkdir(parents=True)
    (folder / "noop.json").write_text(json.dumps(
        {"id": "noop", "instruction": "nothing", "config": [], "evaluator": {"func": "infeasible"}}))
    env = gym.make("LocalDesktop-v0", tasks={"folder": str(tmp_path)}, reset_settle={"timeout_s": 3.0},
                   arena={"apps": ["mousepad"]}, close_windows_on_reset=False)
    try:
        _, info = env.reset(seed=0)
        assert "infra_error" not in info  # a responsive editor is ready
        with stuttering("mousepad", stopped_s=60.0, running_s=0.0):
            _, info = env.reset(seed=0)
        assert info["reward_valid"] is False and "not ready" in info["infra_error"]
    finally:
        env.close()


@pytest.mark.desktop
@pytest.mark.slow
def test_every_local_task_checks_itself(desktop_programs):
    proc = subprocess.run([*ARENA, "check-tasks"], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "14 of 14 tasks check out" in proc.stdout


@pytest.mark.desktop
def test_check_tasks_catches_a_free_reward_and_a_broken_solution(desktop_programs, tmp_path):
    folder = tmp_path / "examples" / "mine"
    folder.mkdir(parents=True)
    # Scores 1 on an untouched desktop: the file it checks is made by the setup itself.
    (folder / "free.json").write_text(json.dumps({
        "id": "free", "instruction": "make notes.txt", "oracle": ["DONE"],
        "config": [{"type": "create_file", "parameters": {"path": "~/Desktop/notes.txt", "content": "x"}}],
        "evaluator": {"func": "exact_match",
                      "result": {"type": "vm_file_exists_in_desktop", "file_name": "notes.txt"},
                      "expected": {"type": "rule", "rules": {"expected": True}}}}))
    # Its oracle does nothing, so solving it scores 0.
    (folder / "lazy.json").write_text(json.dumps({
        "id": "lazy", "instruction": "make todo.txt", "oracle": ["import pyautogui; pyautogui.moveTo(5, 5)", "DONE"],
        "config": [],
        "evaluator": {"func": "exact_match",
                      "result": {"type": "vm_file_exists_in_desktop", "file_name": "todo.txt"},
                      "expected": {"type": "rule", "rules": {"expected": True}}}}))
    proc = subprocess.run([*ARENA, "check-tasks", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "free reward" in proc.stdout and "not 1" in proc.stdout
    assert "0 of 2 tasks check out" in proc.stdout

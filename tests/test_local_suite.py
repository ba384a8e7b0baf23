"""Every local task scores 1.0 after its scripted oracle and 0.0 when nothing is done, on a real desktop.

All run on one arena, and each task's "nothing" run comes after its oracle run: a task whose setup does
not undo what a solved episode left (a folder made, a file written) scores 1.0 for doing nothing on the
next episode, which is what a training run on one arena would then learn."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena_gym.arena import LocalArena
from arena_gym.evaluators import EvalContext, evaluate
from arena_gym.protocol import SettleSpec
from arena_gym.suites import local_tasks
from arena_gym.tasks.setup import Fetcher, SetupExecutor

from .conftest import DESKTOP_PROGRAMS
from .support.system import ensure_programs

TASKS = local_tasks()
TERMINAL_ACTIONS = {"DONE", "FAIL", "WAIT"}
pytestmark = pytest.mark.desktop


def test_suite_shape():
    domains = {t.domain for t in TASKS}
    assert len(TASKS) >= 12 and len(domains) >= 4
    assert all(t.oracle for t in TASKS), "every local task has a scripted oracle"


def run(arena: LocalArena, task, tmp_path: Path, solve: bool) -> float:
    task_dir = Path(task.path).parent
    arena.client.close_all()  # as the env does at reset: the task before leaves nothing open
    SetupExecutor(arena.client, "linux", Fetcher(tmp_path / "dl"), task_dir).run(task.config)
    # As the env does after reset and after every step: wait for the screen to settle.
    settle = SettleSpec(timeout_s=15, stable_ms=500)
    arena.client.observe(settle)
    last = None
    if solve:
        for step in task.oracle:
            if step in TERMINAL_ACTIONS:
                last = step
            else:
                arena.client.step(step, settle)
    outcome = evaluate(task, EvalContext(arena.client, tmp_path / "cache", platform="linux", task_dir=task_dir), last)
    assert outcome.reward_valid, outcome.infra_error
    return outcome.score


@pytest.fixture(scope="module")
def suite_arena():
    """One arena for the suite, as a training run uses one: each task's setup starts from what the task
    before left, after the close that every reset does."""
    ensure_programs({**DESKTOP_PROGRAMS, "libreoffice": "libreoffice-calc"})
    with LocalArena(apps=[], size=(1280, 800)) as arena:
        yield arena


@pytest.mark.parametrize("solve", [True, False], ids=["oracle", "nothing"])
@pytest.mark.parametrize("task", TASKS, ids=[t.task_id for t in TASKS])
def test_local_task(suite_arena, task, solve, tmp_path):
    assert run(suite_arena, task, tmp_path, solve) == (1.0 if solve else 0.0)

"""Every local task scores 1.0 after its scripted oracle and 0.0 when nothing is done, on a real desktop."""

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


def test_suite_shape():
    domains = {t.domain for t in TASKS}
    assert len(TASKS) >= 12 and len(domains) >= 4
    assert all(t.oracle for t in TASKS), "every local task has a scripted oracle"


def run(arena: LocalArena, task, tmp_path: Path, solve: bool) -> float:
    task_dir = Path(task.path).parent
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
def programs():
    ensure_programs({**DESKTOP_PROGRAMS, "libreoffice": "libreoffice-calc"})


@pytest.mark.parametrize("solve", [True, False], ids=["oracle", "nothing"])
@pytest.mark.parametrize("task", TASKS, ids=[t.task_id for t in TASKS])
def test_local_task(programs, task, solve, tmp_path):
    with LocalArena(apps=[], size=(1280, 800)) as arena:
        score = run(arena, task, tmp_path, solve)
    assert score == (1.0 if solve else 0.0)

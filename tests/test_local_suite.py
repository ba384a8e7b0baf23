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


def test_pixel_tasks_reuse_their_window_and_never_read_the_last_layout(suite_arena, tmp_path):
    """Without the close every reset does, the targets window stays: a reset redraws it for the task's seed
    (no new interpreter or window), and setup waits for the new layout, not the one left on disk."""
    pixels = {t.task_id: t for t in TASKS if t.domain == "pixels"}
    suite_arena.client.close_all()
    pids, layouts = set(), {}
    for task_id in ["click-red", "click-blue", "click-red"]:
        task = pixels[task_id]
        SetupExecutor(suite_arena.client, "linux", Fetcher(tmp_path / "dl"), Path(task.path).parent).run(task.config)
        state = suite_arena.home / ".local/share/arena-targets"
        pids.add((state / "app.pid").read_text())
        layouts.setdefault(task_id, (state / "layout.json").read_text())
        assert (state / "layout.json").read_text() == layouts[task_id]
        for step in task.oracle:
            if step != "DONE":
                suite_arena.client.step(step, SettleSpec(timeout_s=5, stable_ms=100))
        ctx = EvalContext(suite_arena.client, tmp_path / "cache", platform="linux", task_dir=Path(task.path).parent)
        assert evaluate(task, ctx, "DONE").score == 1.0
    assert len(pids) == 1  # one window served all three episodes
    assert layouts["click-red"] != layouts["click-blue"]


def test_every_target_holds_a_cell_centre_of_the_usual_click_grids():
    from arena_gym.apps.targets import lattice_cells

    size, pitch = 100, 160
    cells = lattice_cells((0, 21), (820, 520), pitch, size)
    assert len(cells) >= 8
    for grid in [(8, 5), (16, 10), (32, 20)]:
        centres_x = [(i + 0.5) * 1280 / grid[0] for i in range(grid[0])]
        centres_y = [(j + 0.5) * 800 / grid[1] for j in range(grid[1])]
        for cx, cy in cells:
            assert any(abs(x - cx) < size / 2 for x in centres_x) and any(abs(y - cy) < size / 2 for y in centres_y)


def test_the_reference_trainers_grid_puts_each_click_on_a_target_cell():
    from arena_gym.apps.targets import lattice_cells
    from training.ppo_local import TARGETS_GRID, TARGETS_REGION

    x0, y0, x1, y1 = TARGETS_REGION
    clicks = {(round((x0 + (i + 0.5) * (x1 - x0) / TARGETS_GRID[0]) * 1280),
               round((y0 + (j + 0.5) * (y1 - y0) / TARGETS_GRID[1]) * 800))
              for i in range(TARGETS_GRID[0]) for j in range(TARGETS_GRID[1])}
    assert clicks == set(lattice_cells((0, 21), (820, 520), 160, 100))  # one click per place a target can be

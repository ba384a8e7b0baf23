"""The viewer: each step's screen with its action drawn, timings and errors, a sortable index, and a GIF
with one frame per step; pages checked in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from arena_gym.viewer import Episode, episode_gif, episode_page, index_page
from arena_gym.viewer.annotate import action_marks

RED = (230, 40, 40)


def _write_episode(folder: Path, task: str, steps: list[dict], final_info: dict, reward: float) -> Path:
    folder.mkdir(parents=True)
    white = Image.new("RGB", (320, 200), "white")
    records = [{"event": "reset", "task_id": task, "instruction": f"do {task}", "screenshot": "step-000.png",
                "time": 100.0, "screen": [640, 400], "info": {"task_id": task, "domain": "pixels"}}]
    white.save(folder / "step-000.png")
    for k, action in enumerate(steps, start=1):
        last = k == len(steps)
        white.save(folder / f"step-{k:03d}.png")  # every screen the same: the GIF must not merge them
        records.append({"event": "step", "step": k, "action": action, "reward": reward if last else 0.0,
                        "terminated": last, "truncated": False, "screenshot": f"step-{k:03d}.png",
                        "time": 100.0 + k, "screen": [640, 400],
                        "info": {"task_id": task, "domain": "pixels", "timings": {"step_ms": 12.5, "settle_ms": 7.0},
                                 **(final_info if last else {})}})
    (folder / "steps.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


@pytest.fixture
def run(tmp_path):
    _write_episode(tmp_path / "0001-a", "a", [
        {"action_type": "CLICK", "x": 100, "y": 50},
        "import pyautogui; pyautogui.moveTo(40, 40); pyautogui.dragTo(400, 300)",
        {"action_type": "TYPING", "text": "hello"},
        "DONE"], {"score": 1.0, "eval": {"details": "match"}}, 1.0)
    _write_episode(tmp_path / "0002-b", "b", [{"action_type": "HOTKEY", "keys": ["ctrl", "s"]}],
                   {"reward_valid": False, "infra_error": "Unreachable: VM gone"}, 0.0)
    return tmp_path


def test_actions_are_drawn_where_they_happened(run):
    episode = Episode.read(run / "0001-a")
    cards = episode.cards()
    assert [c.title for c in cards] == ["step 1", "step 2", "step 3", "step 4", "end"]
    click = cards[0].picture()
    assert click.getpixel((100 + 9, 50)) == RED or any(
        click.getpixel((100 + dx, 50)) == RED for dx in range(5, 12))  # the ring around the click point
    assert click.getpixel((300, 180)) == (255, 255, 255)  # nothing drawn elsewhere
    (drag,) = [m for m in cards[1].marks if m.kind == "DRAG_TO"]
    assert drag.points == [(20.0, 20.0), (200.0, 150.0)]  # screen pixels scaled to the 320x200 screenshot
    assert cards[2].marks[0].label == "TYPING 'hello'"
    # A drag written as down, move, up (as the structured DRAG_TO is sent) is one path from where it began.
    (drag,) = action_marks("import pyautogui; pyautogui.moveTo(10, 10); pyautogui.mouseDown(button='left'); "
                           "pyautogui.moveTo(100, 50); pyautogui.mouseUp(button='left')", (1, 1), None)[1:]
    assert drag.kind == "DRAG_TO" and drag.points == [(10, 10), (100, 50)]
    assert action_marks({"action_type": "HOTKEY", "keys": ["ctrl", "s"]}, (1, 1), None)[0].label == "HOTKEY ctrl+s"


def test_episode_page_shows_actions_timings_reward_and_errors(run):
    good = episode_page(Episode.read(run / "0001-a")).read_text()
    assert good.count("data:image/png;base64,") == 5
    assert "step 12 ms" in good and "settle 7 ms" in good and "match" in good and "reward 1" in good
    bad = episode_page(Episode.read(run / "0002-b")).read_text()
    assert "Unreachable: VM gone" in bad and "not a score" in bad


def test_gif_has_one_captioned_frame_per_step_even_when_screens_repeat(run):
    episode = Episode.read(run / "0001-a")
    with Image.open(episode_gif(episode, width=320)) as gif:
        assert gif.n_frames == len(episode.cards()) == 5


def test_index_table_lists_episodes_and_keeps_infra_failures_apart(run):
    episodes = [Episode.read(p) for p in sorted(run.iterdir())]
    page = index_page(run, episodes).read_text()
    assert "mean score 1.00 over 1 valid episodes" in page and "1 episodes are not scores" in page
    for header in ("task", "domain", "reward", "valid", "steps", "time (s)", "failure"):
        assert f"<th>{header}</th>" in page


CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (bash scripts/setup.sh installs it)")
def test_pages_render_and_sort_in_a_real_browser(run, tmp_path_factory):
    episodes = [Episode.read(p) for p in sorted(run.iterdir())]
    for e in episodes:
        episode_page(e)
    index = index_page(run, episodes)
    profile = tmp_path_factory.mktemp("chromium")
    shot = profile / "page.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1000,900",
                    f"--screenshot={shot}", (run / "0001-a" / "episode.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours and len(colours) > 20  # text, the screenshot, the marks: not a blank page
    for order, first in (("reward-desc", "0001-a"), ("reward", "0002-b")):
        dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                              f"{index.as_uri()}#sort={order}"], check=True, capture_output=True, text=True,
                             timeout=120).stdout
        rows = re.findall(r"<a href=\"([^/\"]+)/episode.html\"", dom)
        assert rows[0] == first, (order, rows)

"""The main job end to end: an agent through tasks on a local arena, recorded, scored, then viewed."""

from __future__ import annotations

import json

from PIL import Image

from arena_gym.cli import main as cli


def _only_run(out):
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


def test_oracle_run_records_scores_and_views(desktop_programs, tmp_path, capsys):
    assert cli(["run", "--agent", "oracle", "--domain", "pixels", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[2/2]" in out and "all" in out and "trajectories:" in out
    run = _only_run(tmp_path)
    results = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert [r["reward"] for r in results] == [1.0, 1.0] and all(r["reward_valid"] for r in results)
    episode = sorted(p for p in run.iterdir() if p.is_dir())[0]
    steps = [json.loads(line) for line in (episode / "steps.jsonl").read_text().splitlines()]
    assert steps[0]["event"] == "reset" and steps[-1]["terminated"] is True and steps[-1]["reward"] == 1.0
    assert all((episode / s["screenshot"]).is_file() for s in steps)

    assert cli(["view", str(run)]) == 0
    page = (episode / "episode.html").read_text()
    assert page.count("data:image/png;base64,") == len(steps) and "click-" in page
    with Image.open(episode / "episode.gif") as gif:
        assert 2 <= gif.n_frames <= len(steps)  # identical consecutive frames merge
    assert (run / "index.html").is_file()


def test_random_agent_and_plugged_in_policy(desktop_programs, tmp_path, capsys):
    assert cli(["run", "--agent", "random", "--task-id", "click-blue", "--max-steps", "3", "--out", str(tmp_path)]) == 0
    results = [json.loads(line) for line in (_only_run(tmp_path) / "results.jsonl").read_text().splitlines()]
    assert results[0]["steps"] == 3 and results[0]["reward_valid"]
    assert cli(["run", "--agent", "tests.support.agents:always_done", "--task-id", "click-red",
                "--out", str(tmp_path / "b")]) == 0
    results = [json.loads(line) for line in (_only_run(tmp_path / "b") / "results.jsonl").read_text().splitlines()]
    assert results[0]["steps"] == 1 and results[0]["reward"] == 0.0
    assert cli(["run", "--agent", "no_such_agent"]) == 2
    assert "unknown agent" in capsys.readouterr().err

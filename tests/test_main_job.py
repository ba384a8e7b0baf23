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
        assert gif.n_frames == len(steps)  # one frame per step and one for the end, none merged
    assert "mean score 1.00 over 2 valid episodes" in (run / "index.html").read_text()


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


def test_agents_from_files_and_modules_in_the_current_folder(desktop_programs, tmp_path, monkeypatch, capsys):
    (tmp_path / "myagent.py").write_text("def act(obs, info):\n    return {'action_type': 'DONE'}\n")
    monkeypatch.chdir(tmp_path)
    for spec in ("./myagent.py:act", "myagent:act"):
        assert cli(["run", "--agent", spec, "--task-id", "click-red", "--out", str(tmp_path / spec[:3])]) == 0
    assert cli(["run", "--agent", "myagent:nope"]) == 2
    assert "has no 'nope' (it has: act)" in capsys.readouterr().err
    assert cli(["run", "--agent", "./missing.py:act"]) == 2
    assert "no file missing.py" in capsys.readouterr().err


def test_run_config_files_are_read_and_checked(desktop_programs, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("tasks:\n  ids: [click-red]\nmax_steps: 2\n")
    assert cli(["run", "--agent", "random", "--config", str(config), "--out", str(tmp_path)]) == 0
    results = [json.loads(line) for line in (_only_run(tmp_path) / "results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["steps"]) for r in results] == [("click-red", 2)]
    config.write_text("tasks:\n  ids: [click-red]\nmax_stepz: 2\n")
    assert cli(["run", "--config", str(config)]) == 2
    assert "max_stepz" in capsys.readouterr().err

"""The reference trainers: grouped rollouts for LLM policies and SB3 PPO, on a real local arena."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.rollout import EpisodeRecord
from training import ppo_local
from training.rollouts import collect_groups, group_advantages

FAST = {"settle": {"timeout_s": 0.5, "stable_ms": 60}, "reset_settle": {"timeout_s": 10, "stable_ms": 300},
        "observation": {"width": 320, "height": 200}}


class AlternatingTypist:
    """Types the right answer on even episodes and a wrong one on odd episodes, then says DONE."""

    def __init__(self) -> None:
        self.episode = -1
        self.typed = False

    def reset(self, info) -> None:
        self.episode += 1
        self.typed = False

    def __call__(self, obs, info):
        if self.typed:
            return {"action_type": "DONE"}
        self.typed = True
        return {"action_type": "TYPING", "text": "Hello, arena!" if self.episode % 2 == 0 else "nope"}


def test_groups_score_each_episode_and_rank_them_within_the_group(desktop_programs, tmp_path):
    env = gym.make("LocalDesktop-v0", tasks={"ids": ["te-type-hello"]}, **FAST)
    try:
        out = tmp_path / "groups.jsonl"
        (group,) = collect_groups(env, AlternatingTypist(), ["te-type-hello"], group_size=3, out=out)
    finally:
        env.close()
    assert [e.reward for e in group.episodes] == [1.0, 0.0, 1.0]
    assert all(e.reward_valid and len(e.steps) == 2 for e in group.episodes)
    good, bad, _ = group.episodes
    assert good.advantage > 0 > bad.advantage
    assert group.mean_reward == pytest.approx(2 / 3)
    record = json.loads(out.read_text())
    assert record["task_id"] == "te-type-hello" and len(record["episodes"]) == 3
    assert len({e.seed for e in group.episodes}) == 1  # one start for the whole group


def episode(**fields):
    return EpisodeRecord(task_id="t", seed=0, group="t#0", slot="s", where={}, policy_version=0, **fields)


def test_infrastructure_failures_are_left_out_of_the_group_baseline():
    episodes = [episode(reward=1.0), episode(reward=0.0),
                episode(reward=0.0, reward_valid=False, infra_error="Unreachable: VM gone")]
    group_advantages(episodes)
    assert episodes[2].advantage is None
    assert episodes[0].advantage == pytest.approx(1.0, abs=1e-4) and episodes[1].advantage == pytest.approx(-1.0, abs=1e-4)
    lone = [episode(reward=1.0), episode(reward_valid=False)]
    group_advantages(lone)
    assert lone[0].advantage is None  # one valid episode is no baseline


@pytest.mark.slow
def test_ppo_trainer_trains_saves_evaluates_and_writes_its_curve(desktop_programs, tmp_path, capsys, caplog):
    import csv
    import logging

    caplog.set_level(logging.INFO)
    out = tmp_path / "ppo"
    rc = ppo_local.main(["--timesteps", "64", "--n-steps", "32", "--eval-episodes", "2", "--tasks", "click-red",
                         "--out", str(out)])
    assert rc == 0
    result = json.loads((out / "result.json").read_text())
    assert result["timesteps"] >= 64 and result["episodes"] == 2 and result["train_infra_episodes"] == 0
    assert result["mean_score"] in (0.0, 0.5, 1.0)  # two valid episodes of a task that scores 0 or 1
    assert (out / "model.zip").is_file()
    printed = capsys.readouterr().out  # SB3's progress tables, then the result
    assert json.loads(printed[printed.rindex("\n{") + 1:]) == result
    rows = list(csv.DictReader((out / "curve.csv").open()))
    assert len(rows) == result["train_episodes"] and all(r["task_id"] == "click-red" for r in rows)
    assert (out / "progress.csv").is_file()  # SB3's own logger, as CSV
    assert not [r for r in caplog.records if "HTTP Request" in r.getMessage()]  # no per-request lines


def test_ppo_trainer_help_shows_its_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        ppo_local.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "(default: 4096)" in text and "(default: (5, 3))" in text


@pytest.mark.slow
def test_the_learnability_check_runs_end_to_end(desktop_programs, tmp_path, capsys):
    from training import learnability

    assert learnability.main(["--smoke", "--out", str(tmp_path / "learn")]) == 0
    result = json.loads((tmp_path / "learn" / "result.json").read_text())
    assert set(result["per_task"]) == {"click-red", "click-blue"}
    assert all(set(v) == {"random", "trained"} for v in result["per_task"].values())


class FlakyCounter(gym.Env):
    """Fault injection: three steps an episode, scored at the step limit; every third episode is cut short
    by an injected infrastructure failure instead."""

    observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        self.episode, self.t = 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.full(2, self.t / 3, np.float32)
        if self.t < 3:
            return obs, 0.0, False, False, {"reward_valid": True}
        if self.episode % 3 == 0:
            return obs, 0.0, False, True, {"reward_valid": False, "infra_error": "injected: VM gone"}
        return obs, 1.0, False, True, {"reward_valid": True, "score": 1.0}


def test_a_scored_step_limit_is_an_end_and_an_infrastructure_cut_is_not():
    from stable_baselines3.common.vec_env import DummyVecEnv

    from arena_gym.wrappers import ScoredEnd

    venv = DummyVecEnv([lambda: ScoredEnd(FlakyCounter())])
    venv.reset()
    ends = []
    for _ in range(9):
        _, _, dones, infos = venv.step(np.array([0]))
        if dones[0]:
            ends.append((infos[0]["TimeLimit.truncated"], infos[0]["reward_valid"]))
    # Scored episodes do not bootstrap past their score; the cut one would, but it never reaches the loss.
    assert ends == [(False, True), (False, True), (True, False)]


def test_steps_of_episodes_that_were_not_scored_never_reach_the_loss():
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from arena_gym.wrappers import ScoredEnd
    from training.valid_episodes import ValidEpisodes, ValidRolloutBuffer

    seen = {}

    class Watch(ValidEpisodes):
        def _on_rollout_end(self) -> None:
            buffer = self.model.rollout_buffer
            seen["valid"] = int(buffer.valid.sum())
            seen["sampled"] = sum(len(batch.actions) for batch in buffer.get(4))

    venv = DummyVecEnv([lambda: ScoredEnd(FlakyCounter())])
    model = PPO("MlpPolicy", venv, n_steps=12, batch_size=4, n_epochs=1, seed=0, device="cpu",
                rollout_buffer_class=ValidRolloutBuffer)
    watch = Watch()
    model.learn(total_timesteps=12, callback=watch)
    assert watch.dropped_episodes == 1 and watch.dropped_steps == 3
    assert seen["valid"] == 9 and seen["sampled"] == 9  # the third episode's three steps are left out

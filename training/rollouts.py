"""Rollouts grouped per task for LLM policies (GRPO and friends).

A group is ``group_size`` episodes of one task from the same start; each episode's advantage is its reward
relative to the group (``(r - mean) / (std + eps)``). Episodes that an infrastructure failure cut short
(``info["reward_valid"] == False``) carry no signal about the policy: they are kept in the record, marked,
and left out of the group statistics, so a flaky VM is never learned as a bad answer.

    from training.rollouts import collect_groups
    groups = collect_groups(env, policy, ["te-type-hello"], group_size=4)

``policy`` is an agent (``arena_gym.rollout.Agent``: ``reset(task)``, ``act(obs, info)``) or a function
``policy(obs, info) -> action`` in the env's action face (a JSON-able dict for ``structured``, a code
string for ``pyautogui``); a callable with ``reset(task)`` is reset once each episode's task is set up.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import gymnasium as gym

from arena_gym import rollout
from arena_gym.rollout import EpisodeResult

log = logging.getLogger(__name__)

Policy = Callable[[dict[str, Any], dict[str, Any]], Any]


@dataclass
class Episode(EpisodeResult):
    advantage: float | None = None  # None when the episode does not count (infra failure, lone episode)


@dataclass
class Group:
    task_id: str
    episodes: list[Episode]

    @property
    def valid(self) -> list[Episode]:
        return [e for e in self.episodes if e.reward_valid]

    @property
    def mean_reward(self) -> float | None:
        valid = self.valid
        return statistics.fmean(e.reward for e in valid) if valid else None


def run_episode(env: gym.Env, policy: Any, task_id: str, seed: int | None = None) -> Episode:
    result = rollout.run_episode(env, policy, seed=seed, options={"task_id": task_id}, keep_actions=True)
    return Episode(**{f.name: getattr(result, f.name) for f in fields(EpisodeResult)})


def group_advantages(episodes: list[Episode], eps: float = 1e-6) -> None:
    """Set each valid episode's advantage relative to the valid ones of its group (in place)."""
    valid = [e for e in episodes if e.reward_valid]
    if len(valid) < 2:
        return  # no baseline to compare against
    mean = statistics.fmean(e.reward for e in valid)
    std = statistics.pstdev(e.reward for e in valid)
    for e in valid:
        e.advantage = (e.reward - mean) / (std + eps)


def collect_groups(env: gym.Env, policy: Policy, task_ids: Iterable[str], group_size: int = 4,
                   seed: int = 0, out: str | Path | None = None) -> list[Group]:
    """``group_size`` episodes per task; with ``out`` each group is appended to a JSONL file as it completes."""
    if group_size < 1:
        raise ValueError(f"group_size must be at least 1, got {group_size}")
    sink = open(out, "a") if out is not None else None  # noqa: SIM115 - held for the whole collection
    groups = []
    try:
        for g, task_id in enumerate(task_ids):
            episodes = [run_episode(env, policy, task_id, seed=seed + g * group_size + i) for i in range(group_size)]
            group_advantages(episodes)
            group = Group(task_id, episodes)
            lost = len(episodes) - len(group.valid)
            if lost:
                log.warning("task %s: %d of %d episodes cut short by infrastructure", task_id, lost, group_size)
            groups.append(group)
            if sink is not None:
                sink.write(json.dumps({"task_id": task_id, "episodes": [asdict(e) for e in episodes]}) + "\n")
                sink.flush()
    finally:
        if sink is not None:
            sink.close()
    return groups

"""Rollouts grouped per task for LLM policies (GRPO and friends), on one env you already have.

    from training.rollouts import collect_groups
    groups = collect_groups(env, policy, ["te-type-hello"], group_size=4)

This is the collector with a single slot (``arena_gym.rollout.run_groups``); with many VMs build a
``Collector`` over their slots instead (see ``training/grpo_example.py``). A group is ``group_size``
episodes of one task from the same seed; advantages are relative to the group's valid episodes, and
episodes an infrastructure failure cut short are kept, marked, and left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym

from arena_gym.rollout import Collector, Group, env_slot, group_advantages, run_groups

__all__ = ["Group", "collect_groups", "group_advantages"]


def collect_groups(env: gym.Env, policy: Any, task_ids: Iterable[str], group_size: int = 4, seed: int = 0,
                   out: str | Path | None = None, max_retries: int = 2) -> list[Group]:
    """``group_size`` episodes per task; with ``out`` each group is appended to a JSONL file as it completes."""
    with Collector([env_slot(env)], policy, max_retries=max_retries, reprobe_s=1.0) as collector:
        return list(run_groups(collector, task_ids, group_size=group_size, seed=seed, out=out))

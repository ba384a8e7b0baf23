"""GRPO-style groups over the collector: G episodes of one task from the same seed, run on all slots at
once; an episode that infrastructure cut short is re-run on another slot (the collector's bounded
retries), so a group reaches G valid episodes despite a flaky VM. Advantages are group-relative
(``(r - mean) / (std + eps)`` over the valid episodes); invalid ones are kept in the record with
``advantage=None`` and never enter the statistics.

Groups assume one start: each episode's first screenshot is fingerprinted, and a group whose starts differ
(more than ``start_tolerance`` bits of a 64-bit difference hash) is flagged ``starts_differ``.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .collector import Collector
from .records import EpisodeRecord, fingerprint_distance

log = logging.getLogger(__name__)


@dataclass
class Group:
    group_id: str
    task_id: str
    seed: int | None
    episodes: list[EpisodeRecord]
    starts_differ: bool = False

    @property
    def valid(self) -> list[EpisodeRecord]:
        return [e for e in self.episodes if e.reward_valid]

    @property
    def mean_reward(self) -> float | None:
        valid = self.valid
        return statistics.fmean(e.reward for e in valid) if valid else None

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "task_id": self.task_id, "seed": self.seed,
                "valid": len(self.valid), "mean_reward": self.mean_reward, "starts_differ": self.starts_differ,
                "episodes": [e.to_dict() for e in self.episodes]}


def group_advantages(episodes: list[EpisodeRecord], eps: float = 1e-6) -> None:
    """Each valid episode's advantage relative to the valid ones of its group (in place); a lone valid
    episode has no baseline and gets none."""
    valid = [e for e in episodes if e.reward_valid]
    for e in episodes:
        e.advantage = None
    if len(valid) < 2:
        return
    mean = statistics.fmean(e.reward for e in valid)
    std = statistics.pstdev(e.reward for e in valid)
    for e in valid:
        e.advantage = (e.reward - mean) / (std + eps)


def starts_differ(episodes: list[EpisodeRecord], tolerance: int = 6) -> bool:
    prints = [e.start_fingerprint for e in episodes if e.start_fingerprint]
    return any(fingerprint_distance(prints[0], p) > tolerance for p in prints[1:])


def run_groups(collector: Collector, task_ids: Iterable[str], group_size: int = 4, seed: int = 0,
               out: str | Path | None = None, start_tolerance: int = 6) -> Iterator[Group]:
    """Submit one group per task (all at once, so every slot is busy) and yield each group as its last
    episode arrives; with ``out`` each group is appended to a JSONL file as it completes."""
    if group_size < 1:
        raise ValueError(f"group_size must be at least 1, got {group_size}")
    pending: dict[str, list[EpisodeRecord]] = {}
    meta: dict[str, tuple[str, int]] = {}
    for g, task_id in enumerate(task_ids):
        group_id = f"{task_id}#{g}"
        pending[group_id], meta[group_id] = [], (task_id, seed + g)
        for _ in range(group_size):
            collector.submit(task_id, seed=seed + g, group=group_id)
    sink = open(out, "a") if out is not None else None  # noqa: SIM115 - held for the whole collection
    try:
        while pending:
            record = collector.next_episode()
            if record.group not in pending:
                continue  # someone else's work on the same collector
            episodes = pending[record.group]
            episodes.append(record)
            if len(episodes) < group_size:
                continue
            del pending[record.group]
            task_id, group_seed = meta[record.group]
            group_advantages(episodes)
            group = Group(record.group, task_id, group_seed, episodes, starts_differ(episodes, start_tolerance))
            lost = group_size - len(group.valid)
            if lost:
                log.warning("group %s: %d of %d episodes are not scores (%s)", group.group_id, lost, group_size,
                            "; ".join(sorted({e.failure or "" for e in episodes if not e.reward_valid})))
            if group.starts_differ:
                log.warning("group %s: its episodes started from different screens", group.group_id)
            if sink is not None:
                sink.write(json.dumps(group.to_dict()) + "\n")
                sink.flush()
            yield group
    finally:
        if sink is not None:
            sink.close()

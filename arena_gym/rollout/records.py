"""What the collector hands out: work items in, episode records out.

An episode record is what a trainer needs and nothing it must re-derive: task, seed, slot and VM, the
policy version that acted, per step the action with the policy's extras (token ids, logprobs ...), the
reward, timings and, optionally, a screenshot file (never inline); and when the reward is not a score,
why. Earlier attempts that infrastructure cut short are kept in ``earlier_failures``: nothing is lost.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..jsonable import jsonable

_ids = itertools.count()


@dataclass
class WorkItem:
    """One episode to run: a task (None: the env's own choice), a reset seed, and its group, if any."""

    task_id: str | None
    seed: int | None = None
    group: str | None = None
    attempt: int = 0
    avoid: set[str] = field(default_factory=set)  # slots that already failed it
    earlier_failures: list[str] = field(default_factory=list)
    key: int = field(default_factory=lambda: next(_ids))


@dataclass
class StepRecord:
    step: int
    action: Any
    extras: dict[str, Any]
    reward: float
    terminated: bool
    truncated: bool
    action_error: str | None = None
    invalid_action: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    policy_ms: float = 0.0
    screenshot: str | None = None  # a file written next to the record, when asked for


class Failure:
    """Why an episode's reward is not a score: shared by the loop's results and the collector's records."""

    infra_error: str | None
    unscorable: str | None

    @property
    def failure(self) -> str | None:
        if self.infra_error:
            return f"infra: {self.infra_error}"
        if self.unscorable:
            return f"unscorable: {self.unscorable}"
        return None


@dataclass
class EpisodeRecord(Failure):
    task_id: str | None
    seed: int | None
    group: str | None
    slot: str
    where: dict[str, Any]
    policy_version: int
    attempt: int = 0
    domain: str | None = None
    instruction: str = ""
    reward: float = 0.0
    reward_valid: bool = True
    infra_error: str | None = None
    unscorable: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    start_fingerprint: str | None = None
    started: float = 0.0
    seconds: float = 0.0
    earlier_failures: list[str] = field(default_factory=list)
    advantage: float | None = None  # set for grouped episodes that count
    episode_id: int = field(default_factory=lambda: next(_ids))

    @property
    def retryable(self) -> bool:
        """Cut short by infrastructure: another VM may give a score (an unscorable task never will)."""
        return bool(self.infra_error) and not self.unscorable

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def fingerprint(obs: Any) -> str | None:
    """A 64-bit difference hash of the screenshot: equal (or a few bits apart) for the same start."""
    image = obs.get("screenshot") if isinstance(obs, dict) else None
    if not isinstance(image, np.ndarray) or image.ndim != 3:
        return None
    small = np.asarray(Image.fromarray(image).convert("L").resize((9, 8), Image.Resampling.BILINEAR), np.int16)
    return np.packbits(small[:, 1:] > small[:, :-1]).tobytes().hex()


def fingerprint_distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")

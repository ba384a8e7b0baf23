"""The one episode loop, and the one agent protocol every caller uses (``arena-gym run``, grouped rollouts,
the PPO reference trainer's evaluation).

An agent has ``reset(task)`` (called once the env has chosen and set up the task) and ``act(obs, info)``;
a plain function ``act(obs, info)``, or an object with ``__call__`` and ``reset``, is adapted by
``as_agent``. An episode's result says whether its reward is a score: an infrastructure failure or an
unscorable task gives ``reward_valid=False``, never a silent 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym

from ..tasks.models import Task
from .records import Failure


@runtime_checkable
class Agent(Protocol):
    def reset(self, task: Task) -> None: ...

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> Any: ...


class FunctionAgent:
    """``act(obs, info)`` as an agent; ``reset`` is passed on when the callable has one."""

    def __init__(self, fn: Callable[[dict[str, Any], dict[str, Any]], Any], action_face: str = "structured") -> None:
        self.fn = fn
        self.action_face = getattr(fn, "action_face", action_face)

    def reset(self, task: Task) -> None:
        reset = getattr(self.fn, "reset", None)
        if callable(reset):
            reset(task)

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        return self.fn(obs, info)


def as_agent(policy: Any) -> Agent:
    if hasattr(policy, "act") and hasattr(policy, "reset"):
        return policy
    if callable(policy):
        return FunctionAgent(policy)
    raise TypeError(f"an agent has reset(task) and act(obs, info), or is a function act(obs, info); "
                    f"got {type(policy).__name__}")


@dataclass
class EpisodeResult(Failure):
    task_id: str | None
    domain: str | None
    instruction: str = ""
    reward: float = 0.0
    reward_valid: bool = True
    infra_error: str | None = None
    unscorable: str | None = None
    steps: int = 0
    seconds: float = 0.0
    actions: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The result without the actions (one line of ``results.jsonl``)."""
        out = asdict(self)
        out.pop("actions")
        return out


def run_episode(env: gym.Env, agent: Any, seed: int | None = None, options: dict[str, Any] | None = None,
                keep_actions: bool = False) -> EpisodeResult:
    """Reset, let the agent act until the episode ends, and say what it scored and whether that is a score."""
    agent = as_agent(agent)
    start = time.monotonic()
    obs, info = env.reset(seed=seed, options=options)
    result = EpisodeResult(task_id=info.get("task_id"), domain=info.get("domain"),
                           instruction=str(obs.get("instruction", "")) if isinstance(obs, dict) else "")
    task = getattr(env.unwrapped, "task", None)
    if info.get("infra_error") or task is None:
        result.reward_valid = False
        result.infra_error = info.get("infra_error") or "reset chose no task"
    else:
        agent.reset(task)
        while True:
            action = agent.act(obs, info)
            if keep_actions:
                result.actions.append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            result.steps += 1
            if terminated or truncated:
                result.reward = float(reward)
                break
        result.infra_error = info.get("infra_error")
        result.unscorable = info.get("unscorable")
        result.reward_valid = bool(info.get("reward_valid", True)) and not result.infra_error
    result.seconds = round(time.monotonic() - start, 2)
    return result

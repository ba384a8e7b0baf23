"""Agents the ``arena-gym run`` job can drive, and how a user plugs in their own.

An agent has ``action_face`` ("structured" or "pyautogui"), ``reset(task)`` and ``act(obs, info)``.
A plain function ``act(obs, info) -> action`` works too (structured face).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol

import numpy as np

from .tasks.models import Task


class Agent(Protocol):
    action_face: str

    def reset(self, task: Task) -> None: ...

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> Any: ...


class OracleAgent:
    """Plays a local task's scripted solution (its ``oracle`` code), then answers DONE."""

    action_face = "pyautogui"

    def __init__(self) -> None:
        self._steps: list[str] = []

    def reset(self, task: Task) -> None:
        if not task.oracle:
            raise ValueError(f"task {task.task_id} has no scripted oracle; use --agent random or your own agent")
        self._steps = list(task.oracle)

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> str:
        return self._steps.pop(0) if self._steps else "DONE"


class RandomAgent:
    """Uniform over the structured vocabulary's pointer and keyboard actions (no DONE/FAIL: the step
    limit ends its episodes), seeded."""

    action_face = "structured"
    KEYS = ["enter", "tab", "esc", "backspace", "up", "down", "left", "right"]

    def __init__(self, seed: int = 0, width: int = 1280, height: int = 800) -> None:
        self.rng = np.random.default_rng(seed)
        self.width, self.height = width, height

    def reset(self, task: Task) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        h, w = obs["screenshot"].shape[:2]
        x, y = float(self.rng.uniform(0, w)), float(self.rng.uniform(0, h))
        choice = self.rng.integers(6)
        if choice == 0:
            return {"action_type": "CLICK", "x": x, "y": y}
        if choice == 1:
            return {"action_type": "MOVE_TO", "x": x, "y": y}
        if choice == 2:
            return {"action_type": "SCROLL", "dy": int(self.rng.integers(-3, 4))}
        if choice == 3:
            return {"action_type": "TYPING", "text": "".join(self.rng.choice(list("abc xyz"), 5))}
        if choice == 4:
            return {"action_type": "PRESS", "key": str(self.rng.choice(self.KEYS))}
        return {"action_type": "WAIT"}


class _FunctionAgent:
    action_face = "structured"

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def reset(self, task: Task) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        return self.fn(obs, info)


def load_agent(spec: str, seed: int = 0) -> Agent:
    """``oracle``, ``random``, or ``package.module:name`` naming an agent class, factory or act function."""
    if spec == "oracle":
        return OracleAgent()
    if spec == "random":
        return RandomAgent(seed)
    if ":" not in spec:
        raise ValueError(f"unknown agent {spec!r}: use oracle, random, or module:callable (e.g. my_pkg.agents:Policy)")
    module_name, _, attr = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load agent {spec!r}: {exc}") from exc
    if isinstance(target, type):
        return target()
    if hasattr(target, "act"):
        return target
    if len(inspect.signature(target).parameters) >= 2:
        return _FunctionAgent(target)  # act(obs, info)
    made = target()  # a factory
    if not hasattr(made, "act"):
        raise ValueError(f"{spec} made {type(made).__name__}, which has no act(obs, info)")
    return made

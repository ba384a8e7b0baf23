"""Agents the ``arena-gym run`` job can drive, and how a user plugs in their own.

An agent follows ``arena_gym.rollout.Agent`` (``reset(task)``, ``act(obs, info)``) and says its
``action_face`` ("structured" or "pyautogui"; structured when it says nothing). A plain function
``act(obs, info) -> action`` works too.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from . import actions
from .envs.spaces import ComputerActionSpace
from .rollout import Agent, FunctionAgent
from .tasks.models import Task


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
    """Uniform over the vocabulary's actions but DONE/FAIL (the step limit ends its episodes) and those that
    hold a key or button down (it would outlive the episode), seeded; coordinates inside the observation."""

    action_face = "structured"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._space: ComputerActionSpace | None = None

    def reset(self, task: Task) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        h, w = obs["screenshot"].shape[:2]
        if self._space is None or (self._space.width, self._space.height) != (w, h):
            types = [t for t in actions.ACTION_TYPES if t not in actions.TERMINAL | actions.HOLDING]
            self._space = ComputerActionSpace(w, h, types=types, seed=self.seed)
        return self._space.sample()


def _import_target(spec: str) -> Any:
    """``pkg.module:name``, ``module:name`` from the current folder, or ``path/to/file.py:name``."""
    where, _, attr = spec.rpartition(":")
    if where.endswith(".py") or "/" in where:
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"cannot load agent {spec!r}: no file {path} (from {Path.cwd()})")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"cannot load agent {spec!r}: {path} is not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules.setdefault(path.stem, module)
        module_spec.loader.exec_module(module)
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # `myagent:act` names ./myagent.py, as `python -m` would
        module = importlib.import_module(where)
    try:
        return getattr(module, attr)
    except AttributeError:
        names = sorted(n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n)))
        raise ValueError(f"cannot load agent {spec!r}: {where} has no {attr!r} (it has: {', '.join(names) or 'nothing callable'})") from None


def load_agent(spec: str, seed: int = 0) -> Agent:
    """``oracle``, ``random``, or ``module:name`` / ``file.py:name`` naming an agent class, factory or act
    function."""
    if spec == "oracle":
        return OracleAgent()
    if spec == "random":
        return RandomAgent(seed)
    if ":" not in spec:
        raise ValueError(f"unknown agent {spec!r}: use oracle, random, module:callable (my_pkg.agents:Policy) "
                         "or a file and a name in it (./myagent.py:act)")
    try:
        target = _import_target(spec)
    except ValueError:
        raise
    except Exception as exc:  # the user's module failed to import: say where, without our traceback
        raise ValueError(f"cannot load agent {spec!r}: {type(exc).__name__}: {exc}") from exc
    if isinstance(target, type):
        target = target()
    elif not hasattr(target, "act") and callable(target) and len(inspect.signature(target).parameters) < 2:
        target = target()  # a factory
    if hasattr(target, "act"):
        if hasattr(target, "reset"):
            return target
        # act alone: wrapped, with its face, rather than given a reset of ours
        return FunctionAgent(target.act, getattr(target, "action_face", "structured"))
    if callable(target):
        return FunctionAgent(target)
    raise ValueError(f"{spec} gave {type(target).__name__}, which has no act(obs, info)")

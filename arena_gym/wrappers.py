"""Wrappers that change the env's face: a MultiDiscrete action and flat array observations for
classic RL (Stable-Baselines3), and a recorder that writes every episode to disk as it happens."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from PIL import Image

from . import actions as A
from .jsonable import jsonable

log = logging.getLogger(__name__)

# The discrete face's action types, from the vocabulary (FAIL is opt-in: a random policy would end on it).
DISCRETE_TYPES = [label for label in A.discrete_labels() if label != "FAIL"]
DEFAULT_KEYS = ("enter", "tab", "esc", "backspace", "ctrl+s", "ctrl+a", "ctrl+c", "ctrl+v")


def _observation_size(env: gym.Env) -> tuple[int, int]:
    space = env.observation_space["screenshot"]  # type: ignore[index]
    return int(space.shape[1]), int(space.shape[0])


class DiscreteActions(gym.ActionWrapper):
    """``MultiDiscrete([action type, x bin, y bin, key, text])`` -> a computer_13 action.

    Clicks land on bin centres of a ``grid`` over the observation, or over ``region`` of it (``(x0, y0, x1,
    y1)`` as fractions of its width and height: a grid that fits an app's layout); ``keys`` (``"ctrl+s"``
    is a hotkey) and ``texts`` are small vocabularies for PRESS and TYPING.
    """

    def __init__(self, env: gym.Env, grid: tuple[int, int] = (16, 10), keys: Sequence[str] = DEFAULT_KEYS,
                 texts: Sequence[str] = ("hello",), types: Sequence[str] = DISCRETE_TYPES,
                 region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> None:
        super().__init__(env)
        face = getattr(env.unwrapped, "config", None)
        if face is not None and face.action_face != "structured":
            raise ValueError("DiscreteActions needs action_face='structured' (pass it to gym.make)")
        offered = A.discrete_labels(None) + ["FAIL"]
        unknown = set(types) - set(offered)
        if unknown:
            raise ValueError(f"unknown action types {sorted(unknown)}; choose from {offered}")
        self.grid, self.keys, self.texts, self.types = grid, list(keys) or ["enter"], list(texts) or ["a"], list(types)
        x0, y0, x1, y1 = region
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"region is (x0, y0, x1, y1) as fractions of the screen, x0 < x1 and y0 < y1; got {region}")
        self.width, self.height = _observation_size(env)
        self.region = region
        self.action_space = gym.spaces.MultiDiscrete([len(self.types), grid[0], grid[1], len(self.keys), len(self.texts)])

    def action(self, action: np.ndarray) -> dict[str, Any]:
        kind_i, gx, gy, key_i, text_i = (int(v) for v in action)
        x0, y0, x1, y1 = self.region
        point = ((x0 + (gx + 0.5) * (x1 - x0) / self.grid[0]) * self.width,
                 (y0 + (gy + 0.5) * (y1 - y0) / self.grid[1]) * self.height)
        return A.from_discrete(self.types[kind_i], point, self.keys[key_i], self.texts[text_i])


class FlatObservation(gym.ObservationWrapper):
    """A dict of arrays only: the screenshot (at the env's observation size, or resized to ``size`` when
    given), the instruction as padded UTF-8 bytes, whether the last action failed, and the step fraction."""

    def __init__(self, env: gym.Env, size: tuple[int, int] | None = None, max_instruction: int = 128) -> None:
        super().__init__(env)
        self.size = size or _observation_size(env)
        self.max_instruction = max_instruction
        self._steps = 0
        self._max_steps = getattr(getattr(env.unwrapped, "config", None), "max_steps", 15)
        self.observation_space = gym.spaces.Dict({
            "screenshot": gym.spaces.Box(0, 255, (self.size[1], self.size[0], 3), np.uint8),
            "instruction": gym.spaces.Box(0, 255, (max_instruction,), np.uint8),
            "action_failed": gym.spaces.Box(0.0, 1.0, (1,), np.float32),
            "progress": gym.spaces.Box(0.0, 1.0, (1,), np.float32),
        })

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        self._steps = 0
        return super().reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        self._steps += 1
        return super().step(action)

    def observation(self, obs: dict[str, Any]) -> dict[str, np.ndarray]:
        image = obs["screenshot"]
        if (image.shape[1], image.shape[0]) != self.size:
            image = np.asarray(Image.fromarray(image).resize(self.size, Image.Resampling.BILINEAR))
        text = obs.get("instruction", "").encode()[: self.max_instruction]
        instruction = np.zeros(self.max_instruction, np.uint8)
        instruction[: len(text)] = np.frombuffer(text, np.uint8)
        return {
            "screenshot": image,
            "instruction": instruction,
            "action_failed": np.array([1.0 if obs.get("last_action_error") else 0.0], np.float32),
            "progress": np.array([min(1.0, self._steps / max(1, self._max_steps))], np.float32),
        }


class ScoredEnd(gym.Wrapper):
    """An episode the step limit ended was still scored: its reward is the final score and nothing comes
    after it. Say so as ``terminated`` (learners bootstrap a value past a truncation: SB3 through
    ``TimeLimit.truncated``, which is then False). Truncations by infrastructure stay truncations."""

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated and info.get("reward_valid", True) and "score" in info:
            terminated, truncated = True, False
            info = {**info, "step_limit": True}
        return obs, reward, terminated, truncated, info


def sb3_env(env: gym.Env, **kwargs: Any) -> gym.Env:
    """The SB3 face in one call: ``FlatObservation(DiscreteActions(ScoredEnd(env)))``."""
    size = kwargs.pop("size", None)
    return FlatObservation(DiscreteActions(ScoredEnd(env), **kwargs), size=size)


class RecordEpisodes(gym.Wrapper):
    """Writes each episode to ``out_dir/<n>-<task>/``: ``steps.jsonl`` (one line per reset/step, flushed at
    once) and ``step-<k>.png`` screenshots. Nothing waits for the episode's end, so a crash loses nothing."""

    def __init__(self, env: gym.Env, out_dir: str | Path, save_images: bool = True) -> None:
        super().__init__(env)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.save_images = save_images
        self.episode = 0
        self._dir: Path | None = None
        self._log: Any = None
        self._step = 0

    def _write(self, record: dict[str, Any], obs: dict[str, Any]) -> None:
        assert self._dir is not None and self._log is not None
        if self.save_images and isinstance(obs, dict) and "screenshot" in obs:
            name = f"step-{self._step:03d}.png"
            Image.fromarray(np.asarray(obs["screenshot"])).save(self._dir / name, compress_level=1)
            record["screenshot"] = name
        record["time"] = time.time()
        screen = getattr(self.env.unwrapped, "screen_size", None)
        if screen is not None:
            record["screen"] = list(screen)  # code actions are in screen pixels; the viewer scales them
        self._log.write(json.dumps(jsonable(record)) + "\n")
        self._log.flush()

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        if self._log is not None:
            self._log.close()
        self.episode += 1
        task = info.get("task_id") or "task"
        self._dir = self.out_dir / f"{self.episode:04d}-{task}"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self._dir / "steps.jsonl", "w")  # noqa: SIM115 - open for the whole episode
        self._step = 0
        instruction = obs.get("instruction", "") if isinstance(obs, dict) else ""
        self._write({"event": "reset", "task_id": task, "instruction": instruction, "info": info}, obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._step += 1
        record = {"event": "step", "step": self._step, "action": action, "reward": reward,
                  "terminated": terminated, "truncated": truncated, "info": info}
        if isinstance(obs, dict) and obs.get("last_action_error"):
            record["action_error"] = obs["last_action_error"]
        self._write(record, obs)
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        super().close()

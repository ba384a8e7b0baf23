"""Spaces that tell the truth: text that admits any string, and the structured face's real actions."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import shared_memory


class AnyText(gym.spaces.Text):
    """``Text`` whose ``contains`` accepts every ``str``: real instructions use any character and length.
    ``sample()`` still draws from gymnasium's alphanumeric charset up to ``max_length``."""

    def __init__(self, max_length: int = 65536, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=0, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str)

    def __repr__(self) -> str:
        return f"AnyText(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyText) and other.max_length == self.max_length


class ComputerActionSpace(gym.Space):
    """The structured face's actions: ``contains`` and ``sample`` go through the vocabulary's own models
    (``arena_gym.actions``), so ``contains`` says what ``step`` would execute and ``sample`` draws real
    actions (coordinates inside the observation, pyautogui key names), each type equally often.

    Samples are JSON-able dicts (``{"action_type": "CLICK", "x": 12.0, "y": 300.5, ...}``)."""

    def __init__(self, width: int, height: int, types: list[str] | None = None, seed: int | None = None) -> None:
        from .. import actions

        super().__init__(shape=None, dtype=None, seed=seed)
        self.width, self.height = width, height
        self.types = list(types or actions.ACTION_TYPES)
        unknown = sorted(set(self.types) - set(actions.ACTION_TYPES))
        if unknown:
            raise ValueError(f"unknown action types {unknown}; the vocabulary has {actions.ACTION_TYPES}")

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        from .. import actions

        try:
            return actions.parse_action(x).action_type in self.types
        except actions.InvalidAction:
            return False

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        from .. import actions

        rng = self.np_random
        kind = self.types[int(rng.integers(len(self.types)))]
        keys = sorted(k for k in actions.KEYBOARD_KEYS if k.isalnum() or len(k) > 1)
        values = {
            "x": round(float(rng.uniform(0, self.width - 1)), 1),
            "y": round(float(rng.uniform(0, self.height - 1)), 1),
            "button": ["left", "right", "middle"][int(rng.integers(3))],
            "num_clicks": int(rng.integers(1, 4)),
            "dx": int(rng.integers(-5, 6)),
            "dy": int(rng.integers(-5, 6)),
            "text": "".join(rng.choice(list("abcdefghij klmnopqrstuvwxyz0123456789"), int(rng.integers(1, 12)))),
            "key": keys[int(rng.integers(len(keys)))],
            "keys": [keys[int(i)] for i in rng.integers(len(keys), size=int(rng.integers(1, 4)))],
        }
        model = actions.model_for(kind)
        return {"action_type": kind, **{name: values[name] for name in model.model_fields if name != "action_type"}}

    def __repr__(self) -> str:
        return f"ComputerActionSpace({self.width}x{self.height})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputerActionSpace) and (other.width, other.height, other.types) == (
            self.width, self.height, self.types)


# AnyText in a vector env's shared memory: gymnasium's Text keeps only its charset's characters, an
# instruction has any. Each slot holds a 4-byte length and up to 4 bytes of UTF-8 per character, so
# observations (3 MB screenshots included) cross from the sub-env processes without being pickled.
def _text_capacity(space: AnyText) -> int:
    return 4 + 4 * space.max_length


@shared_memory.create_shared_memory.register(AnyText)
def _create_any_text(space: AnyText, n: int = 1, ctx: Any = mp) -> Any:
    return ctx.Array("B", n * _text_capacity(space))


class SharedTexts(Sequence[str]):
    """The texts of all sub-envs, read from shared memory when looked at. gymnasium reads a vector env's
    shared memory once, at its start, and hands out copies of that object each step: arrays are views
    and stay current, a tuple of str would not, so this reads like a view (and copies as a tuple)."""

    def __init__(self, memory: Any, capacity: int, n: int) -> None:
        self._rows = np.frombuffer(memory.get_obj(), dtype=np.uint8).reshape((n, capacity))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        row = self._rows[index]
        length = int.from_bytes(row[:4].tobytes(), "little")
        return row[4: 4 + length].tobytes().decode("utf-8", errors="ignore")

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return repr(tuple(self))


@shared_memory.read_from_shared_memory.register(AnyText)
def _read_any_text(space: AnyText, memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(memory, _text_capacity(space), n)


@shared_memory.write_to_shared_memory.register(AnyText)
def _write_any_text(space: AnyText, index: int, value: str, memory: Any) -> None:
    size = _text_capacity(space)
    encoded = str(value).encode("utf-8")[: size - 4]
    row = np.frombuffer(memory.get_obj(), dtype=np.uint8)[index * size: (index + 1) * size]
    row[:4] = np.frombuffer(len(encoded).to_bytes(4, "little"), np.uint8)
    row[4: 4 + len(encoded)] = np.frombuffer(encoded, np.uint8)

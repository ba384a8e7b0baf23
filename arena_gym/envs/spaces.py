"""A text space that admits any string (instructions, accessibility trees, action code)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


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

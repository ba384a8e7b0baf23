"""Keep episodes whose reward is not a score out of SB3's loss.

An episode an infrastructure failure cut short ends with ``info["reward_valid"] == False`` and a 0 that
says nothing about the policy. ``ValidEpisodes`` (a callback) marks its steps in the rollout buffer, and
the buffers below leave marked steps out of every minibatch:

    model = PPO("MultiInputPolicy", venv, rollout_buffer_class=ValidDictRolloutBuffer)
    model.learn(total_timesteps, callback=ValidEpisodes())

Steps of such an episode that fell in an earlier rollout were trained on with their value bootstrapped
(no reward of the cut-short end reached them), so they carry no false score.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import numpy as np
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback

log = logging.getLogger(__name__)


class _ValidMask:
    """A rollout buffer that keeps a per-step ``valid`` mask and samples only valid steps."""

    buffer_size: int
    n_envs: int
    valid: np.ndarray

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        self.valid = np.ones((self.buffer_size, self.n_envs), dtype=bool)

    def get(self, batch_size: int | None = None) -> Generator[Any, None, None]:
        whole = self.buffer_size * self.n_envs
        next(super().get(whole))  # type: ignore[misc] # lays the buffer out flat (env-major), as SB3 samples it
        keep = np.random.permutation(np.flatnonzero(self.valid.swapaxes(0, 1).reshape(-1)))
        if keep.size < whole:
            log.info("left %d of %d steps out of the update (episodes that were not scored)", whole - keep.size, whole)
        step = batch_size or max(1, keep.size)
        for start in range(0, keep.size, step):
            yield self._get_samples(keep[start:start + step])  # type: ignore[attr-defined]


class ValidRolloutBuffer(_ValidMask, RolloutBuffer):
    pass


class ValidDictRolloutBuffer(_ValidMask, DictRolloutBuffer):
    pass


class ValidEpisodes(BaseCallback):
    """Marks the steps of episodes that end with ``reward_valid=False`` in the rollout buffer (which must be
    a ``Valid*RolloutBuffer``) and counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped_episodes = 0
        self.dropped_steps = 0
        self._starts: np.ndarray | None = None

    def _on_rollout_start(self) -> None:
        self._starts = np.zeros(self.training_env.num_envs, dtype=int)

    def _on_step(self) -> bool:
        buffer: Any = getattr(self.model, "rollout_buffer", None)  # on-policy algorithms have one
        if not hasattr(buffer, "valid"):
            raise TypeError("ValidEpisodes needs rollout_buffer_class=ValidRolloutBuffer (or ValidDictRolloutBuffer)")
        if self._starts is None:
            self._on_rollout_start()
        assert self._starts is not None
        pos = buffer.pos  # where this step goes: SB3 adds it to the buffer after the callbacks
        for i, (done, info) in enumerate(zip(self.locals["dones"], self.locals["infos"])):
            if not done:
                continue
            if not info.get("reward_valid", True):
                buffer.valid[self._starts[i]: pos + 1, i] = False
                self.dropped_episodes += 1
                self.dropped_steps += pos + 1 - int(self._starts[i])
            self._starts[i] = pos + 1
        self.logger.record("arena/dropped_episodes", self.dropped_episodes)
        return True

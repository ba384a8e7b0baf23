"""The three shapes of policy the collector drives, behind one call: ``decide(obs, info) -> Decision``.

- a per-step callable ``policy(obs, info) -> action``, run on the slot's own thread;
- an ``async`` callable, awaited on one event loop shared by all slots (an HTTP client to a model server);
- a ``BatchedPolicy``: ``fn(observations, infos) -> actions`` receives, in one call, the observations of
  every slot that is waiting (up to ``max_batch``, waiting at most ``max_wait_ms`` for stragglers), so an
  LLM server batches across VMs.

A policy may return ``Decision(action, extras)`` instead of a bare action to have ``extras`` (token ids,
logprobs, the raw completion) kept in the episode record next to the action.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decision:
    action: Any
    extras: dict[str, Any] = field(default_factory=dict)


def as_decision(value: Any) -> Decision:
    return value if isinstance(value, Decision) else Decision(value)


class Policy:
    """Adapts a per-step callable; the base of the other shapes."""

    def __init__(self, fn: Callable[[Any, dict[str, Any]], Any]) -> None:
        self.fn = fn
        self.waiting = lambda: 1  # how many slots can be waiting at once (the collector sets it)

    def decide(self, obs: Any, info: dict[str, Any]) -> Decision:
        return as_decision(self.fn(obs, info))

    def episode_started(self, info: dict[str, Any]) -> None:
        # An agent's per-episode reset: ``reset_episode(info)``, or ``reset(...)``, given the episode's info
        # (task id, instruction, slot): the task object itself stays where the env is (maybe another node).
        reset = getattr(self.fn, "reset_episode", None) or getattr(self.fn, "reset", None)
        if callable(reset):
            reset(info)

    def close(self) -> None:
        pass


class AsyncPolicy(Policy):
    """An ``async def policy(obs, info)``: every slot's call runs on one event loop thread."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__(fn)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="policy-loop", daemon=True)
        self._thread.start()

    def decide(self, obs: Any, info: dict[str, Any]) -> Decision:
        return as_decision(asyncio.run_coroutine_threadsafe(self.fn(obs, info), self.loop).result())

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)


class BatchedPolicy(Policy):
    """``fn(observations, infos) -> actions``, called with whatever slots are waiting.

    A batch is sent as soon as every slot that could be waiting is (no idle wait), or when it holds
    ``max_batch``, or ``max_wait_ms`` after its first request, whichever comes first."""

    def __init__(self, fn: Callable[[list[Any], list[dict[str, Any]]], list[Any]], max_batch: int = 8,
                 max_wait_ms: float = 20.0) -> None:
        super().__init__(fn)  # type: ignore[arg-type]
        self.batch_fn = fn
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.max_batch, self.max_wait_s = max_batch, max_wait_ms / 1000
        self._requests: queue.Queue[tuple[Any, dict[str, Any], Future[Decision]] | None] = queue.Queue()
        self.batch_sizes: list[int] = []
        self._thread = threading.Thread(target=self._serve, name="policy-batcher", daemon=True)
        self._thread.start()

    def decide(self, obs: Any, info: dict[str, Any]) -> Decision:
        done: Future[Decision] = Future()
        self._requests.put((obs, info, done))
        return done.result()

    def _serve(self) -> None:
        while True:
            first = self._requests.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < min(self.max_batch, max(1, self.waiting())):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:  # short waits: a slot that ends its episode stops counting as one that may ask
                    more = self._requests.get(timeout=min(left, 0.01))
                except queue.Empty:
                    continue
                if more is None:
                    self._requests.put(None)
                    break
                batch.append(more)
            self._answer(batch)

    def _answer(self, batch: list[tuple[Any, dict[str, Any], Future[Decision]]]) -> None:
        self.batch_sizes.append(len(batch))
        try:
            actions = list(self.batch_fn([b[0] for b in batch], [b[1] for b in batch]))
            if len(actions) != len(batch):
                raise ValueError(f"the batched policy returned {len(actions)} actions for {len(batch)} observations")
        except BaseException as exc:  # the slots waiting on it get the error, not a hang
            for _, _, done in batch:
                done.set_exception(exc)
            return
        for (_, _, done), action in zip(batch, actions):
            done.set_result(as_decision(action))

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join(timeout=5)


def as_policy(policy: Any) -> Policy:
    """A ``Policy`` from any of the three shapes (a ``Policy`` is used as it is)."""
    if isinstance(policy, Policy):
        return policy
    if inspect.iscoroutinefunction(policy) or inspect.iscoroutinefunction(type(policy).__call__):
        return AsyncPolicy(policy)
    act = getattr(policy, "act", None)
    if callable(act):  # an arena_gym.rollout.Agent: act(obs, info), reset(...)
        return Policy(_AgentCall(policy))
    if callable(policy):
        return Policy(policy)
    raise TypeError(f"a policy is a function policy(obs, info), an async one, or a BatchedPolicy; "
                    f"got {type(policy).__name__}")


class _AgentCall:
    """An agent object (``act`` and ``reset``) as the callable a ``Policy`` wraps."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    def __call__(self, obs: Any, info: dict[str, Any]) -> Any:
        return self.agent.act(obs, info)

    def reset(self, info: dict[str, Any]) -> None:
        reset = getattr(self.agent, "reset", None)
        if callable(reset):
            reset(info)

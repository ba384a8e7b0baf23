"""Slots: one per VM or local arena, each an env the collector drives on its own.

A slot is made from a ``SlotSpec``: a name and a factory for its env handle (a Gymnasium env in this
process, or, on Ray, an actor next to its VM). ``restart`` rebuilds it: the default closes the env and
makes a new one, which restarts a local arena and reopens an SSH tunnel; pass your own to restart a VM.
"""

from __future__ import annotations

import enum
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym

log = logging.getLogger(__name__)


class SlotState(str, enum.Enum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    QUARANTINED = "quarantined"
    DEAD = "dead"


class EnvHandle(Protocol):
    """What a slot needs of its env: the gym calls, a health probe, and where it runs."""

    def reset(self, seed: int | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]: ...

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]: ...

    def probe(self) -> None: ...

    def where(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class GymHandle:
    """A Gymnasium env in this process. ``probe`` asks the env's coordinator (connecting, or reconnecting
    an unhealthy VM, as a reset would), so a healed VM is seen before work is given to it."""

    def __init__(self, env: gym.Env, owned: bool = True) -> None:
        self.env, self.owned = env, owned

    def reset(self, seed: int | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float(reward), terminated, truncated, info

    def probe(self) -> None:
        coordinator = getattr(self.env.unwrapped, "coordinator", None)
        if coordinator is not None:
            coordinator.ready_for_episode()

    def where(self) -> dict[str, Any]:
        config = getattr(self.env.unwrapped, "config", None)
        return {"host": socket.gethostname(), "server_url": getattr(config, "server_url", None)}

    def close(self) -> None:
        if self.owned:
            self.env.close()


@dataclass
class SlotSpec:
    name: str
    make: Callable[[], EnvHandle]
    restart: Callable[[EnvHandle | None], EnvHandle] | None = None  # default: close, then make anew
    spare: bool = False  # a warm spare: started with the others, takes work when a slot is quarantined
    labels: dict[str, Any] = field(default_factory=dict)


def _gym_factory(env_id: str, kwargs: dict[str, Any]) -> Callable[[], EnvHandle]:
    def make() -> EnvHandle:
        import arena_gym  # noqa: F401 - registers the ids in this process

        # A VM down at the start is this slot's failure, not the collector's.
        return GymHandle(gym.make(env_id, **{"unreachable_at_start": "truncate", **kwargs}))

    return make


def local_slots(n: int, spares: int = 0, **env_kwargs: Any) -> list[SlotSpec]:
    """``n`` local arenas (each env starts its own Xvfb, window manager and desktop server), plus
    ``spares`` warm spares."""
    return [SlotSpec(f"local-{i}", _gym_factory("LocalDesktop-v0", env_kwargs), spare=i >= n)
            for i in range(n + spares)]


def url_slots(env_id: str, server_urls: list[str], evaluate_urls: list[str | None] | None = None,
              spares: int = 0, **env_kwargs: Any) -> list[SlotSpec]:
    """One slot per VM URL (the last ``spares`` of them held as warm spares)."""
    if evaluate_urls is not None and len(evaluate_urls) != len(server_urls):
        raise ValueError(f"{len(server_urls)} server_urls but {len(evaluate_urls)} evaluate_urls: give one per VM")
    specs = []
    for i, url in enumerate(server_urls):
        per = {**env_kwargs, "server_url": url}
        if evaluate_urls is not None:
            per["evaluate_url"] = evaluate_urls[i]
        specs.append(SlotSpec(f"vm-{i}", _gym_factory(env_id, per), spare=i >= len(server_urls) - spares,
                              labels={"server_url": url}))
    return specs


def pool_slots(path: str | Path, env_id: str = "WAA-v0", spares: int = 0, **env_kwargs: Any) -> list[SlotSpec]:
    """One slot per VM of a pool file (configs/pool.example.yaml), each with its own tunnel if it has one."""
    from ..envs.pool import load_pool

    vms = load_pool(path)
    specs = []
    for i, vm in enumerate(vms):
        per = {**env_kwargs, "server_url": vm.server_url, "evaluate_url": vm.evaluate_url}
        if vm.tunnel is not None:
            per["tunnel"] = vm.tunnel
        specs.append(SlotSpec(vm.name, _gym_factory(env_id, per), spare=i >= len(vms) - spares,
                              labels={"server_url": vm.server_url}))
    return specs


def env_slot(env: gym.Env, name: str = "env-0") -> SlotSpec:
    """A slot over an env you made (not closed by the collector)."""
    return SlotSpec(name, lambda: GymHandle(env, owned=False))

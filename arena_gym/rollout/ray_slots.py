"""The collector's slots on a Ray cluster: each slot an actor next to its VM, the driver (the GPU box)
running the collector and the policy and getting episodes as they finish.

    import ray
    from arena_gym.rollout import Collector
    from arena_gym.rollout.ray_slots import ray_local_slots

    ray.init(address="auto")
    slots = ray_local_slots(4, placement=[{"resources": {"desktop-box-1": 1}}] * 2
                                        + [{"resources": {"desktop-box-2": 1}}] * 2)
    with Collector(slots, policy) as collector: ...

A local-arena actor starts its own arena on its node; a remote-VM actor (``ray_url_slots``,
``ray_pool_slots``) holds the VM's client and its SSH tunnel where the VM is reachable. ``placement``
gives each slot's actor options (``resources``, ``scheduling_strategy`` ...). A killed actor is an
infrastructure failure of its slot: the collector re-runs the episode elsewhere, and its restart makes a
new actor (reaping what was left of the old actor's arena on its node).

Needs the ``ray`` extra: ``pip install 'arena-gym[ray]'``.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from typing import Any

from .slots import GymHandle, SlotSpec

log = logging.getLogger(__name__)

# A backstop for a hung actor; the env's own deadlines end a stalled VM's calls long before.
CALL_TIMEOUT_S = 900.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray slots need Ray: pip install 'arena-gym[ray]'") from None
    return ray


class EnvActor:
    """Runs on the slot's node: one env (and, for a local arena, the arena itself)."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any]) -> None:
        import gymnasium as gym

        import arena_gym  # noqa: F401 - registers the ids in the actor's process

        self.handle = GymHandle(gym.make(env_id, **{"unreachable_at_start": "truncate", **env_kwargs}))
        try:
            self.handle.probe()  # warm: connect (and start a local arena) now, not at the first episode
        except Exception as exc:
            log.warning("the slot's VM did not answer at start: %s", exc)

    def reset(self, seed: int | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self.handle.reset(seed, options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self.handle.step(action)

    def probe(self) -> None:
        self.handle.probe()

    def where(self) -> dict[str, Any]:
        import ray

        out = {**self.handle.where(), "node_id": ray.get_runtime_context().get_node_id(),
               "host": socket.gethostname(), "pid": os.getpid()}
        arena = getattr(getattr(self.handle.env.unwrapped, "coordinator", None), "arena", None)
        if arena is not None:
            out["arena_id"] = arena.id
        return out

    def close(self) -> None:
        self.handle.close()


def _reap_on(node_id: str, arena_id: str) -> None:
    """Stop what a dead actor's arena left on its node."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def reap(arena: str) -> int:
        from arena_gym.arena.local import reap as reap_arena

        return reap_arena(arena)

    task = ray.remote(num_cpus=0)(reap).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))
    try:
        found = ray.get(task.remote(arena_id), timeout=120)
        log.info("reaped %d processes of arena %s on node %s", found, arena_id, node_id[:8])
    except Exception as exc:  # the node itself may be gone: nothing left to reap there
        log.warning("could not reap arena %s on node %s: %s", arena_id, node_id[:8], exc)


@functools.lru_cache(maxsize=1)
def _actor_class() -> Any:
    return _ray().remote(EnvActor)


class RayHandle:
    """The slot's env as seen from the driver: each call is a call on the actor."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], options: dict[str, Any] | None = None,
                 timeout_s: float = CALL_TIMEOUT_S) -> None:
        ray = _ray()
        self._ray, self.timeout_s = ray, timeout_s
        self.actor = _actor_class().options(**{"num_cpus": 1, **(options or {})}).remote(env_id, env_kwargs)
        self._where: dict[str, Any] = {}

    def _call(self, method: str, *args: Any) -> Any:
        return self._ray.get(getattr(self.actor, method).remote(*args), timeout=self.timeout_s)

    def reset(self, seed: int | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self._call("reset", seed, options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self._call("step", action)

    def probe(self) -> None:
        self._call("probe")

    def where(self) -> dict[str, Any]:
        self._where = self._call("where")
        return self._where

    def close(self) -> None:
        try:
            self._call("close")
        except Exception as exc:  # a dead actor: reap its arena where it ran
            log.info("actor close failed (%s); reaping its arena", type(exc).__name__)
            if self._where.get("arena_id") and self._where.get("node_id"):
                _reap_on(self._where["node_id"], self._where["arena_id"])
        finally:
            self._ray.kill(self.actor, no_restart=True)


def _slots(env_id: str, per_slot: list[dict[str, Any]], placement: list[dict[str, Any]] | dict[str, Any] | None,
           names: list[str], spares: int) -> list[SlotSpec]:
    if isinstance(placement, list) and len(placement) != len(per_slot):
        raise ValueError(f"{len(placement)} placements for {len(per_slot)} slots: give one per slot (or one for all)")
    specs = []
    for i, kwargs in enumerate(per_slot):
        options = placement[i] if isinstance(placement, list) else (placement or {})

        def make(kwargs: dict[str, Any] = kwargs, options: dict[str, Any] = options) -> RayHandle:
            return RayHandle(env_id, kwargs, options)

        specs.append(SlotSpec(names[i], make, spare=i >= len(per_slot) - spares,
                              labels={"resources": options.get("resources", {})}))
    return specs


def ray_local_slots(n: int, placement: list[dict[str, Any]] | dict[str, Any] | None = None, spares: int = 0,
                    **env_kwargs: Any) -> list[SlotSpec]:
    """``n`` local arenas (plus ``spares``), each started by its actor on the node it is placed on."""
    total = n + spares
    return _slots("LocalDesktop-v0", [dict(env_kwargs) for _ in range(total)], placement,
                  [f"ray-local-{i}" for i in range(total)], spares)


def ray_url_slots(env_id: str, server_urls: list[str], evaluate_urls: list[str | None] | None = None,
                  placement: list[dict[str, Any]] | dict[str, Any] | None = None, spares: int = 0,
                  **env_kwargs: Any) -> list[SlotSpec]:
    """One actor per VM URL, holding its client where the URL is reachable (place it there)."""
    per = [{**env_kwargs, "server_url": url, **({"evaluate_url": evaluate_urls[i]} if evaluate_urls else {})}
           for i, url in enumerate(server_urls)]
    return _slots(env_id, per, placement, [f"ray-vm-{i}" for i in range(len(per))], spares)


def ray_pool_slots(path: str, env_id: str = "WAA-v0", placement: list[dict[str, Any]] | dict[str, Any] | None = None,
                   spares: int = 0, **env_kwargs: Any) -> list[SlotSpec]:
    """One actor per VM of a pool file, each opening the VM's SSH tunnel (if it has one) on its node."""
    from ..envs.pool import load_pool

    vms = load_pool(path)
    per = [{**env_kwargs, "server_url": vm.server_url, "evaluate_url": vm.evaluate_url,
            **({"tunnel": vm.tunnel} if vm.tunnel else {})} for vm in vms]
    return _slots(env_id, per, placement, [vm.name for vm in vms], spares)

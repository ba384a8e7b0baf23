"""RLlib: an env creator that gives each env runner's sub-env its own VM.

    from arena_gym.rollout.rllib import register_rllib_env
    register_rllib_env()  # as "arena-gym"
    config = (PPOConfig().environment("arena-gym", env_config={
                  "env_id": "WAA-v0", "pool": "configs/pool.yaml", "num_envs_per_env_runner": 1,
                  "face": "sb3", "env": {"max_steps": 15}})
              .env_runners(num_env_runners=2, num_envs_per_env_runner=1))

``env_config`` keys: ``env_id`` (default ``LocalDesktop-v0``), ``env`` (``gym.make``'s keywords), a VM
pool (``pool``: a pool file, or ``server_urls`` with ``evaluate_urls``; without one, each local env
starts its own arena), ``num_envs_per_env_runner`` (as given to RLlib: it numbers the VMs), and ``face``:
``"sb3"`` (the default: ``MultiDiscrete`` actions and a flat ``Box`` observation that RLlib's default
models take) or ``"structured"``. Sub-env ``v`` of env runner ``w`` takes VM ``(w - 1) * n + v`` of the pool
for remote runners ``w = 1..R`` (``n`` sub-envs per runner; the driver's runner, when it makes envs, takes
the VMs after theirs); a pool too small for that is refused rather than two envs sharing one desktop. ``face_options`` go to the SB3 face (``grid``, ``size``,
``types``).

Needs the ``rllib`` extra (RLlib pins gymnasium 1.2.2; arena-gym works from there on).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import gymnasium as gym

ENV_NAME = "arena-gym"
_counters: dict[int, itertools.count] = {}
_lock = threading.Lock()


def _sub_env_index(worker: int, config: Any, per_runner: int) -> int:
    """RLlib's new stack makes a runner's sub-envs one after another with the same context (vector index
    0): count them per runner, modulo the sub-envs it has, so a re-made env takes its VM back."""
    given = int(getattr(config, "vector_index", 0) or 0)
    if given:
        return given
    with _lock:
        made = next(_counters.setdefault(worker, itertools.count()))
    return made % max(1, per_runner)


def vm_for(config: dict[str, Any], worker: int, vector: int, runners: int = 0) -> dict[str, Any]:
    """The ``gym.make`` keywords that point sub-env ``vector`` of env runner ``worker`` (of ``runners``
    remote ones) at its own VM."""
    per_runner = int(config.get("num_envs_per_env_runner", 1))
    if config.get("pool"):
        from ..envs.pool import load_pool

        vms = [{"server_url": vm.server_url, "evaluate_url": vm.evaluate_url,
                **({"tunnel": vm.tunnel} if vm.tunnel else {})} for vm in load_pool(config["pool"])]
    elif config.get("server_urls"):
        evaluate = config.get("evaluate_urls") or [None] * len(config["server_urls"])
        vms = [{"server_url": u, "evaluate_url": e} for u, e in zip(config["server_urls"], evaluate)]
    else:
        return {}  # local arenas: each env starts its own
    index = vm_index(worker, vector, per_runner, runners)
    if index >= len(vms):
        raise ValueError(
            f"env runner {worker}, sub-env {vector} needs VM #{index} but the pool has {len(vms)}: give one VM per "
            f"env (num_env_runners x num_envs_per_env_runner={per_runner}, plus the driver's if it makes envs)")
    return vms[index]


def vm_index(worker: int, vector: int, per_runner: int, runners: int) -> int:
    """Remote runners ``1..R`` take the pool's first ``R * n`` VMs in order; the driver's runner (``0``)
    takes the first ``n`` when there are no remote runners, else the ``n`` after theirs (RLlib gives the
    driver envs then only when asked)."""
    if worker == 0:
        return runners * per_runner + vector
    return (worker - 1) * per_runner + vector


def make_rllib_env(config: Any) -> gym.Env:
    """The env creator RLlib calls with its ``EnvContext`` (a dict with ``worker_index``)."""
    import arena_gym  # noqa: F401 - registers the ids in the runner's process

    from ..wrappers import sb3_env

    config = config if config is not None else {}
    worker = int(getattr(config, "worker_index", 0) or 0)
    vector = _sub_env_index(worker, config, int(config.get("num_envs_per_env_runner", 1)))
    runners = int(getattr(config, "num_workers", 0) or 0)
    kwargs = {**dict(config.get("env", {})), **vm_for(config, worker, vector, runners)}
    face = config.get("face", "sb3")
    env = gym.make(config.get("env_id", "LocalDesktop-v0"), **kwargs)
    if face == "structured":
        return env
    if face != "sb3":
        raise ValueError(f"face must be 'sb3' or 'structured', got {face!r}")
    options = dict(config.get("face_options", {}))
    for key in ("grid", "size"):
        if key in options:
            options[key] = tuple(options[key])
    return gym.wrappers.FlattenObservation(sb3_env(env, **options))


def register_rllib_env(name: str = ENV_NAME) -> str:
    """Register ``make_rllib_env`` with ``ray.tune.register_env`` under ``name``."""
    try:
        from ray.tune import register_env
    except ImportError:
        raise ImportError("RLlib is not installed: pip install 'arena-gym[rllib]'") from None
    register_env(name, make_rllib_env)
    return name

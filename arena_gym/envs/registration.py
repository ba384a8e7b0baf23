"""Entry points behind the registered ids, and their vector entry points (one VM per sub-env)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from ..ids import register_all  # noqa: F401 - kept importable from here
from .config import DEFAULT_SERVER_URL, from_environment
from .desktop_env import DesktopEnv


def make_waa(**kwargs: Any) -> DesktopEnv:
    """A stock WAA VM and its evaluate server. URLs default to ARENA_SERVER_URL / ARENA_EVALUATE_URL, else
    the ports an SSH tunnel gives on localhost (5000 and 5051)."""
    return DesktopEnv(**from_environment(**kwargs))


def make_osworld(**kwargs: Any) -> DesktopEnv:
    """An OSWorld guest server; tasks are set up and scored from the client side."""
    import os

    values = {"server_url": os.environ.get("ARENA_SERVER_URL", DEFAULT_SERVER_URL), "dialect": "osworld",
              "platform": "linux", **kwargs}
    return DesktopEnv(**values)


def make_local(**kwargs: Any) -> DesktopEnv:
    """A local Linux arena the env starts itself (Xvfb, window manager, desktop server), with the local suite.
    Give ``server_url`` to use an arena you started (``arena-gym up``) instead."""
    values = {"close_windows_on_reset": True, **kwargs}
    tasks = dict(values.get("tasks") or {})
    if not any(tasks.get(k) for k in ("source", "folder", "suite")):
        tasks["source"] = "local"  # the local suite, also on an arena someone else started
        values["tasks"] = tasks
    return DesktopEnv(**values)


def _vector(make: Any, num_envs: int, server_urls: list[str] | None = None, evaluate_urls: list[str | None] | None = None,
            pool: str | None = None, mode: str = "async", shared_memory: bool = True,
            **kwargs: Any) -> gym.vector.VectorEnv:
    """``num_envs`` sub-envs, sub-env i on ``server_urls[i]`` (and ``evaluate_urls[i]``), or on the VMs of a
    pool file (configs/*.yaml, each VM optionally with its own SSH tunnel). ``mode``: "async" (a process per
    sub-env; one stalled VM only holds its own slot until its timeout) or "sync". ``shared_memory``: async
    sub-envs hand observations over in shared memory (False: pickled through their pipes)."""
    tunnels: list[dict | None] | None = None
    if pool is not None:
        from .pool import load_pool

        vms = load_pool(pool)
        server_urls = server_urls or [vm.server_url for vm in vms]
        evaluate_urls = evaluate_urls or [vm.evaluate_url for vm in vms]
        tunnels = [vm.tunnel for vm in vms]
    if server_urls is not None and len(server_urls) < num_envs:
        raise ValueError(f"num_envs={num_envs} but only {len(server_urls)} server_urls: give one VM per sub-env")
    if evaluate_urls is not None and server_urls is not None and len(evaluate_urls) < num_envs:
        raise ValueError(f"{len(evaluate_urls)} evaluate_urls for {num_envs} sub-envs: give one per VM (or null)")

    def factory(i: int) -> Any:
        def build() -> DesktopEnv:
            # A VM that is down at the start is that slot's infrastructure failure, as it is later on:
            # the other slots run.
            per = {"unreachable_at_start": "truncate", **kwargs}
            if server_urls is not None:
                per["server_url"] = server_urls[i]
                if evaluate_urls is not None:
                    per["evaluate_url"] = evaluate_urls[i]
            if tunnels is not None and i < len(tunnels) and tunnels[i] is not None:
                per["tunnel"] = tunnels[i]  # each VM's own tunnel, over the shared kwargs
            return make(**per)

        return build

    fns = [factory(i) for i in range(num_envs)]
    if mode == "sync":
        return gym.vector.SyncVectorEnv(fns)
    if mode != "async":
        raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
    # Observations cross in shared memory (AnyText included: envs/spaces.py), not pickled through a pipe.
    from . import spaces  # noqa: F401 - registers AnyText's shared memory

    return gym.vector.AsyncVectorEnv(fns, shared_memory=shared_memory, context="spawn")


def _one_vm_each(env_id: str, num_envs: int, kwargs: dict[str, Any], needs_evaluate: bool) -> None:
    """Sub-envs on remote VMs need one URL each: N sub-envs on one VM would trample one desktop."""
    if num_envs > 1 and kwargs.get("server_urls") is None and kwargs.get("pool") is None:
        raise ValueError(f"make_vec({env_id!r}, num_envs={num_envs}) needs one VM per sub-env: give "
                         "server_urls=[...] (and evaluate_urls=[...]) or pool='configs/pool.yaml'")
    if needs_evaluate and kwargs.get("server_urls") is not None and kwargs.get("evaluate_urls") is None \
            and "evaluate_url" not in kwargs:
        raise ValueError("server_urls without evaluate_urls: give each VM's evaluate server "
                         "(evaluate_urls=[...]), or evaluate_url=None to set up and score from this side")


def make_waa_vector(num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    _one_vm_each("WAA-v0", num_envs, kwargs, needs_evaluate=True)
    return _vector(make_waa, num_envs, **kwargs)


def make_osworld_vector(num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    _one_vm_each("OSWorld-v0", num_envs, kwargs, needs_evaluate=False)
    return _vector(make_osworld, num_envs, **kwargs)


def make_local_vector(num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    return _vector(make_local, num_envs, **kwargs)

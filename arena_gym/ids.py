"""The registered ids, with their entry points as strings: registering imports gymnasium and nothing of
the envs, so ``import arena_gym`` stays cheap for the programs that run on the desktop itself (the server,
the apps a task launches at every reset)."""

from __future__ import annotations

ENTRY_POINTS = {
    "WAA-v0": ("make_waa", "make_waa_vector"),
    "OSWorld-v0": ("make_osworld", "make_osworld_vector"),
    "LocalDesktop-v0": ("make_local", "make_local_vector"),
}


def register_all() -> None:
    import gymnasium as gym

    for env_id, (entry, vector_entry) in ENTRY_POINTS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            env_id,
            entry_point=f"arena_gym.envs.registration:{entry}",
            vector_entry_point=f"arena_gym.envs.registration:{vector_entry}",
            nondeterministic=True,
        )

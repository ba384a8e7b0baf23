"""The environment of the Pythons that ``/execute`` starts: ``sitecustomize.py`` here loads first."""

from __future__ import annotations

import os

FOLDER = os.path.dirname(os.path.abspath(__file__))


def light_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with this folder leading ``PYTHONPATH``."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (FOLDER, env.get("PYTHONPATH", "")) if p)
    return env

from __future__ import annotations

import pytest

from arena_gym.arena import LocalArena
from arena_gym.arena.local import REQUIRED_TOOLS

from .support.system import ensure_programs

DESKTOP_PROGRAMS = {**REQUIRED_TOOLS, "openbox": "openbox", "xterm": "xterm", "mousepad": "mousepad", "xclip": "xclip"}


@pytest.fixture(scope="session")
def desktop_programs() -> None:
    ensure_programs(DESKTOP_PROGRAMS)


@pytest.fixture(scope="session")
def arena(desktop_programs: None):
    """One real desktop for the session: Xvfb, openbox, an xterm, the desktop server on loopback."""
    with LocalArena(apps=["xterm"], size=(1280, 800)) as arena:
        yield arena

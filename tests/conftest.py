from __future__ import annotations

import os

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


# A test that uses any of these needs a real Xvfb desktop: it is marked ``desktop`` without saying so.
DESKTOP_FIXTURES = {"desktop_programs", "arena", "local_env"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    not_root = pytest.mark.skip(reason="needs root (network namespaces, setns, sshd): run the tests as root")
    for item in items:
        if DESKTOP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.desktop)
        if item.get_closest_marker("root") is not None and os.geteuid() != 0:
            item.add_marker(not_root)

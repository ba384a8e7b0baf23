"""Install and check the system programs tests need (as root, from Debian's packages)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def ensure_programs(programs: dict[str, str]) -> None:
    """Make sure each program (name -> Debian package) is on PATH; install as root, else skip saying why."""
    missing = sorted({pkg for prog, pkg in programs.items() if shutil.which(prog) is None})
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.skip(f"needs the Debian packages {', '.join(missing)} (run the tests as root to install them)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, env=env, capture_output=True)
    still = [prog for prog in programs if shutil.which(prog) is None]
    if still:
        pytest.fail(f"installed {missing} but {still} are still missing")

"""Check the system programs tests need. Installing them is scripts/setup.sh's job, never a test's."""

from __future__ import annotations

import shutil

import pytest


def ensure_programs(programs: dict[str, str]) -> None:
    """Fail, naming the fix, when a program (name -> Debian package) is not on PATH."""
    missing = sorted({pkg for prog, pkg in programs.items() if shutil.which(prog) is None})
    if missing:
        pytest.fail(f"needs the Debian packages {', '.join(missing)}: run `bash scripts/setup.sh` as root "
                    "(it installs them), then the tests again")

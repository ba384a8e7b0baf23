"""A real evaluate server (``python -m arena_gym.evaluate_server``) next to a VM, on a free loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from arena_gym.suites import LOCAL


@contextmanager
def evaluate_server(vm_url: str, *extra: str, tasks: str = str(LOCAL)) -> Iterator[str]:
    argv = [sys.executable, "-m", "arena_gym.evaluate_server", "--port", "0", "--vm-url", vm_url,
            "--tasks", tasks, *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())["url"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""Make an app stutter as on a loaded VM: every process of that name stopped 200 ms out of every 300 ms."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator


def _pids(name: str) -> list[int]:
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@contextlib.contextmanager
def stuttering(name: str, stopped_s: float = 0.2, running_s: float = 0.1) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            pids = _pids(name)
            if not pids:
                stop.wait(0.05)
                continue
            _signal(pids, signal.SIGSTOP)
            stop.wait(stopped_s)
            _signal(pids, signal.SIGCONT)
            stop.wait(running_s)

    thread = threading.Thread(target=loop, name=f"stutter-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        _signal(_pids(name), signal.SIGCONT)

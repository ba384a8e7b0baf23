"""End a process and everything it started: the one way arena-gym stops programs."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess

import psutil

log = logging.getLogger(__name__)


def terminate_tree(proc: subprocess.Popen[bytes] | int, grace_s: float = 5.0,
                   sig: signal.Signals = signal.SIGTERM) -> None:
    """Send ``sig`` to ``proc`` and all its descendants, wait up to ``grace_s`` for them to go, then
    SIGKILL whatever is left. A process that is already gone is no error. ``grace_s=0`` kills at once."""
    pid = proc if isinstance(proc, int) else proc.pid
    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            member.send_signal(sig if grace_s > 0 else signal.SIGKILL)
    _, alive = psutil.wait_procs(family, timeout=grace_s if grace_s > 0 else 1.0)
    for member in alive:
        log.info("process %d did not end within %.1f s of %s: killing it", member.pid, grace_s, sig.name)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            member.kill()
    psutil.wait_procs(alive, timeout=5.0)
    if not isinstance(proc, int):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1.0)  # reap it, so it is no zombie of ours

"""The socat pair, as people run it by hand, made safe and fast:

    stage 1 (in the namespace): nsenter ... socat UNIX-LISTEN:<sock>,fork TCP:127.0.0.1:<port>,nodelay
    stage 2 (on the host):      socat TCP-LISTEN:<host port>,bind=127.0.0.1,fork,reuseaddr,nodelay UNIX-CONNECT:<sock>

Stages stop in order and are waited for before a restart: a stage 1 that outlives its replacement
deletes the new socket when it exits. A socket file left by a stage 1 that died hard is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .base import Bridge, BridgeConfig
from .netns import TargetError

log = logging.getLogger(__name__)


def _wait(check, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not ready within {timeout:.0f} s")
        time.sleep(0.02)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class SocatBridge(Bridge):
    def __init__(self, config: BridgeConfig, socket_path: str | None = None, nodelay: bool = True) -> None:
        super().__init__(config)
        for tool in ("socat", "nsenter"):
            if shutil.which(tool) is None:
                raise TargetError(f"{tool} is not installed (apt-get install socat util-linux)")
        self.socket_path = socket_path or os.path.join(
            tempfile.gettempdir(), f"arena-bridge-{config.host_port}.sock")
        self.nodelay = nodelay
        self.stage1: subprocess.Popen[bytes] | None = None
        self.stage2: subprocess.Popen[bytes] | None = None

    def _enter(self) -> list[str]:
        target = self.config.target
        if target.netns is not None:
            return ["nsenter", f"--net={target.ns_path()}"]
        return ["nsenter", "-t", str(target.resolve_pid()), "-n"]

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def start(self) -> None:
        if self.alive():
            return
        cfg = self.config
        nodelay = ",nodelay" if self.nodelay else ""
        if self.stage1 is None or self.stage1.poll() is not None:
            self._stop_stage2()  # never run stage 2 against a socket being replaced
            if os.path.exists(self.socket_path):
                os.unlink(self.socket_path)  # left by a stage 1 that died hard
            self.stage1 = self._spawn(self._enter() + [
                "socat", f"UNIX-LISTEN:{self.socket_path},fork,mode=600", f"TCP:127.0.0.1:{cfg.port}{nodelay}"])
            _wait(lambda: os.path.exists(self.socket_path) or self.stage1.poll() is not None, 10, "stage 1 socket")
            if self.stage1.poll() is not None:
                raise TargetError(f"stage 1 exited ({self.stage1.returncode}): cannot enter {cfg.target.describe()}")
        self.stage2 = self._spawn([
            "socat", f"TCP-LISTEN:{cfg.host_port},bind={cfg.host},fork,reuseaddr{nodelay}",
            f"UNIX-CONNECT:{self.socket_path}"])
        _wait(lambda: _listening(cfg.host, cfg.host_port) or self.stage2.poll() is not None, 10, "stage 2 port")
        if self.stage2.poll() is not None:
            raise OSError(f"stage 2 exited ({self.stage2.returncode}): is port {cfg.host_port} taken?")
        log.info("socat bridge %s:%s -> %s port %s", cfg.host, cfg.host_port, cfg.target.describe(), cfg.port)

    def alive(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self.stage1, self.stage2))

    @staticmethod
    def _end(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def _stop_stage2(self) -> None:
        self._end(self.stage2)
        self.stage2 = None

    def stop(self) -> None:
        self._stop_stage2()
        self._end(self.stage1)  # waited for: its exit must not race a new stage 1's socket
        self.stage1 = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

"""A stand-in for the WAA container: a network namespace of our own with an HTTP server inside.

Made and always deleted by the test (names start with ``agt-``); only loopback inside it is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class FakeContainer:
    def __init__(self, port: int = 5050) -> None:
        self.name = f"agt-{uuid.uuid4().hex[:8]}"
        self.port = port
        self.server: subprocess.Popen[bytes] | None = None

    def start(self) -> FakeContainer:
        _ip("netns", "add", self.name)
        _ip("netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        self.start_server()
        return self

    def start_server(self) -> None:
        self.server = subprocess.Popen(
            ["ip", "netns", "exec", self.name, sys.executable, "-m", "tests.support.http_target",
             "--port", str(self.port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.server.stdout is not None
        line = self.server.stdout.readline()  # the server says "ready" once it listens
        if b"ready" not in line:
            raise RuntimeError(f"server in {self.name} did not start")

    @property
    def pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait(10)
        self.server = None

    def delete(self) -> None:
        self.stop_server()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def restart(self) -> None:
        """As a container restart: the server and its namespace go, new ones (new PID, new inode) come."""
        self.delete()
        self.start()

    def __enter__(self) -> FakeContainer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.delete()

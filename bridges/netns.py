"""Network namespaces of a target: a Docker container (by name), a process (by PID), or a named netns.

A target's identity is its namespace's inode: a restarted container comes back with a new PID and a
new namespace, which is how the supervisor notices it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


class TargetError(RuntimeError):
    """The target cannot be found (no such container, process or namespace) or entered."""


@dataclass(frozen=True)
class Target:
    """What to bridge into: exactly one of ``container``, ``pid``, ``netns``."""

    container: str | None = None
    pid: int | None = None
    netns: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.container, self.pid, self.netns) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one target: a container name, a PID, or a named network namespace")
        if self.netns is not None and ("/" in self.netns or self.netns.startswith(".")):
            raise ValueError(f"netns must be a name under {NETNS_DIR}, got {self.netns!r}")

    def describe(self) -> str:
        if self.container is not None:
            return f"container {self.container}"
        if self.pid is not None:
            return f"pid {self.pid}"
        return f"netns {self.netns}"

    def resolve_pid(self) -> int | None:
        """The PID whose namespace to enter (None for a named netns)."""
        if self.pid is not None:
            return self.pid
        if self.container is not None:
            return container_pid(self.container)
        return None

    def ns_path(self) -> str:
        """Path of the namespace file to enter, resolved now (a container's PID changes on restart)."""
        if self.netns is not None:
            path = os.path.join(NETNS_DIR, self.netns)
        else:
            path = f"/proc/{self.resolve_pid()}/ns/net"
        if not os.path.exists(path):
            raise TargetError(f"{self.describe()}: no network namespace at {path} (is it running?)")
        return path

    def identity(self) -> tuple[int, int]:
        """(device, inode) of the namespace: changes when the container or namespace is recreated."""
        st = os.stat(self.ns_path())
        return st.st_dev, st.st_ino


def container_pid(name: str) -> int:
    docker = shutil.which("docker")
    if docker is None:
        raise TargetError("docker is not installed here; give --pid or --netns instead of --container")
    result = subprocess.run([docker, "inspect", "-f", "{{.State.Pid}}", name],
                            capture_output=True, text=True, timeout=15, check=False)
    if result.returncode != 0:
        raise TargetError(f"docker inspect {name}: {result.stderr.strip() or 'failed'}")
    pid = int(result.stdout.strip() or 0)
    if pid <= 0:
        raise TargetError(f"container {name} is not running (docker reports PID {pid})")
    return pid


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace of ``fd`` (needs CAP_SYS_ADMIN)."""
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)
        return
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)} (entering another namespace needs root)")


def connect_in(ns_path: str, host: str, port: int, timeout: float = 5.0) -> socket.socket:
    """A TCP connection made from inside the namespace at ``ns_path``.

    A socket belongs to the namespace it was created in, so a short-lived thread enters the namespace,
    connects, and hands the socket back; the caller's threads never leave their own namespace.
    """
    result: dict[str, object] = {}

    def work() -> None:
        try:
            with open(ns_path, "rb") as ns:
                setns(ns.fileno())
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            result["sock"] = sock
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=work, name="netns-connect", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    if "sock" not in result:
        raise TimeoutError(f"connecting to {host}:{port} inside {ns_path} timed out")
    return result["sock"]  # type: ignore[return-value]

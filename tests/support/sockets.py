"""Read a socket option off any process's TCP connections (as root): the check that a relay or server set
TCP_NODELAY, without timing anything.

Each process's connections are read from ``/proc/<pid>/net/tcp`` (its own network namespace) and its
fds; the socket itself is borrowed with ``pidfd_getfd`` and asked with ``getsockopt``.
"""

from __future__ import annotations

import ctypes
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

SYS_PIDFD_GETFD = 438  # the same number on x86_64 and aarch64
ESTABLISHED = "01"
_libc = ctypes.CDLL(None, use_errno=True)


def free_port() -> int:
    """A loopback port nothing listens on (as the kernel sees it now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Connection:
    pid: int
    fd: int
    local_port: int
    remote_port: int

    def nodelay(self) -> bool:
        pidfd = os.pidfd_open(self.pid)
        try:
            ours = _libc.syscall(SYS_PIDFD_GETFD, pidfd, self.fd, 0)
            if ours < 0:
                raise OSError(ctypes.get_errno(), f"pidfd_getfd({self.pid}, {self.fd})")
        finally:
            os.close(pidfd)
        sock = socket.socket(fileno=ours)
        try:
            return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        finally:
            sock.detach()
            os.close(ours)


def _established(pid: int) -> dict[int, tuple[int, int]]:
    """inode -> (local port, remote port) of the established TCP connections in ``pid``'s namespace."""
    out = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == ESTABLISHED:
                out[int(cols[9])] = (int(cols[1].rsplit(":", 1)[1], 16), int(cols[2].rsplit(":", 1)[1], 16))
    return out


def _all_established(pids: list[int]) -> dict[int, tuple[int, int]]:
    """The established connections of every network namespace any of ``pids`` is in: a socket lives in the
    namespace it was made in, which need not be its process's (a relay that enters a container's netns in
    one thread)."""
    out: dict[int, tuple[int, int]] = {}
    seen = set()
    for pid in pids:
        try:
            netns = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        if netns not in seen:
            seen.add(netns)
            out.update(_established(pid))
    return out


def connections(port: int) -> Iterator[Connection]:
    """Every process's established TCP sockets whose local or remote port is ``port``."""
    pids = [int(e) for e in os.listdir("/proc") if e.isdigit()]
    table = _all_established(pids)
    for pid in pids:
        sockets = {}
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:  # closed meanwhile (the listing's own fd, for one)
                continue
            if target.startswith("socket:["):
                sockets[int(target[8:-1])] = int(fd)
        if not sockets:
            continue
        for inode, fd in sockets.items():
            local, remote = table.get(inode, (0, 0))
            if port in (local, remote):
                yield Connection(pid, fd, local, remote)

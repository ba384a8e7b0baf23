"""A real OpenSSH server on loopback with its own config, keys and port, started and stopped by tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from .sockets import free_port

SSHD = "/usr/sbin/sshd"


def keygen(path: Path, kind: str = "ed25519") -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip() if path.suffix else Path(f"{path}.pub").read_text().strip()


class SSHServer:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        host_pub = keygen(self.host_key)
        client_pub = keygen(self.client_key)
        (self.dir / "authorized_keys").write_text(client_pub + "\n")
        self.known_hosts = self.dir / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {' '.join(host_pub.split()[:2])}\n")
        self.config = self.dir / "sshd_config"
        self.config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}", f"PidFile {self.dir / 'sshd.pid'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "AllowTcpForwarding yes", "PermitTTY yes", "LogLevel ERROR",
            "ClientAliveInterval 0", "MaxStartups 50",
        ]) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SSHServer:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start (exit {self.proc.poll()})") from None
                time.sleep(0.05)

    def children(self) -> list[int]:
        """Per-connection sshd processes (the listener's children)."""
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def _descendants(self, pid: int) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        kids = [int(p) for p in out.split()]
        return kids + [d for k in kids for d in self._descendants(k)]

    def kill(self) -> None:
        """Kill the listener and every connection it serves, hard (as a crash or a host reboot).
        Session processes may sit in sessions of their own, so they are found by parentage."""
        if self.proc is None:
            return
        for pid in [*self._descendants(self.proc.pid), self.proc.pid]:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def stop(self) -> None:
        self.kill()

"""Keeps a bridge healthy with nobody watching: notices a restarted container (new namespace), a dead
stage or failing health, re-bridges in the right order, and says which hop is broken."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .base import Bridge
from .health import Probe
from .netns import TargetError

log = logging.getLogger(__name__)


@dataclass
class Event:
    time: float
    what: str


class Supervisor:
    def __init__(self, bridge: Bridge, interval: float = 1.0, health_timeout: float = 2.0) -> None:
        self.bridge = bridge
        self.interval = interval
        self.health_timeout = health_timeout
        self.events: deque[Event] = deque(maxlen=200)
        self.identity: tuple[int, int] | None = None
        self.last_health: Probe | None = None
        self.last_check: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _note(self, what: str) -> None:
        log.info("%s", what)
        self.events.append(Event(time.time(), what))

    def _rebridge(self, why: str) -> None:
        self._note(f"re-bridging: {why}")
        self.bridge.stop()  # stages stopped and waited for before anything new starts
        self.bridge.start()

    def ensure(self) -> str:
        """One check-and-repair pass (safe to call any time, from anywhere). Returns the state in a word:
        "healthy", "repaired", "service down" or "target missing"."""
        with self._lock:
            self.last_check = time.time()
            try:
                identity = self.bridge.config.target.identity()
            except TargetError as exc:
                self._note(f"target missing: {exc}")
                return "target missing"
            repaired = False
            if self.identity is not None and identity != self.identity:
                self._rebridge("the target's network namespace changed (container restarted)")
                repaired = True
            self.identity = identity
            if not self.bridge.alive():
                self._rebridge("a bridge stage is not running")
                repaired = True
            probe = self.bridge.health(self.health_timeout)
            if not probe.ok:
                service = self.bridge.service_health(self.health_timeout)
                if not service.ok:
                    self.last_health = probe
                    self._note(f"service down inside the target: {service.detail}")
                    return "service down"
                self._rebridge(f"health through the bridge failed ({probe.detail}) while the service answers")
                probe = self.bridge.health(self.health_timeout)
                repaired = True
            self.last_health = probe
            return "repaired" if repaired else "healthy"

    def diagnose(self) -> list[tuple[str, Probe | None, str]]:
        """Each hop with its probe and a plain next step."""
        hops: list[tuple[str, Probe | None, str]] = []
        cfg = self.bridge.config
        try:
            cfg.target.identity()
            hops.append((f"target ({cfg.target.describe()})", Probe(True, "namespace found", 0.0), ""))
        except TargetError as exc:
            hops.append((f"target ({cfg.target.describe()})", Probe(False, str(exc), 0.0),
                         "start the container (docker start ...) or check the name/PID"))
            return hops
        service = self.bridge.service_health()
        hops.append((f"service in target, port {cfg.port}", service,
                     "" if service.ok else f"the server inside the target is not answering on {cfg.port}: start it"))
        through = self.bridge.health()
        hint = ""
        if not through.ok:
            hint = ("the bridge is broken: `arena-bridge bridge ... --supervise` repairs it" if service.ok
                    else "fix the service first")
        hops.append((f"bridge {cfg.host}:{cfg.host_port}", through, hint))
        return hops

    def run(self) -> None:
        """Check every ``interval`` seconds until ``stop()``."""
        self.bridge.start()
        self._note(f"supervising {self.bridge.config.target.describe()} -> {self.bridge.config.host}:"
                   f"{self.bridge.config.host_port}")
        while not self._stop.is_set():
            try:
                self.ensure()
            except Exception as exc:  # keep supervising whatever one pass hit
                self._note(f"check failed: {type(exc).__name__}: {exc}")
            self._stop.wait(self.interval)

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="bridge-supervisor", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        self.bridge.stop()

    def status(self) -> dict[str, Any]:
        cfg = self.bridge.config
        return {
            "target": cfg.target.describe(), "port": cfg.port, "host": cfg.host, "host_port": cfg.host_port,
            "bridge": type(self.bridge).__name__, "alive": self.bridge.alive(),
            "health": str(self.last_health) if self.last_health else None, "last_check": self.last_check,
            "events": [asdict(e) for e in list(self.events)[-20:]],
        }


def systemd_unit(argv: list[str], description: str = "arena-bridge: WAA evaluate server bridge") -> str:
    """A unit that runs the supervisor and restarts it if it ever exits."""
    exec_start = " ".join(_quote(a) for a in argv)
    return (
        "[Unit]\n"
        f"Description={description}\n"
        "After=network-online.target docker.service\n"
        "Wants=network-online.target\n\n"
        "[Service]\n"
        f"ExecStart={exec_start}\n"
        "Restart=always\nRestartSec=2\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./:=@,+" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""What every bridge offers: expose ``target``'s ``port`` (inside its network namespace) on a host port."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from .health import Probe, http_probe
from .netns import Target, connect_in


@dataclass
class BridgeConfig:
    target: Target
    port: int = 5050  # inside the namespace
    host_port: int = 5051  # on the host
    host: str = "127.0.0.1"
    probe_path: str = "/probe"


class Bridge(abc.ABC):
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def start(self) -> None:
        """Start (a no-op when already running)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop and wait until every stage is gone."""

    @abc.abstractmethod
    def alive(self) -> bool:
        """Every stage is running (says nothing of health)."""

    def health(self, timeout: float = 3.0) -> Probe:
        """An HTTP request through the host port."""
        return http_probe(self.config.host, self.config.host_port, self.config.probe_path, timeout)

    def service_health(self, timeout: float = 3.0) -> Probe:
        """An HTTP request made inside the namespace, past the bridge: tells a broken bridge from a dead service."""
        try:
            sock = connect_in(self.config.target.ns_path(), "127.0.0.1", self.config.port, timeout)
        except (OSError, RuntimeError, TimeoutError) as exc:
            return Probe(False, f"{type(exc).__name__}: {exc}", 0.0)
        return http_probe("127.0.0.1", self.config.port, self.config.probe_path, timeout, sock=sock)

    def __enter__(self) -> Bridge:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

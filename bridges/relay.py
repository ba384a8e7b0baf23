"""The in-process relay: one process, no socket file, no socat.

Each accepted host connection gets an upstream connection made inside the target's namespace at that
moment (``setns`` in a short-lived thread), so a restarted container is followed with no re-bridging,
and nothing is left behind to go stale. TCP_NODELAY is set on both legs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from .base import Bridge, BridgeConfig
from .netns import connect_in

log = logging.getLogger(__name__)
CHUNK = 256 * 1024


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class RelayBridge(Bridge):
    def __init__(self, config: BridgeConfig) -> None:
        super().__init__(config)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0
        self.upstream_failures = 0

    def start(self) -> None:
        if self.alive():
            return
        cfg = self.config
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((cfg.host, cfg.host_port))
        sock.listen(128)
        self._listener = sock
        self._thread = threading.Thread(target=self._accept, name="relay-accept", daemon=True)
        self._thread.start()
        log.info("relay %s:%s -> %s port %s", cfg.host, cfg.host_port, cfg.target.describe(), cfg.port)

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(client,), name="relay-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = connect_in(self.config.target.ns_path(), "127.0.0.1", self.config.port)
        except (OSError, RuntimeError, TimeoutError) as exc:
            self.upstream_failures += 1
            log.info("relay: no upstream (%s)", exc)
            client.close()
            return
        with self._lock:
            self._conns.update((client, upstream))
            self.connections += 1
        back = threading.Thread(target=_pump, args=(upstream, client), name="relay-back", daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        with self._lock:
            self._conns.difference_update((client, upstream))
        client.close()
        upstream.close()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

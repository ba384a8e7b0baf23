"""Health is an HTTP request that gets an answer: a TCP connect proves nothing (a stale relay still
accepts connections and then replies with nothing)."""

from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass


@dataclass
class Probe:
    ok: bool
    detail: str
    ms: float

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAIL'} ({self.detail}, {self.ms:.1f} ms)"


def http_probe(host: str, port: int, path: str = "/probe", timeout: float = 3.0,
               sock: socket.socket | None = None) -> Probe:
    """GET ``path``; any HTTP answer (even 404) means the hop works. ``sock``: an already connected socket."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if sock is not None:
            sock.settimeout(timeout)
            conn.sock = sock
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return Probe(True, f"HTTP {resp.status}", (time.monotonic() - start) * 1000)
    except (OSError, http.client.HTTPException) as exc:
        reason = "empty reply" if isinstance(exc, http.client.RemoteDisconnected) else f"{type(exc).__name__}: {exc}"
        return Probe(False, reason, (time.monotonic() - start) * 1000)
    finally:
        conn.close()

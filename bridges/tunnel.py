"""SSH tunnels with paramiko: several local forwards over one connection, kept up without anyone watching.

- Local ports are bound once and kept across reconnects, so clients keep their URLs.
- TCP_NODELAY on the client's sockets, and an interactive (pty) session so sshd sets it on its side:
  without both every small request stalls 40+ ms in Nagle's algorithm.
- Keepalive plus a watchdog request with a timeout (paramiko's keepalive alone never notices a hung
  server); reconnects with capped backoff.
- Host keys are verified against known_hosts; trusting a new key is an explicit opt-in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import paramiko

log = logging.getLogger(__name__)


# Bulk speed: paramiko's per-packet work is Python, so fewer, larger packets, and a cipher whose
# integrity check is part of the one C call that decrypts (AES-GCM) rather than a separate HMAC pass.
# Kex takes the client's first choice the server also offers; servers without GCM get the rest as before.
FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
# What we announce for a forward's channel: the server sends up to this much per packet (OpenSSH's own
# limit is 256 KiB a packet) and may have this much in flight before we acknowledge.
CHANNEL_MAX_PACKET = 128 * 1024
CHANNEL_WINDOW = 4 * 1024 * 1024

# What a channel raises once its transport is gone: paramiko says EOFError or SSHException, sockets OSError.
CHANNEL_GONE = (OSError, EOFError, paramiko.SSHException)


class TunnelError(RuntimeError):
    """A tunnel problem that retrying will not fix (host key, authentication, bad config)."""


@dataclass
class Forward:
    local_port: int
    remote_host: str = "localhost"
    remote_port: int | None = None
    local_host: str = "127.0.0.1"

    @property
    def target_port(self) -> int:
        """The port on the remote side: the local one when none is given (``{"local_port": 5000}``)."""
        return self.remote_port if self.remote_port is not None else self.local_port

    @classmethod
    def parse(cls, spec: Any) -> Forward:
        """``5000``, ``"5000"``, ``"5000:localhost:5000"``, ``"127.0.0.1:5000:localhost:5000"`` or a dict."""
        if isinstance(spec, Forward):
            return spec
        if isinstance(spec, dict):
            return cls(**spec)
        parts = str(spec).split(":")
        try:
            if len(parts) == 1:
                return cls(int(parts[0]), "localhost", int(parts[0]))
            if len(parts) == 3:
                return cls(int(parts[0]), parts[1], int(parts[2]))
            if len(parts) == 4:
                return cls(int(parts[1]), parts[2], int(parts[3]), local_host=parts[0])
        except (ValueError, TypeError):
            pass
        raise TunnelError(f"bad forward {spec!r}: use PORT, LOCAL:HOST:REMOTE or BIND:LOCAL:HOST:REMOTE")

    def __post_init__(self) -> None:
        if self.remote_port is None:
            self.remote_port = self.local_port
        for name, port in (("local", self.local_port), ("remote", self.remote_port)):
            if not isinstance(port, int) or not 0 <= port <= 65535:
                raise TunnelError(f"bad forward: {name} port {port!r} is not a port number (0-65535)")


@dataclass
class TunnelConfig:
    host: str
    user: str | None = None
    port: int = 22
    forwards: list[Any] = field(default_factory=lambda: [5000, 5051])
    key_filename: str | None = None
    password: str | None = None
    known_hosts: str | None = None  # default ~/.ssh/known_hosts
    accept_new_host_key: bool = False
    keepalive_s: float = 10.0
    watchdog_interval_s: float = 5.0
    watchdog_timeout_s: float = 5.0
    connect_timeout_s: float = 10.0
    max_backoff_s: float = 30.0
    interactive_nodelay: bool = True

    def __post_init__(self) -> None:
        self.forwards = [Forward.parse(f) for f in self.forwards]
        if not self.forwards:
            raise TunnelError("a tunnel needs at least one forward")
        if not isinstance(self.port, int) or not 0 < self.port <= 65535:
            raise TunnelError(f"bad SSH port {self.port!r}: give a number from 1 to 65535")

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "tunnel") -> TunnelConfig:
        """From a pool file's or ``gym.make``'s ``tunnel`` mapping: an unknown field is named, with the known."""
        import dataclasses
        import difflib

        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise TunnelError(f"{where}: unknown field {key!r}{hint}; known fields: {', '.join(known)}")
        if "host" not in values:
            raise TunnelError(f"{where}: 'host' is required")
        return cls(**values)

    @classmethod
    def from_destination(cls, destination: str, **kwargs: Any) -> TunnelConfig:
        """``user@host[:port]``."""
        user, _, rest = destination.rpartition("@")
        host, _, port = rest.partition(":")
        if not host:
            raise TunnelError(f"bad destination {destination!r}: use user@host or user@host:port")
        if port and not port.isdigit():
            raise TunnelError(f"bad destination {destination!r}: the port after ':' must be a number, got {port!r}")
        return cls(host=host, user=user or None, port=int(port) if port else 22, **kwargs)


def _fast_transport(sock: Any, **kwargs: Any) -> paramiko.Transport:
    """A transport that asks for AES-GCM first (see ``FAST_CIPHERS``)."""
    transport = paramiko.Transport(sock, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    options.ciphers = tuple(c for c in FAST_CIPHERS if c in offered) + tuple(c for c in offered if c not in FAST_CIPHERS)
    return transport


class _SaveNewKey(paramiko.MissingHostKeyPolicy):
    """Trust on first use, explicitly asked for: remember the key in known_hosts."""

    def __init__(self, path: str) -> None:
        self.path = path

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        client.save_host_keys(self.path)
        log.warning("trusted new host key for %s (%s) and saved it to %s", hostname, key.get_name(), self.path)


class SSHTunnel:
    def __init__(self, config: TunnelConfig) -> None:
        self.config = config
        self.events: deque[tuple[float, str]] = deque(maxlen=200)
        self.reconnects = 0
        self.last_watchdog_ms: float | None = None
        self.hung_detected = 0
        self._client: paramiko.SSHClient | None = None
        self._transport: paramiko.Transport | None = None
        self._listeners: list[tuple[socket.socket, Forward]] = []
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # ---- life cycle
    def start(self) -> SSHTunnel:
        """Bind the local ports, connect (host key and auth problems raise), start the watchdog."""
        for fwd in self.config.forwards:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((fwd.local_host, fwd.local_port))
            sock.listen(64)
            if fwd.local_port == 0:
                fwd.local_port = sock.getsockname()[1]
            self._listeners.append((sock, fwd))
        try:
            self._connect()
        except BaseException:
            self.stop()
            raise
        for sock, fwd in self._listeners:
            self._spawn(self._accept, sock, fwd)
        self._spawn(self._watch)
        return self

    def _spawn(self, fn: Any, *args: Any) -> None:
        thread = threading.Thread(target=fn, args=args, daemon=True, name=f"tunnel-{fn.__name__}")
        thread.start()
        self._threads.append(thread)

    def _note(self, what: str) -> None:
        log.info("tunnel %s: %s", self.config.host, what)
        self.events.append((time.time(), what))

    def _connect(self) -> None:
        cfg = self.config
        client = paramiko.SSHClient()
        known = os.path.expanduser(cfg.known_hosts or "~/.ssh/known_hosts")
        if os.path.exists(known):
            client.load_host_keys(known)
        if cfg.accept_new_host_key:
            client.set_missing_host_key_policy(_SaveNewKey(known))
        else:
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                cfg.host, cfg.port, username=cfg.user, key_filename=cfg.key_filename, password=cfg.password,
                timeout=cfg.connect_timeout_s, banner_timeout=cfg.connect_timeout_s, auth_timeout=cfg.connect_timeout_s,
                allow_agent=cfg.key_filename is None and cfg.password is None,
                look_for_keys=cfg.key_filename is None and cfg.password is None,
                transport_factory=_fast_transport,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise TunnelError(
                f"host key for {cfg.host} does not match {known} (got {exc.key.get_name()}): refusing to connect. "
                "If the server's key really changed, remove its old line from known_hosts "
                f"(ssh-keygen -R '[{cfg.host}]:{cfg.port}' -f {known})."
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise TunnelError(f"authentication to {cfg.user}@{cfg.host} failed: {exc} (check --key / the agent)") from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise TunnelError(
                    f"{cfg.host}:{cfg.port} is not in {known}: verify its key and add it (ssh-keyscan -p {cfg.port} "
                    f"{cfg.host} >> {known}), or trust it on first use with --accept-new-host-key"
                ) from None
            text = str(exc)
            if "protocol banner" in text or "No existing session" in text or "Error reading SSH" in text:
                raise TunnelError(
                    f"{cfg.host}:{cfg.port} does not speak SSH ({text}): is that the SSH port? "
                    "(give user@host:PORT for another port)") from None
            if cfg.key_filename and "key" in text.lower():
                raise TunnelError(f"cannot use the key file {cfg.key_filename}: {text}") from None
            raise TunnelError(f"SSH to {cfg.host}:{cfg.port} failed: {text}") from None
        except (ValueError, IndexError) as exc:  # paramiko's key parsers raise these on a garbage file
            client.close()
            raise TunnelError(f"cannot use the key file {cfg.key_filename}: {exc}") from None
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(max(1, int(cfg.keepalive_s)))
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]
        if cfg.interactive_nodelay:
            self._interactive(transport)
        with self._lock:
            self._client, self._transport = client, transport
        self._connected.set()
        self._note(f"connected to {cfg.host}:{cfg.port}")

    def _interactive(self, transport: paramiko.Transport) -> None:
        """An idle pty session: OpenSSH then treats the connection as interactive and sets TCP_NODELAY."""
        try:
            chan = transport.open_session(timeout=self.config.connect_timeout_s)
            chan.get_pty()
            chan.exec_command("cat")
        except (paramiko.SSHException, OSError) as exc:
            self._note(f"no interactive session (sshd may delay small writes): {exc}")

    def _drop(self, why: str) -> None:
        with self._lock:
            client, self._client, self._transport = self._client, None, None
        self._connected.clear()
        self._note(f"disconnected: {why}")
        if client is not None:
            # Closing a transport whose peer hung can block: do it aside.
            threading.Thread(target=client.close, daemon=True).start()

    def _watch(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            transport = self._transport
            if transport is None or not transport.is_active():
                if transport is not None:
                    self._drop("transport closed")
                try:
                    self._connect()
                    self.reconnects += 1
                    backoff = 1.0
                    continue
                except TunnelError as exc:
                    self._note(f"reconnect refused: {exc}")
                except (OSError, paramiko.SSHException, EOFError) as exc:
                    self._note(f"reconnect failed: {type(exc).__name__}: {exc}")
                # Capped exponential backoff between attempts, cut short by stop().
                self._stop.wait(min(backoff, self.config.max_backoff_s))
                backoff = min(backoff * 2, self.config.max_backoff_s)
                continue
            if not self._watchdog(transport):
                self.hung_detected += 1
                self._drop(f"server did not answer the watchdog within {self.config.watchdog_timeout_s:.1f} s (hung)")
                continue
            self._stop.wait(self.config.watchdog_interval_s)

    def _watchdog(self, transport: paramiko.Transport) -> bool:
        """A global request the server must answer (even with "unsupported"); a hung server does not."""
        answered = threading.Event()

        def ask() -> None:
            # A dead transport raises: the outer loop reconnects.
            with contextlib.suppress(Exception):
                transport.global_request("keepalive@openssh.com", wait=True)
            answered.set()

        start = time.monotonic()
        threading.Thread(target=ask, daemon=True, name="tunnel-watchdog").start()
        ok = answered.wait(self.config.watchdog_timeout_s)
        if ok:
            self.last_watchdog_ms = (time.monotonic() - start) * 1000
        return ok and transport.is_active()

    # ---- forwarding
    def _accept(self, listener: socket.socket, fwd: Forward) -> None:
        while not self._stop.is_set():
            try:
                local, peer = listener.accept()
            except OSError:
                return
            local.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._forward, args=(local, peer, fwd), daemon=True).start()

    def _forward(self, local: socket.socket, peer: Any, fwd: Forward) -> None:
        # During a reconnect, hold the connection briefly instead of failing it.
        if not self._connected.wait(self.config.connect_timeout_s):
            local.close()
            return
        transport = self._transport
        try:
            assert transport is not None
            chan = transport.open_channel("direct-tcpip", (fwd.remote_host, fwd.target_port), peer,
                                          window_size=CHANNEL_WINDOW, max_packet_size=CHANNEL_MAX_PACKET,
                                          timeout=self.config.connect_timeout_s)
        except (*CHANNEL_GONE, AssertionError) as exc:
            self._note(f"forward {fwd.local_port} -> {fwd.remote_host}:{fwd.remote_port} failed: {exc}")
            local.close()
            return

        def back() -> None:
            try:
                while True:
                    data = chan.recv(256 * 1024)
                    if not data:
                        break
                    local.sendall(data)
            except CHANNEL_GONE:
                pass
            finally:
                with contextlib.suppress(OSError):
                    local.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=back, daemon=True)
        thread.start()
        try:
            while True:
                data = local.recv(256 * 1024)
                if not data:
                    break
                chan.sendall(data)
        except CHANNEL_GONE:
            pass
        finally:
            with contextlib.suppress(*CHANNEL_GONE):  # the transport may already be dead
                chan.shutdown_write()
        thread.join()
        chan.close()
        local.close()

    # ---- status
    @property
    def connected(self) -> bool:
        transport = self._transport
        return transport is not None and transport.is_active()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def status(self) -> dict[str, Any]:
        return {
            "host": self.config.host, "port": self.config.port, "connected": self.connected,
            "forwards": [f"{f.local_host}:{f.local_port} -> {f.remote_host}:{f.remote_port}" for f in self.config.forwards],
            "reconnects": self.reconnects, "hung_detected": self.hung_detected,
            "last_watchdog_ms": self.last_watchdog_ms,
            "events": [{"time": t, "what": w} for t, w in list(self.events)[-20:]],
        }

    def stop(self) -> None:
        self._stop.set()
        for sock, _ in self._listeners:
            with contextlib.suppress(OSError):
                sock.close()
        self._listeners = []
        self._drop("stopped")

    def __enter__(self) -> SSHTunnel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

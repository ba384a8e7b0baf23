"""``arena-bridge``: bridge a container's evaluate server to the host, keep SSH tunnels up, show status,
stop them, and check every hop (``doctor``)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import make_bridge
from .base import BridgeConfig
from .health import http_probe
from .netns import Target, TargetError
from .supervisor import Supervisor, systemd_unit
from .tunnel import SSHTunnel, TunnelConfig, TunnelError


def default_state_dir() -> Path:
    return Path("/run/arena-bridge") if os.geteuid() == 0 else Path.home() / ".cache" / "arena-bridge"


def _target(args: argparse.Namespace) -> Target:
    return Target(container=args.container, pid=args.pid, netns=args.netns)


def _add_target(p: argparse.ArgumentParser, required: bool = True) -> None:
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("--container", help="a Docker container name (its PID comes from docker inspect)")
    group.add_argument("--pid", type=int, help="a process whose network namespace to enter")
    group.add_argument("--netns", help="a named network namespace (ip netns)")
    p.add_argument("--port", type=int, default=5050, help="port inside the target (default 5050)")
    p.add_argument("--host-port", type=int, default=5051, help="port on the host (default 5051)")


class StateFile:
    """A small JSON file per running bridge or tunnel, so `status` and `stop` can find it."""

    def __init__(self, state_dir: Path, name: str) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / f"{name}.json"

    def write(self, status: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "updated": time.time(), **status}, indent=1))
        tmp.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _run_until_signalled(tick: Any, interval: float) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        tick()
        stop.wait(interval)


def cmd_bridge(args: argparse.Namespace) -> int:
    try:
        config = BridgeConfig(_target(args), port=args.port, host_port=args.host_port)
        # Resolve the target now: a missing namespace is said at once, not met by every client as a reset.
        config.target.ns_path()
    except (ValueError, TargetError) as exc:
        print(f"arena-bridge bridge: {exc}", file=sys.stderr)
        return 1
    bridge = make_bridge(config, args.impl)
    supervisor = Supervisor(bridge, interval=args.interval)
    state = StateFile(args.state_dir, f"bridge-{args.host_port}")
    try:
        bridge.start()
    except OSError as exc:
        import errno

        if exc.errno == errno.EADDRINUSE:
            print(f"arena-bridge bridge: port {config.host}:{config.host_port} is already in use: stop what holds "
                  "it (arena-bridge status) or give --host-port", file=sys.stderr)
        else:
            print(f"arena-bridge bridge: cannot start the bridge: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"arena-bridge bridge: cannot start the bridge: {exc}", file=sys.stderr)
        return 1
    print(f"bridging {config.target.describe()} port {config.port} -> {config.host}:{config.host_port} "
          f"({args.impl}{', supervised' if args.supervise else ''})", flush=True)

    def tick() -> None:
        if args.supervise:
            supervisor.ensure()
        state.write({"kind": "bridge", **supervisor.status()})

    try:
        _run_until_signalled(tick, args.interval)
    finally:
        bridge.stop()
        state.remove()
    return 0


def cmd_tunnel(args: argparse.Namespace) -> int:
    try:
        config = TunnelConfig.from_destination(
            args.destination, forwards=args.forward or [5000, 5051], key_filename=args.key,
            known_hosts=args.known_hosts, accept_new_host_key=args.accept_new_host_key,
            watchdog_interval_s=args.watchdog, watchdog_timeout_s=args.watchdog_timeout,
            connect_timeout_s=args.connect_timeout)
    except TunnelError as exc:
        print(f"arena-bridge tunnel: {exc}", file=sys.stderr)
        return 2
    if args.key and not os.path.isfile(args.key):
        print(f"arena-bridge tunnel: no key file at {args.key}", file=sys.stderr)
        return 2
    try:
        tunnel = SSHTunnel(config).start()
    except TunnelError as exc:
        print(f"arena-bridge tunnel: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"arena-bridge tunnel: {_os_error(exc, config)}", file=sys.stderr)
        return 1
    print("tunnel up: " + ", ".join(tunnel.status()["forwards"]), flush=True)
    state = StateFile(args.state_dir, f"tunnel-{config.host}")
    try:
        _run_until_signalled(lambda: state.write({"kind": "tunnel", **tunnel.status()}), 1.0)
    finally:
        tunnel.stop()
        state.remove()
    return 0


def _os_error(exc: OSError, config: TunnelConfig) -> str:
    import errno

    if exc.errno == errno.EADDRINUSE:
        ports = ", ".join(str(f.local_port) for f in config.forwards)
        return f"a local port is already in use (one of {ports}): stop what holds it, or forward another with -L"
    if exc.errno == errno.ECONNREFUSED:
        return f"nothing listens at {config.host}:{config.port} (is sshd running there?)"
    return f"{exc.strerror or exc} ({config.host}:{config.port})"


def _read_state(path: Path) -> dict[str, Any] | None:
    """A state file's content, or None (said on stderr) when it is not readable JSON."""
    try:
        info = json.loads(path.read_text())
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
        return info
    except (OSError, ValueError) as exc:
        print(f"arena-bridge: ignoring the unreadable state file {path} ({exc}); remove it", file=sys.stderr)
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmd_status(args: argparse.Namespace) -> int:
    files = sorted(args.state_dir.glob("*.json")) if args.state_dir.is_dir() else []
    if not files:
        print(f"nothing running (no state in {args.state_dir})")
        return 0
    for path in files:
        info = _read_state(path)
        if info is None:
            continue
        alive = _alive(int(info.get("pid", 0) or 0))
        print(f"{path.stem}: {'running' if alive else 'DEAD'} (pid {info.get('pid')})")
        for key in ("target", "host_port", "health", "connected", "forwards", "reconnects", "hung_detected"):
            if key in info:
                print(f"  {key}: {info[key]}")
        for event in info.get("events", [])[-5:]:
            when = time.strftime("%H:%M:%S", time.localtime(event["time"]))
            print(f"  {when} {event['what']}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    files = sorted(args.state_dir.glob(f"{args.name or '*'}.json")) if args.state_dir.is_dir() else []
    if not files:
        print(f"nothing to stop{f' named {args.name}' if args.name else ''} in {args.state_dir}")
        return 1 if args.name else 0
    for path in files:
        info = _read_state(path)
        if info is None:
            continue
        pid = int(info.get("pid", 0) or 0)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            print(f"stopped {path.stem} (pid {pid})")
        path.unlink(missing_ok=True)
    return 0


def _tunnel_hops(state_dir: Path) -> list[tuple[str, bool, str, str]]:
    """One line per tunnel that `arena-bridge tunnel` runs: is its process there, is it connected."""
    hops = []
    for path in sorted(state_dir.glob("tunnel-*.json")) if state_dir.is_dir() else []:
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        hop = f"tunnel to {info.get('host')}:{info.get('port')} ({', '.join(info.get('forwards', []))})"
        if not _alive(int(info.get("pid", 0))):
            hops.append((hop, False, f"its process {info.get('pid')} is gone",
                         f"start it again: arena-bridge tunnel USER@{info.get('host')} -L ..."))
        elif not info.get("connected"):
            last = (info.get("events") or [{}])[-1].get("what", "no events")
            hops.append((hop, False, f"not connected, reconnecting with backoff (last: {last})",
                         "check that the VM host is up and its sshd answers (ssh -p PORT USER@HOST)"))
        else:
            hops.append((hop, True, f"connected, watchdog {info.get('last_watchdog_ms')} ms, "
                                    f"{info.get('reconnects', 0)} reconnects", ""))
    return hops


def cmd_doctor(args: argparse.Namespace) -> int:
    failures = 0

    def line(ok: bool, hop: str, detail: str, fix: str = "") -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'OK  ' if ok else 'FAIL'} {hop}: {detail}" + (f"\n     -> {fix}" if fix and not ok else ""))

    for hop, ok, detail, fix in _tunnel_hops(args.state_dir):
        line(ok, hop, detail, fix)
    for name, url, fix in (
        ("VM server", args.server_url, "start the VM (or its tunnel: arena-bridge tunnel user@host -L 5000 -L 5051)"),
        ("evaluate server", args.evaluate_url,
         "on the VM host: arena-bridge bridge --container <name> --supervise; on this box: the tunnel's -L 5051"),
    ):
        if url:
            host, _, port = url.split("//", 1)[-1].rstrip("/").rpartition(":")
            probe = http_probe(host, int(port), "/probe", args.timeout)
            line(probe.ok, f"{name} {url}", str(probe), fix)
    if args.container or args.pid or args.netns:
        bridge = make_bridge(BridgeConfig(_target(args), port=args.port, host_port=args.host_port), "relay")
        for hop, seen, hint in Supervisor(bridge).diagnose():
            line(seen is not None and seen.ok, hop, str(seen), hint)
    if failures:
        print(f"\n{failures} hop(s) failing.")
    else:
        print("\nevery hop answers.")
    return 1 if failures else 0


def cmd_install_unit(args: argparse.Namespace) -> int:
    argv = [sys.executable, "-m", "bridges.cli", "bridge", *args.bridge_args]
    unit = systemd_unit(argv)
    out = Path(args.output or f"/etc/systemd/system/arena-bridge-{args.name}.service")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(unit)
    print(f"wrote {out}; enable it with: systemctl daemon-reload && systemctl enable --now {out.stem}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arena-bridge", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("bridge", help="expose a port inside a container's network namespace on a host port")
    _add_target(p)
    p.add_argument("--impl", choices=["relay", "socat"], default="relay",
                   help="relay (default): in-process, follows container restarts, no socket file; socat: the socat pair")
    p.add_argument("--supervise", action="store_true", help="re-bridge by itself after restarts and failures")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between health checks")
    p.set_defaults(func=cmd_bridge)

    p = sub.add_parser("tunnel", help="SSH local forwards, kept up (reconnect, watchdog)")
    p.add_argument("destination", help="user@host[:port]")
    p.add_argument("-L", dest="forward", action="append",
                   help="PORT or LOCAL:HOST:REMOTE (repeatable; default 5000 and 5051)")
    p.add_argument("--key", help="private key file (default: the SSH agent and ~/.ssh keys)")
    p.add_argument("--known-hosts", help="known_hosts file (default ~/.ssh/known_hosts)")
    p.add_argument("--accept-new-host-key", action="store_true", help="trust and save an unknown host key")
    p.add_argument("--watchdog", type=float, default=5.0, help="seconds between watchdog requests")
    p.add_argument("--watchdog-timeout", type=float, default=5.0, help="seconds before the server counts as hung")
    p.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to connect and read the SSH banner")
    p.set_defaults(func=cmd_tunnel)

    p = sub.add_parser("status", help="what is running, its health and what it did")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("stop", help="stop a running bridge or tunnel (all, or by name: bridge-5051, tunnel-HOST)")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("doctor", help="check each hop and say which one fails and what to do")
    p.add_argument("--server-url", default="http://127.0.0.1:5000")
    p.add_argument("--evaluate-url", default="http://127.0.0.1:5051")
    p.add_argument("--timeout", type=float, default=3.0)
    _add_target(p, required=False)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("install-unit", help="write a systemd unit that runs a supervised bridge")
    p.add_argument("--name", default="waa")
    p.add_argument("--output", help="unit file path (default /etc/systemd/system/arena-bridge-NAME.service)")
    p.add_argument("bridge_args", nargs=argparse.REMAINDER, help="arguments for `arena-bridge bridge` after --")
    p.set_defaults(func=cmd_install_unit)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.verbose:
        # paramiko logs every failed handshake with a traceback from its own thread; the one line we
        # print says what went wrong (-v shows paramiko's account too).
        logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "bridge_args", None) and args.bridge_args[0] == "--":
        args.bridge_args = args.bridge_args[1:]
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

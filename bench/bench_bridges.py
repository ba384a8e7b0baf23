"""Latency and throughput of each hop between a trainer and the evaluate server, measured in one run:
direct, bridge (relay and socat pair), SSH tunnel, tunnel + bridge; beside the documented socat commands
and an OpenSSH ``ssh -N -L`` tunnel as peers.

    sudo .venv/bin/python bench/bench_bridges.py [--n 200] [--big-n 20]

Needs root: it makes a network namespace of its own (the "container", deleted at the end) with an HTTP
server inside, and starts a throwaway sshd on 127.0.0.1. Small = a keep-alive ``GET /probe`` on one
connection; big = a 2 MiB response on one keep-alive connection.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Figure, measure, table  # noqa: E402
from bridges import BridgeConfig, SSHTunnel, Target, TunnelConfig, make_bridge  # noqa: E402
from bridges.socat import _listening  # noqa: E402
from tests.support import http_target  # noqa: E402
from tests.support.container import FakeContainer  # noqa: E402
from tests.support.polling import wait_for  # noqa: E402
from tests.support.sockets import free_port  # noqa: E402
from tests.support.sshd import SSHServer  # noqa: E402

BIG = 2 * 1024 * 1024


def timed_requests(port: int, n: int, big_n: int) -> tuple[Figure, Figure]:
    """Small and 2 MiB keep-alive requests on one connection each, checked for the right bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def small() -> None:
        conn.request("GET", "/probe")
        body = conn.getresponse().read()
        if b"ok" not in body:
            raise RuntimeError(f"unexpected probe answer on port {port}: {body[:80]!r}")

    def big() -> None:
        conn.request("GET", f"/bytes?n={BIG}")
        body = conn.getresponse().read()
        if len(body) != BIG:
            raise RuntimeError(f"short 2 MiB read on port {port}: {len(body)} bytes")

    try:
        return measure("small", small, n), measure("2 MiB", big, big_n)
    finally:
        conn.close()


@contextlib.contextmanager
def documented_socat(container: FakeContainer, host_port: int) -> Iterator[None]:
    """The hand-made pair as documented: no nodelay on either TCP leg."""
    sock = os.path.join(tempfile.mkdtemp(prefix="bench-bridge-"), "waa-bridge.sock")
    stage1 = subprocess.Popen(["nsenter", f"--net=/run/netns/{container.name}", "socat",
                               f"UNIX-LISTEN:{sock},fork", f"TCP:localhost:{container.port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(sock), what="documented stage 1 socket")
    stage2 = subprocess.Popen(["socat", f"TCP-LISTEN:{host_port},fork,reuseaddr,bind=127.0.0.1",
                               f"UNIX-CONNECT:{sock}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _listening("127.0.0.1", host_port), what="documented stage 2 port")
    try:
        yield
    finally:
        for proc in (stage2, stage1):
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(os.path.dirname(sock), ignore_errors=True)


@contextlib.contextmanager
def paramiko_tunnel(sshd: SSHServer, remote_port: int) -> Iterator[int]:
    tunnel = SSHTunnel(TunnelConfig(host="127.0.0.1", port=sshd.port, user="root",
                                    forwards=[f"0:127.0.0.1:{remote_port}"], key_filename=str(sshd.client_key),
                                    known_hosts=str(sshd.known_hosts))).start()
    try:
        yield tunnel.config.forwards[0].local_port
    finally:
        tunnel.stop()


@contextlib.contextmanager
def openssh_tunnel(sshd: SSHServer, remote_port: int) -> Iterator[int]:
    """``ssh -N -L`` as people run it (no tty: OpenSSH leaves Nagle on for a non-interactive session)."""
    local = free_port()
    proc = subprocess.Popen(["ssh", "-N", "-p", str(sshd.port), "-i", str(sshd.client_key),
                             "-o", f"UserKnownHostsFile={sshd.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                             "-o", "BatchMode=yes", "-L", f"127.0.0.1:{local}:127.0.0.1:{remote_port}",
                             "root@127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening("127.0.0.1", local) or proc.poll() is not None, what="ssh -L port")
        if proc.poll() is not None:
            raise RuntimeError(f"ssh -L exited ({proc.returncode})")
        yield local
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="small requests per hop")
    parser.add_argument("--big-n", type=int, default=20, help="2 MiB responses per hop")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_bridges needs root (network namespaces, setns, a throwaway sshd): run it with sudo")
    for tool in ("socat", "nsenter", "ip", "sshd", "ssh"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing: apt-get install socat util-linux iproute2 openssh-server openssh-client")

    results: list[tuple[str, Figure, Figure]] = []

    def run(name: str, port: int) -> None:
        small, big = timed_requests(port, args.n, args.big_n)
        small.name, big.name = name, name
        results.append((name, small, big))
        print(f"  measured {name}", file=sys.stderr)

    direct = http_target.serve("127.0.0.1", 0)
    direct_port = direct.server_address[1]
    workdir = Path(tempfile.mkdtemp(prefix="bench-bridges-"))
    sshd = SSHServer(workdir / "sshd").start()
    try:
        with FakeContainer(port=free_port()) as container:
            run("direct (same server on host loopback)", direct_port)
            with documented_socat(container, host_port := free_port()):
                run("documented socat pair (no nodelay)", host_port)
            bridges = {}
            for impl in ("socat", "relay"):
                bridge = make_bridge(BridgeConfig(Target(netns=container.name), port=container.port,
                                                  host_port=free_port()), impl)
                bridge.start()
                bridges[impl] = bridge
                run(f"bridge: {impl}", bridge.config.host_port)
            with openssh_tunnel(sshd, direct_port) as port:
                run("ssh -N -L (OpenSSH, as documented)", port)
            with paramiko_tunnel(sshd, direct_port) as port:
                run("tunnel: paramiko (ours)", port)
            with paramiko_tunnel(sshd, bridges["relay"].config.host_port) as port:
                run("tunnel + bridge: relay (the full path)", port)
            for bridge in bridges.values():
                bridge.stop()
    finally:
        sshd.stop()
        direct.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)

    base_small, base_big = results[0][1].median, results[0][2].median
    print(table([(small, base_small) for _, small, _ in results],
                "keep-alive GET /probe, one connection (x floor = ratio to direct)"))
    print()
    print(table([(big, base_big) for _, _, big in results], "2 MiB response, one keep-alive connection"))
    print()
    print("throughput of the 2 MiB response:")
    for name, _, big in results:
        print(f"  {name:42} {BIG / (big.median / 1000) / 2**20:8.1f} MiB/s")
    by_name = {name: (small, big) for name, small, big in results}

    def speedup(peer: str, ours: str) -> str:
        (ps, pb), (os_, ob) = by_name[peer], by_name[ours]
        return f"{ps.median / os_.median:.1f}x (small), {pb.median / ob.median:.1f}x (2 MiB)"

    print("\nspeed-ups over the peers measured above:")
    print("  bridge: relay over the documented socat pair:  " + speedup("documented socat pair (no nodelay)", "bridge: relay"))
    print("  tunnel: paramiko over ssh -N -L:               " + speedup("ssh -N -L (OpenSSH, as documented)", "tunnel: paramiko (ours)"))


if __name__ == "__main__":
    main()

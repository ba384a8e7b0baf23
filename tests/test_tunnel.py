"""SSH tunnels through a real sshd on loopback: forwards, a crashed and a hung server, host keys."""

from __future__ import annotations

import http.client
import os
import signal

import pytest

from bridges import SSHTunnel, TunnelConfig, TunnelError, http_probe

from .support import http_target
from .support.polling import wait_for
from .support.sockets import connections
from .support.sshd import SSHServer, keygen
from .support.system import ensure_programs

pytestmark = pytest.mark.root


@pytest.fixture(scope="module", autouse=True)
def programs():
    ensure_programs({"sshd": "openssh-server", "ssh-keygen": "openssh-client", "pgrep": "procps"})


@pytest.fixture
def target():
    server = http_target.serve("127.0.0.1", 0)
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def sshd(tmp_path):
    server = SSHServer(tmp_path / "sshd").start()
    yield server
    server.stop()


def tunnel_config(sshd: SSHServer, target: int, **kw) -> TunnelConfig:
    return TunnelConfig(host="127.0.0.1", port=sshd.port, user="root", forwards=[f"0:127.0.0.1:{target}"],
                        key_filename=str(sshd.client_key), known_hosts=str(sshd.known_hosts),
                        watchdog_interval_s=0.5, watchdog_timeout_s=2.0, max_backoff_s=1.0, **kw)


def local_port(tunnel: SSHTunnel) -> int:
    return tunnel.config.forwards[0].local_port


def request(port: int, path: str = "/probe", timeout: float = 5) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def test_forwards_work(sshd, target):
    with SSHTunnel(tunnel_config(sshd, target)) as tunnel:
        port = local_port(tunnel)
        assert b'"http_target"' in request(port)
        assert request(port, "/bytes?n=2097152") == http_target.expected_bytes(2 * 1024 * 1024)
        assert tunnel.status()["connected"]


def test_bulk_goes_in_large_gcm_packets_and_servers_without_gcm_still_connect(sshd, target, tmp_path):
    from bridges.tunnel import CHANNEL_MAX_PACKET

    with SSHTunnel(tunnel_config(sshd, target)) as tunnel:
        transport = tunnel._transport
        assert transport.remote_cipher == "aes128-gcm@openssh.com"
        port = local_port(tunnel)
        seen: list[int] = []
        read = transport.packetizer.read_message

        def counting() -> tuple[int, object]:
            ptype, message = read()
            seen.append(len(message.asbytes()))
            return ptype, message

        transport.packetizer.read_message = counting
        assert request(port, "/bytes?n=4194304") == http_target.expected_bytes(4 * 1024 * 1024)
        assert max(seen) > 32 * 1024 and max(seen) <= CHANNEL_MAX_PACKET + 64  # more than paramiko's default
    # An sshd that offers no GCM: the tunnel takes what it has.
    ctr_only = SSHServer(tmp_path / "sshd-ctr")
    ctr_only.config.write_text(ctr_only.config.read_text() + "Ciphers aes128-ctr,aes256-ctr\n")
    ctr_only.start()
    try:
        with SSHTunnel(tunnel_config(ctr_only, target)) as tunnel:
            assert tunnel._transport.remote_cipher == "aes128-ctr"
            assert request(local_port(tunnel), "/bytes?n=1048576") == http_target.expected_bytes(1024 * 1024)
    finally:
        ctr_only.stop()


def test_killed_sshd_heals_and_the_local_port_is_kept(sshd, target):
    with SSHTunnel(tunnel_config(sshd, target)) as tunnel:
        port = local_port(tunnel)
        assert request(port)
        sshd.kill()
        wait_for(lambda: not tunnel.connected, timeout=15, what="tunnel noticed the dead server")
        sshd.start()
        wait_for(lambda: request(port, timeout=3), timeout=30, what="traffic flows again on the same port")
        assert tunnel.reconnects >= 1 and local_port(tunnel) == port


def test_hung_sshd_is_noticed(sshd, target):
    with SSHTunnel(tunnel_config(sshd, target)) as tunnel:
        port = local_port(tunnel)
        assert request(port)
        session = wait_for(lambda: sshd.children(), what="sshd session process")
        for pid in session:
            os.kill(pid, signal.SIGSTOP)  # the server side of our connection freezes
        try:
            wait_for(lambda: tunnel.hung_detected >= 1, timeout=15, what="watchdog noticed the hung server")
            # The listener still works: the tunnel reconnects on a new session and traffic flows.
            wait_for(lambda: request(port, timeout=3), timeout=30, what="traffic after reconnect")
            assert any("hung" in e["what"] for e in tunnel.status()["events"])
        finally:
            for pid in session:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass


def test_wrong_host_key_is_refused_clearly(sshd, target, tmp_path):
    other = tmp_path / "other_key"
    pub = keygen(other)
    sshd.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {' '.join(pub.split()[:2])}\n")
    with pytest.raises(TunnelError, match="does not match .*refusing to connect"):
        SSHTunnel(tunnel_config(sshd, target)).start()


def test_unknown_host_needs_an_explicit_opt_in(sshd, target):
    sshd.known_hosts.write_text("")
    with pytest.raises(TunnelError, match="not in .*accept-new-host-key"):
        SSHTunnel(tunnel_config(sshd, target)).start()
    with SSHTunnel(tunnel_config(sshd, target, accept_new_host_key=True)) as tunnel:
        assert request(local_port(tunnel))
    assert "127.0.0.1" in sshd.known_hosts.read_text()


def test_the_tunnel_sets_nodelay_on_the_forward_and_the_ssh_connection(sshd, target):
    """Without TCP_NODELAY on both of its ends each small request stalls 40+ ms (bench/bench_bridges.py
    measures it): the tunnel's end of the forwarded connection and its SSH connection both have it."""
    with SSHTunnel(tunnel_config(sshd, target)) as tunnel:
        port = local_port(tunnel)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/probe")
        conn.getresponse().read()
        mine = conn.sock.getsockname()[1]
        ours = os.getpid()
        (forward,) = [c for c in connections(port) if c.pid == ours and c.remote_port == mine]
        (ssh,) = [c for c in connections(sshd.port) if c.pid == ours and c.remote_port == sshd.port]
        assert forward.nodelay() and ssh.nodelay()
        conn.close()


def test_bad_forward_spec_is_a_clear_error():
    with pytest.raises(TunnelError, match="bad forward"):
        TunnelConfig(host="h", forwards=["a:b"])
    assert http_probe("127.0.0.1", 9, timeout=0.5).ok is False

"""Bridges into real network namespaces made (and always deleted) by the tests, as root."""

from __future__ import annotations

import http.client
import os
import signal
import socket

import pytest

from bridges import BridgeConfig, SocatBridge, Supervisor, Target, http_probe, make_bridge
from bridges.netns import TargetError

from .support.container import FakeContainer
from .support.http_target import expected_bytes
from .support.polling import wait_for
from .support.sockets import connections, free_port
from .support.system import ensure_programs

pytestmark = pytest.mark.root
IMPLS = ["relay", "socat"]
HEAL_BOUND_S = 10.0  # stated bound: a restarted container is bridged again within this


@pytest.fixture(scope="module", autouse=True)
def programs():
    ensure_programs({"socat": "socat", "nsenter": "util-linux", "ip": "iproute2"})


@pytest.fixture
def container():
    with FakeContainer(port=free_port()) as c:
        yield c


def config_for(c: FakeContainer, **kw) -> BridgeConfig:
    return BridgeConfig(Target(netns=c.name), port=c.port, host_port=free_port(), **kw)


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> bytes:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    return conn.getresponse().read()


def test_server_in_namespace_is_unreachable_from_the_host(container):
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", container.port), timeout=2).close()


@pytest.mark.parametrize("impl", IMPLS)
def test_bridge_makes_it_reachable(container, impl):
    with make_bridge(config_for(container), impl) as bridge:
        assert bridge.health().ok
        data = get(bridge.config.host_port, "/bytes?n=2097152")
        assert data == expected_bytes(2 * 1024 * 1024)


@pytest.mark.parametrize("impl", IMPLS)
def test_supervisor_heals_a_container_restart(container, impl):
    bridge = make_bridge(config_for(container), impl)
    supervisor = Supervisor(bridge, interval=0.3, health_timeout=1.0)
    supervisor.start_background()
    try:
        wait_for(lambda: bridge.health().ok, what="bridge up")
        old = (container.pid, Target(netns=container.name).identity())
        container.restart()  # new PID, new namespace (same name)
        assert (container.pid, Target(netns=container.name).identity()) != old
        wait_for(lambda: bridge.health().ok, timeout=HEAL_BOUND_S, interval=0.05, what="healed after restart")
        assert get(bridge.config.host_port, "/probe").startswith(b"{")
    finally:
        supervisor.stop()


def test_stale_socat_stage_after_restart_is_a_broken_bridge_not_a_healthy_port(container):
    """After a restart the old stage 1 keeps the port accepting; only an HTTP request tells."""
    bridge = SocatBridge(config_for(container))
    with bridge:
        container.restart()
        with socket.create_connection(("127.0.0.1", bridge.config.host_port), timeout=2):
            pass  # a TCP connect still succeeds...
        assert not bridge.health(timeout=2).ok  # ...but nothing answers
        supervisor = Supervisor(bridge)
        supervisor.identity = None
        assert supervisor.ensure() == "repaired" and bridge.health().ok


def test_stage1_kill_9_leaves_a_stale_socket_that_is_handled(container):
    bridge = SocatBridge(config_for(container))
    supervisor = Supervisor(bridge)
    with bridge:
        assert supervisor.ensure() == "healthy"
        assert bridge.stage1 is not None
        os.kill(bridge.stage1.pid, signal.SIGKILL)
        bridge.stage1.wait(5)
        assert os.path.exists(bridge.socket_path)  # stale: nobody listens on it
        assert supervisor.ensure() == "repaired"
        assert bridge.health().ok and bridge.alive()
        assert any("not running" in e.what for e in supervisor.events)


@pytest.mark.parametrize("impl", IMPLS)
def test_container_down_is_reported_as_such(container, impl):
    bridge = make_bridge(config_for(container), impl)
    supervisor = Supervisor(bridge, health_timeout=1.0)
    with bridge:
        container.stop_server()
        assert supervisor.ensure() == "service down"
        hops = {hop.split(" (")[0].split(",")[0]: probe for hop, probe, _ in supervisor.diagnose()}
        assert hops["target"].ok and not hops["service in target"].ok and not hops["bridge 127.0.0.1:"
                                                                                   f"{bridge.config.host_port}"].ok
        container.delete()
        assert supervisor.ensure() == "target missing"
        with pytest.raises(TargetError, match="no network namespace"):
            container_target = Target(netns=container.name)
            container_target.identity()


@pytest.mark.parametrize("impl", IMPLS)
def test_double_start_is_harmless(container, impl):
    bridge = make_bridge(config_for(container), impl)
    with bridge:
        bridge.start()
        bridge.start()
        supervisor = Supervisor(bridge)
        assert [supervisor.ensure() for _ in range(3)] == ["healthy"] * 3
        assert bridge.health().ok
        with pytest.raises(OSError):
            make_bridge(BridgeConfig(bridge.config.target, port=container.port,
                                     host_port=bridge.config.host_port), "relay").start()


def test_pid_target_enters_the_process_namespace(container):
    with make_bridge(BridgeConfig(Target(pid=container.pid), port=container.port, host_port=free_port())) as bridge:
        assert bridge.health().ok


@pytest.mark.parametrize("impl", IMPLS)
def test_the_relay_sets_nodelay_on_both_of_its_connections(container, impl):
    """Without TCP_NODELAY each small keep-alive request stalls ~40 ms (bench/bench_bridges.py measures it):
    both the relay's end of the client's connection and its connection into the container have it."""
    with make_bridge(config_for(container), impl) as bridge:
        port = bridge.config.host_port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        get(port, "/probe", conn)
        mine = conn.sock.getsockname()[1]
        (client_side,) = [c for c in connections(port) if c.local_port == port and c.remote_port == mine]
        # The relay's connection into the container comes from its helper inside the container's netns.
        upstream = [c for c in connections(container.port) if c.remote_port == container.port]
        assert client_side.nodelay() and upstream and all(c.nodelay() for c in upstream)
        conn.close()


def test_health_is_an_http_request(container):
    port = free_port()
    probe = http_probe("127.0.0.1", port, timeout=1)
    assert not probe.ok and "Connection refused" in probe.detail

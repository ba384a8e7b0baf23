"""A user's mistake with ``arena-bridge`` gets one line saying what is wrong and what to do, never a
traceback; usage errors exit 2. Real peers on loopback: a port that never speaks, an HTTP server, sshd."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gymnasium as gym
import pytest

from .support.sockets import free_port
from .support.sshd import SSHServer

CLI = [sys.executable, "-m", "bridges.cli"]


def arena_bridge(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def silent_port():
    """Accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def http_port():
    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_port_that_never_speaks_ssh(silent_port, tmp_path):
    proc = arena_bridge("tunnel", f"root@127.0.0.1:{silent_port}", "-L", f"{free_port()}:localhost:1",
                        "--known-hosts", str(tmp_path / "kh"), "--connect-timeout", "2")
    assert proc.returncode == 1 and "does not speak SSH" in one_line(proc)


def test_an_http_port_is_not_ssh(http_port, tmp_path):
    proc = arena_bridge("tunnel", f"root@127.0.0.1:{http_port}", "-L", f"{free_port()}:localhost:1",
                        "--known-hosts", str(tmp_path / "kh"), "--connect-timeout", "5")
    assert proc.returncode == 1 and "does not speak SSH" in one_line(proc)


def test_a_garbage_key_file(tmp_path):
    sshd = SSHServer(tmp_path / "sshd").start()
    try:
        garbage = tmp_path / "key"
        garbage.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key at all\n-----END OPENSSH PRIVATE KEY-----\n")
        proc = arena_bridge("tunnel", f"root@127.0.0.1:{sshd.port}", "-L", f"{free_port()}:localhost:1",
                            "--key", str(garbage), "--known-hosts", str(sshd.known_hosts))
        assert proc.returncode == 1 and str(garbage) in one_line(proc)
        missing = arena_bridge("tunnel", f"root@127.0.0.1:{sshd.port}", "--key", str(tmp_path / "nope"))
        assert missing.returncode == 2 and "no key file" in one_line(missing)
    finally:
        sshd.stop()


@pytest.mark.parametrize(("args", "says"), [
    (["tunnel", "root@127.0.0.1", "-L", "99999"], "not a port number"),
    (["tunnel", "root@127.0.0.1:ssh"], "must be a number"),
    (["tunnel", "root@127.0.0.1", "-L", "a:b"], "bad forward"),
    (["tunnel", "@"], "bad destination"),
])
def test_bad_tunnel_arguments_are_usage_errors(args, says):
    proc = arena_bridge(*args)
    assert proc.returncode == 2 and says in one_line(proc)


def test_a_taken_local_port_is_named(tmp_path):
    sshd = SSHServer(tmp_path / "sshd").start()
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        proc = arena_bridge("tunnel", f"root@127.0.0.1:{sshd.port}", "-L", f"{port}:localhost:1",
                            "--key", str(sshd.client_key), "--known-hosts", str(sshd.known_hosts))
        line = one_line(proc)
        assert proc.returncode == 1 and "already in use" in line and str(port) in line
    finally:
        taken.close()
        sshd.stop()


def test_status_and_stop_with_a_corrupt_state_file(tmp_path):
    (tmp_path / "bridge-5051.json").write_text("{not json")
    for command in ("status", "stop"):
        proc = arena_bridge("--state-dir", str(tmp_path), command)
        assert proc.returncode == 0 and "unreadable state file" in one_line(proc)


def test_a_bridge_to_a_missing_namespace_fails_at_once():
    proc = arena_bridge("bridge", "--netns", "no-such-ns-here", "--host-port", str(free_port()), timeout=30)
    assert proc.returncode == 1 and "no-such-ns-here" in one_line(proc) and "is it running" in proc.stderr
    proc = arena_bridge("bridge", "--pid", "999999", "--host-port", str(free_port()), timeout=30)
    assert proc.returncode == 1 and "999999" in one_line(proc)
    proc = arena_bridge("bridge", timeout=30)  # no target at all: argparse's usage error
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_a_tunnel_typo_in_gym_make_or_a_pool_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown field 'prot'.*did you mean 'port'"):
        gym.make("WAA-v0", tunnel={"host": "vm", "prot": 22})
    pool = tmp_path / "pool.yaml"
    pool.write_text(json.dumps({"vms": [{"name": "a", "server_url": "http://127.0.0.1:5000",
                                         "tunnel": {"host": "vm", "forward": [5000]}}]}))
    with pytest.raises(ValueError, match="unknown field 'forward'.*did you mean 'forwards'"):
        gym.make_vec("WAA-v0", num_envs=1, vectorization_mode="vector_entry_point", pool=str(pool))

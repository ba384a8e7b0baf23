"""``arena-bridge`` as an operator runs it, the bridges package's import boundary, and the env reaching a
desktop through an SSH tunnel it opens itself (``gym.make(..., tunnel=...)``)."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest

from bridges import http_probe
from bridges.cli import main as bridge_cli

from .support.container import FakeContainer
from .support.polling import wait_for
from .support.sockets import free_port
from .support.sshd import SSHServer

root_only = pytest.mark.root


def test_bridges_imports_nothing_of_arena_gym():
    code = ("import sys, bridges, bridges.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('arena_gym', 'training', 'gymnasium', 'numpy', 'torch')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@root_only
def test_bridge_command_status_doctor_stop(tmp_path, capsys):
    state = tmp_path / "state"
    with FakeContainer(port=free_port()) as container:
        host_port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridges.cli", "--state-dir", str(state), "bridge", "--netns", container.name,
             "--port", str(container.port), "--host-port", str(host_port), "--supervise", "--interval", "0.3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert "bridging netns" in proc.stdout.readline()
            wait_for(lambda: http_probe("127.0.0.1", host_port).ok, what="bridge up")
            wait_for(lambda: (state / f"bridge-{host_port}.json").is_file(), what="state file")
            assert bridge_cli(["--state-dir", str(state), "status"]) == 0
            status = capsys.readouterr().out
            assert "running" in status and f"netns {container.name}" in status  # names what it bridges
            container.restart()
            wait_for(lambda: http_probe("127.0.0.1", host_port).ok, timeout=10, what="healed by the command")
            rc = bridge_cli(["doctor", "--server-url", "", "--evaluate-url", f"http://127.0.0.1:{host_port}",
                             "--netns", container.name, "--port", str(container.port), "--host-port", str(host_port)])
            out = capsys.readouterr().out
            assert rc == 0 and "every hop answers" in out and "OK   service in target" in out
            container.stop_server()
            rc = bridge_cli(["doctor", "--server-url", "", "--evaluate-url", f"http://127.0.0.1:{host_port}",
                             "--netns", container.name, "--port", str(container.port), "--host-port", str(host_port)])
            out = capsys.readouterr().out
            assert rc == 1 and "FAIL service in target" in out and "start it" in out
            assert bridge_cli(["--state-dir", str(state), "stop"]) == 0
            assert proc.wait(15) == 0
            assert not (state / f"bridge-{host_port}.json").exists()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_install_unit_writes_a_systemd_unit(tmp_path, capsys):
    out = tmp_path / "arena-bridge-waa.service"
    assert bridge_cli(["install-unit", "--output", str(out), "--", "--container", "winarena", "--supervise"]) == 0
    unit = out.read_text()
    assert "ExecStart=" in unit and "bridge --container winarena --supervise" in unit and "Restart=always" in unit


def test_doctor_names_the_failing_hop(capsys):
    rc = bridge_cli(["doctor", "--server-url", f"http://127.0.0.1:{free_port()}", "--evaluate-url", ""])
    out = capsys.readouterr().out
    assert rc == 1 and "FAIL VM server" in out and "arena-bridge tunnel" in out


@root_only
def test_env_opens_its_own_tunnel(tmp_path, desktop_programs):
    from arena_gym.arena import LocalArena

    sshd = SSHServer(tmp_path / "sshd").start()
    try:
        with LocalArena(apps=[]) as arena:
            arena_port = int(arena.url.rsplit(":", 1)[1])
            local = free_port()
            tunnel = {"host": "127.0.0.1", "port": sshd.port, "user": "root", "key_filename": str(sshd.client_key),
                      "known_hosts": str(sshd.known_hosts), "forwards": [f"{local}:127.0.0.1:{arena_port}"]}
            env = gym.make("WAA-v0", server_url=f"http://127.0.0.1:{local}", evaluate_url=None, tunnel=tunnel,
                           platform="linux", tasks={"folder": str(_suite())}, settle={"timeout_s": 0},
                           observation={"width": 320, "height": 200})
            try:
                obs, info = env.reset(options={"task_id": "click-blue"})
                assert "infra_error" not in info and obs["screenshot"].shape == (200, 320, 3)
                _, _, _, truncated, info = env.step({"action_type": "WAIT"})
                assert not truncated and info["reward_valid"]
                assert env.unwrapped.coordinator.tunnel.connected
            finally:
                env.close()
    finally:
        sshd.stop()


def _suite():
    from arena_gym.suites import LOCAL

    return LOCAL


@root_only
def test_doctor_names_a_broken_tunnel(tmp_path, capsys):
    state = tmp_path / "state"
    sshd = SSHServer(tmp_path / "sshd").start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridges.cli", "--state-dir", str(state), "tunnel", f"root@127.0.0.1:{sshd.port}",
         "-L", f"{free_port()}:127.0.0.1:{free_port()}", "--key", str(sshd.client_key),
         "--known-hosts", str(sshd.known_hosts), "--watchdog", "0.3", "--watchdog-timeout", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "tunnel up" in proc.stdout.readline()
        wait_for(lambda: json.loads((state / "tunnel-127.0.0.1.json").read_text())["connected"], what="state file")
        assert bridge_cli(["--state-dir", str(state), "doctor", "--server-url", "", "--evaluate-url", ""]) == 0
        assert "OK   tunnel to 127.0.0.1" in capsys.readouterr().out
        sshd.kill()
        wait_for(lambda: not json.loads((state / "tunnel-127.0.0.1.json").read_text())["connected"],
                 timeout=20, what="the tunnel noticing sshd is gone")
        assert bridge_cli(["--state-dir", str(state), "doctor", "--server-url", "", "--evaluate-url", ""]) == 1
        out = capsys.readouterr().out
        assert "FAIL tunnel to 127.0.0.1" in out and "not connected" in out and "sshd answers" in out
        proc.terminate()
        assert proc.wait(15) == 0
        assert bridge_cli(["--state-dir", str(state), "doctor", "--server-url", "", "--evaluate-url", ""]) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sshd.stop()

"""The local arena's sandbox: what agents and tasks run cannot touch the host.

A real arena, real bubblewrap: commands (``/execute``), agent code (``/execute_windows``) and the arena's
apps run as an unprivileged account, cannot write the invoking user's home or the system, cannot see
``/root``, and cannot reach a service on the host's loopback; the files the server writes for a task
stay the apps' to change.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from arena_gym.arena import LocalArena

from .support.polling import wait_for

pytestmark = [pytest.mark.desktop,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("bwrap") is None,
                                 reason="the sandbox needs root and bubblewrap (scripts/setup.sh installs it)")]

PROBE = """
import os, pathlib, socket, sys
target, port = sys.argv[1], int(sys.argv[2])
try:
    pathlib.Path(target).write_text('x'); print('wrote-home')
except OSError:
    print('home-refused')
try:
    open('/etc/arena-escape', 'w'); print('wrote-system')
except OSError:
    print('system-refused')
print('root-listing', ','.join(sorted(os.listdir('/root'))) or '-')
s = socket.socket(); s.settimeout(3)
try:
    s.connect(('127.0.0.1', port)); print('reached')
except OSError:
    print('blocked')
print('uid', os.getuid())
"""


SECRET = Path("/root") / f".arena-secret-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def sandboxed(desktop_programs):
    SECRET.write_text("not for agents")
    with LocalArena(apps=["mousepad"]) as arena:
        assert arena.sandbox is not None
        yield arena
    SECRET.unlink(missing_ok=True)


@pytest.fixture
def host_service():
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def _check(out: str, target: Path) -> None:
    words = out.split()
    assert "home-refused" in words and not target.exists()
    assert "system-refused" in words and not Path("/etc/arena-escape").exists()
    # /root shows nothing of the host's: at most the interpreter this Python runs from, bound back read-only.
    visible = set(words[words.index("root-listing") + 1].split(",")) - {"-"}
    assert visible <= {".pyenv", ".local"} and SECRET.name not in visible
    assert "blocked" in words
    assert words[words.index("uid") + 1] != "0"


def test_commands_are_confined(sandboxed, host_service):
    target = Path.home() / f".escape-{uuid.uuid4().hex[:8]}"
    r = httpx.post(sandboxed.url + "/execute", headers=sandboxed.auth_headers(), timeout=60,
                   json={"command": ["python3", "-c", PROBE, str(target), str(host_service)]})
    assert r.status_code == 200, r.text
    _check(r.json()["output"], target)


def test_agent_code_is_confined(sandboxed, host_service, tmp_path):
    target = Path.home() / f".escape-{uuid.uuid4().hex[:8]}"
    code = f"import sys\nsys.argv = ['', {str(target)!r}, '{host_service}']\n{PROBE}"
    # What agent code prints reaches no one: have it leave the answer in the arena's home instead.
    code = code.replace("print(", "say(")
    code = "_out = []\ndef say(*words):\n    _out.extend(words)\n" + code + f"\nopen({str(sandboxed.home / 'probe.txt')!r}, 'w').write(' '.join(map(str, _out)))"
    r = httpx.post(sandboxed.url + "/execute_windows", headers=sandboxed.auth_headers(), timeout=60,
                   json={"command": code})
    assert r.status_code == 200, r.text
    _check((sandboxed.home / "probe.txt").read_text().replace("'", " "), target)


def test_the_apps_run_as_the_unprivileged_account(sandboxed):
    account = sandboxed.sandbox.uid
    assert pwd.getpwuid(account).pw_name.startswith("arena-agent-")

    def mousepad_uids() -> set[int]:
        uids = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "mousepad":
                    uids.add(os.stat(f"/proc/{pid}").st_uid)
            except OSError:
                continue
        return uids

    assert account in wait_for(mousepad_uids, what="a mousepad process")
    assert 0 not in mousepad_uids()


def test_files_the_server_writes_stay_the_apps_to_change(sandboxed):
    headers = sandboxed.auth_headers()
    target = sandboxed.home / "Documents" / "new" / "notes.txt"
    r = httpx.post(sandboxed.url + "/setup/create_file", headers=headers, timeout=30,
                   json={"path": str(target), "content": "one"})
    assert r.status_code == 200
    r = httpx.post(sandboxed.url + "/execute", headers=headers, timeout=30,
                   json={"command": ["sh", "-c", f"echo two >> '{target}' && cat '{target}'"]})
    assert r.json()["output"] == "onetwo\n"


def test_the_arenas_tmp_is_one_for_its_programs_and_not_the_hosts(sandboxed):
    """A task's setup writes /tmp/<x> that a later command reads (each runs in a sandbox of its own)."""
    headers = sandboxed.auth_headers()
    name = f"arena-tmp-{uuid.uuid4().hex[:8]}"
    for command, want in ((f"echo kept > /tmp/{name}", ""), (f"cat /tmp/{name}", "kept\n")):
        r = httpx.post(sandboxed.url + "/execute", headers=headers, timeout=30, json={"command": command, "shell": True})
        assert r.json()["output"] == want, r.text
    assert not Path(f"/tmp/{name}").exists()  # the host's /tmp is not it


def test_an_arena_cannot_signal_another_arenas_programs(sandboxed):
    """Each running arena has a sandbox account of its own: an agent's pkill ends its own programs only."""
    with LocalArena(apps=["mousepad"]) as other:
        assert other.sandbox is not None and other.sandbox.uid != sandboxed.sandbox.uid

        def mousepads(uid: int) -> int:
            return sum(1 for pid in filter(str.isdigit, os.listdir("/proc"))
                       if _comm(pid) == "mousepad" and _uid(pid) == uid)

        wait_for(lambda: mousepads(other.sandbox.uid), what="the other arena's mousepad")
        r = httpx.post(sandboxed.url + "/execute", headers=sandboxed.auth_headers(), timeout=30,
                       json={"command": "pkill -x mousepad; true", "shell": True})
        assert r.status_code == 200, r.text
        wait_for(lambda: mousepads(sandboxed.sandbox.uid) == 0, what="this arena's mousepad ended")
        assert mousepads(other.sandbox.uid) == 1  # the other arena's is untouched
        released = other.sandbox.uid
    assert not any(_uid(pid) == released for pid in filter(str.isdigit, os.listdir("/proc")))  # none left


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _uid(pid: str) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1

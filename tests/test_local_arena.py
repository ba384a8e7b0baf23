"""The local arena's life cycle: free displays and ports, side by side, no blanking, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from arena_gym.arena import LocalArena
from arena_gym.arena.local import _marked_pids

from .support.polling import wait_for


def test_two_arenas_side_by_side_then_nothing_left(desktop_programs):
    with LocalArena(apps=["xterm"], size=(800, 600)) as a, LocalArena(apps=[], size=(640, 480)) as b:
        assert a.display != b.display and a.url != b.url
        assert a.client.screen_size().width == 800
        assert b.client.screen_size().width == 640
        assert a.client.screenshot().size == (800, 600)
        assert b.client.screenshot().size == (640, 480)
        # The screen never blanks: the screensaver never starts (timeout 0) and there is no DPMS.
        q = subprocess.run(["xset", "q"], env=a.env, capture_output=True, text=True, check=True).stdout
        assert "timeout:  0 " in q
        assert "DPMS is Disabled" in q or "does not have the DPMS Extension" in q
        ids, workdirs = (a.id, b.id), (a.workdir, b.workdir)
        assert _marked_pids(a.id)
    for arena_id in ids:
        assert _marked_pids(arena_id) == []
    for workdir in workdirs:
        assert workdir is not None and not workdir.exists()


def test_teardown_ends_programs_that_detach(desktop_programs):
    with LocalArena(apps=[]) as arena:
        # A program that leaves the arena's process group (as daemons do) is still found and ended.
        arena.launch("setsid", "sleep", "300")
        wait_for(lambda: len(_marked_pids(arena.id)) >= 4, what="detached sleep started")
        arena_id = arena.id
    assert _marked_pids(arena_id) == []


def test_arena_gym_up_stops_cleanly_on_ctrl_c(desktop_programs):
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena_gym.cli", "up", "--size", "640x480"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "up:" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
        url = line.split("url=")[1].split()[0]
        arena_id = line.split()[1]
        assert httpx.get(url + "/probe", timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _marked_pids(arena_id) == []


def test_server_prints_its_url_first(desktop_programs):
    with LocalArena(apps=[]) as arena:
        proc = subprocess.Popen([sys.executable, "-m", "arena_gym.server", "--port", "0"], env=arena.env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            assert proc.stdout is not None
            info = json.loads(proc.stdout.readline())
            assert info["url"].startswith("http://127.0.0.1:") and info["pid"] == proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_process_stopped_with_sigterm_takes_its_arena_with_it(desktop_programs):
    """Schedulers and ``timeout`` stop trainers with SIGTERM, which skips atexit: nothing may be left."""
    code = ("import time\nfrom arena_gym.arena import LocalArena\n"
            "a = LocalArena(apps=['xterm']).start()\nprint(a.id, flush=True)\ntime.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        arena_id = proc.stdout.readline().strip()
        assert arena_id and _marked_pids(arena_id)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        wait_for(lambda: not _marked_pids(arena_id), 30, what="the arena's processes to be gone")
    finally:
        proc.kill()


def test_setup_installs_every_package_of_the_osworld_profile():
    """scripts/setup.sh --osworld installs the apt packages the profile's programs come from."""
    import re

    from arena_gym.arena.profiles import OSWORLD

    script = (Path(__file__).resolve().parents[1] / "scripts" / "setup.sh").read_text()
    listed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(re.findall(r"APT_PACKAGES\+?=\(([^)]*)\)", script))))
    missing = set(OSWORLD.packages()) - listed - {"libreoffice-core"}  # libreoffice-calc's dependency
    assert not missing, f"scripts/setup.sh does not install {sorted(missing)}"

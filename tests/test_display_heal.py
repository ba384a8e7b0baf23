"""The display dies: the server says so (a 503 naming the display) instead of lying, reconnects when it is
back, and the local arena brings the display and the window manager back by itself."""

from __future__ import annotations

import os
import signal

import gymnasium as gym
import httpx
import pytest

from arena_gym.arena import LocalArena

from .support.polling import wait_for

pytestmark = pytest.mark.desktop


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def test_the_server_reports_a_dead_display_and_heals_when_it_is_back(desktop_programs):
    with LocalArena(apps=["xterm"], supervise=False) as arena:
        http = httpx.Client(base_url=arena.url, timeout=30, headers=arena.auth_headers())
        assert http.get("/screenshot").status_code == 200
        _kill(arena.pids()["display"])
        wait_for(lambda: http.get("/probe").status_code == 503, what="/probe to report the dead display")
        probe = http.get("/probe").json()
        assert probe["display"] == "down" and arena.display in probe["message"]
        shot = http.get("/screenshot")
        assert shot.status_code == 503 and arena.display in shot.json()["message"]
        act = http.post("/execute_windows", json={"command": "import pyautogui; pyautogui.moveTo(9, 9)"})
        assert act.status_code == 503
        assert set(arena.heal()) >= {"display", "window manager"}
        # The server watches its display twice a second: /probe says it is back on its next look.
        wait_for(lambda: http.get("/probe").status_code == 200, what="/probe to see the display back")
        assert http.get("/screenshot").status_code == 200
        act = http.post("/execute_windows", json={"command": "import pyautogui; pyautogui.moveTo(9, 9)"})
        assert act.json() == {"status": "success"}
        assert http.get("/cursor_position").json() == [9, 9]


def test_the_arena_restarts_a_dead_display_and_window_manager_by_itself(desktop_programs):
    with LocalArena(apps=["xterm"]) as arena:
        http = httpx.Client(base_url=arena.url, timeout=30, headers=arena.auth_headers())
        old = arena.pids()
        _kill(old["wm"])
        wait_for(lambda: arena.pids().get("wm") not in (None, old["wm"]), timeout=30, what="a new window manager")
        _kill(arena.pids()["display"])
        wait_for(lambda: http.get("/screenshot").status_code == 200 and arena.pids()["display"] != old["display"],
                 timeout=30, what="the display back and served")


def test_the_envs_next_reset_works_after_the_display_died(desktop_programs):
    env = gym.make("LocalDesktop-v0", tasks={"domains": ["terminal"]}, arena={"apps": []})
    try:
        _, info = env.reset(seed=0)
        assert "infra_error" not in info
        _kill(env.unwrapped.coordinator.arena.pids()["display"])
        # A reset or two may truncate while the arena heals; then resets work again.
        infos = []
        for _ in range(5):
            infos.append(env.reset(seed=1)[1])
            if "infra_error" not in infos[-1]:
                break
        assert "infra_error" not in infos[-1], infos
        assert all(info.get("reward_valid") is False for info in infos[:-1])
    finally:
        env.close()

"""Whatever agent code does is the agent's own action error: the server keeps serving, the episode goes on.

Agent code runs in a worker process of its own (``arena_gym.server.agent_worker``), in a PID namespace
where Linux allows it, so exiting, interrupting, killing its own interpreter or signalling the server
cannot end the server nor turn into an infrastructure failure.
"""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from arena_gym.protocol import ArenaClient

pytestmark = pytest.mark.desktop

ESCAPES = {
    "exit()": "exit(None)",
    "import sys; sys.exit(3)": "exit(3)",
    "raise KeyboardInterrupt": "KeyboardInterrupt",
    "raise SystemExit('bye')": "exit('bye')",
    "import os; os._exit(1)": "ended its interpreter",
    "import os, signal; os.kill(os.getppid(), signal.SIGKILL)": None,  # finds nothing to kill
}


@pytest.mark.parametrize("code", list(ESCAPES))
def test_agent_code_that_exits_is_an_action_error_and_the_server_goes_on(arena, code):
    with httpx.Client(base_url=arena.url, timeout=30, headers=arena.auth_headers()) as http:
        answer = http.post("/execute_windows", json={"command": code})
        want = ESCAPES[code]
        if want is None:
            assert answer.status_code in (200, 500)
        else:
            assert answer.status_code == 500 and answer.json()["status"] == "error"
            assert want in answer.json()["message"]
        # The server and the next action are fine.
        assert http.get("/probe").status_code == 200
        assert http.post("/execute_windows", json={"command": "import pyautogui; pyautogui.moveTo(5, 5)"}).json() == {
            "status": "success"}


def test_the_step_route_reports_agent_exits_as_action_errors(arena):
    with ArenaClient(arena.url, token=arena.token) as client:
        client.discover()
        result = client.step("import sys; sys.exit(0)", None, "png", None)
        assert not result.ok and "exit(0)" in (result.error or "")
        assert client.step("pass", None, "png", None).ok


def test_agent_code_cannot_signal_the_server_display_or_window_manager(arena):
    code = ("import os, signal\n"
            f"for pid in {tuple(arena.pids().values())}:\n"
            "    try:\n"
            "        os.kill(pid, signal.SIGKILL)\n"
            "    except ProcessLookupError:\n"
            "        print('no such process', pid)\n")
    with httpx.Client(base_url=arena.url, timeout=30, headers=arena.auth_headers()) as http:
        http.post("/execute_windows", json={"command": code})
        assert http.get("/probe").status_code == 200
    assert set(arena.pids()) == {"server", "display", "wm"}
    for pid in arena.pids().values():
        os.kill(pid, 0)  # all alive


def test_code_that_never_returns_is_stopped_at_the_deadline(arena):
    env = {**os.environ, "DISPLAY": arena.display}
    proc = subprocess.Popen([sys.executable, "-m", "arena_gym.server", "--port", "0", "--action-timeout", "2"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        import json

        url = json.loads(proc.stdout.readline())["url"]
        with httpx.Client(base_url=url, timeout=30) as http:
            answer = http.post("/execute_windows", json={"command": "while True:\n    pass"})
            assert answer.status_code == 500 and "still running after 2 s" in answer.json()["message"]
            assert http.post("/execute_windows", json={"command": "x = 1"}).json() == {"status": "success"}
    finally:
        proc.terminate()
        proc.wait(10)

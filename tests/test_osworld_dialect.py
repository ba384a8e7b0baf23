"""OSWorld-v0 against an OSWorld guest server: the double of tests/support/osworld_double.py on the session's
real desktop. Structured actions go over the server's control channel when it offers one and through
``python -c`` when it does not, with the same effect on the desktop; a failing action is the agent's error.
When a checkout of xlang-ai/osworld-server is given (OSWORLD_SERVER_SRC, and OSWORLD_SERVER_PYTHON with its
dependencies), the double's answers are compared with the real server's byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import httpx
import pytest

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.protocol import ArenaClient, DeliveryUncertain

from .support.polling import wait_for
from .support.sockets import free_port

ROOT = Path(__file__).resolve().parents[1]

# The heavy tier with OSWorld's other tests (the default tier stays under its time budget).
pytestmark = pytest.mark.osworld


def _serve(argv: list[str], env: dict[str, str], cwd: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        return httpx.get(url + "/platform", timeout=2).status_code == 200

    wait_for(up, timeout=30, what=f"{argv[:3]} on {url}")
    return proc, url


def _double(arena, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, **arena.env, "PYTHONPATH": str(ROOT)}
    port = free_port()
    return _serve([sys.executable, "-m", "tests.support.osworld_double", "--port", str(port), *extra], env, ROOT, port)


@pytest.fixture(params=["control", "no-control"])
def double(arena, request):
    proc, url = _double(arena, *(["--no-control"] if request.param == "no-control" else []))
    yield request.param, url
    proc.terminate()
    proc.wait(10)


def _counts(url: str) -> dict[str, int]:
    return httpx.get(url + "/double/counts").json()


def _task(folder: Path, target: Path) -> Path:
    task = {
        "id": "dialect-greeting", "snapshot": "os", "instruction": f"Write 'hi there' into {target}.",
        "config": [
            {"type": "execute", "parameters": {"command": ["rm", "-f", str(target)]}},
            {"type": "launch", "parameters": {"command": ["xterm", "-title", "DialectTerm", "-geometry",
                                                           "80x20+40+40"]}},
        ],
        "evaluator": {"func": "check_include_exclude",
                      "result": {"type": "vm_command_line", "command": ["cat", str(target)]},
                      "expected": {"type": "rule", "rules": {"include": ["hi there"], "exclude": []}}},
    }
    (folder / "os").mkdir(parents=True)
    (folder / "os" / "dialect-greeting.json").write_text(json.dumps(task))
    return folder


def test_osworld_v0_acts_on_the_control_channel_when_offered(double, arena, tmp_path):
    kind, url = double
    target = arena.home / f"greeting-{kind}.txt"
    env = gym.make("OSWorld-v0", server_url=url, tasks={"folder": str(_task(tmp_path / "tasks", target))},
                   observation={"width": arena.size[0], "height": arena.size[1]}, close_windows_on_reset=False)
    try:
        env.reset(seed=0)
        wait_for(lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "DialectTerm"],
                                        env={**os.environ, **arena.env}, capture_output=True, text=True).stdout.strip(),
                 what="the task's terminal on screen")
        before = _counts(url)
        xterm_point = {"x": 200, "y": 120}
        for action in ({"action_type": "CLICK", "parameters": xterm_point},
                       {"action_type": "TYPING", "text": f"echo 'hi there' > {target}"},
                       {"action_type": "PRESS", "key": "enter"}):
            _, _, terminated, truncated, info = env.step(action)
            assert not (terminated or truncated) and "action_error" not in info, info
        wait_for(lambda: target.exists() and "hi there" in target.read_text(), what=f"{target} written")
        after = _counts(url)
        paths = {k: after.get(k, 0) - before.get(k, 0) for k in ("control", "execute")}
        if kind == "control":
            assert paths == {"control": 3, "execute": 0}  # one in-process action each, no interpreter
        else:
            assert paths == {"control": 0, "execute": 3}  # python -c through /execute
        _, reward, terminated, _, info = env.step({"action_type": "DONE"})
        assert terminated and reward == 1.0 and info["reward_valid"], info
    finally:
        env.close()
        subprocess.run(["pkill", "-f", "DialectTerm"], check=False)


def test_a_drag_is_three_events_on_the_control_channel(arena):
    proc, url = _double(arena)
    try:
        with ArenaClient(url, dialect="osworld") as vm:
            from arena_gym import actions as A

            wire = A.to_wire(A.parse_action({"action_type": "DRAG_TO", "x": 30, "y": 40}))
            assert [w["action_type"] for w in wire] == ["MOUSE_DOWN", "MOVE_TO", "MOUSE_UP"]
            result = vm.step(A.with_import(A.to_code(A.parse_action({"action_type": "DRAG_TO", "x": 30, "y": 40}))),
                             wire=wire)
            assert result.ok
            assert _counts(url)["control"] == 3
            assert vm.cursor_position() == [30, 40]
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_action_the_server_refuses_is_the_agents_error_and_the_channel_stays(arena):
    proc, url = _double(arena)
    try:
        with ArenaClient(url, dialect="osworld") as vm:
            bad = vm.step("import pyautogui", wire=[{"action_type": "PRESS", "parameters": {"key": "no-such-key"}}])
            assert not bad.ok and "Key must be one of" in (bad.error or "")
            good = vm.step("import pyautogui", wire=[{"action_type": "MOVE_TO", "parameters": {"x": 5, "y": 6}}])
            assert good.ok and vm.cursor_position() == [5, 6]
            assert _counts(url) == {"control": 2}  # the same channel, nothing through /execute
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_async_client_uses_the_channel_too(arena):
    import asyncio

    from arena_gym.protocol import AsyncArenaClient

    async def go(url: str) -> tuple[bool, object]:
        async with AsyncArenaClient(url, dialect="osworld") as vm:
            result = await vm.step("import pyautogui", wire=[{"action_type": "MOVE_TO", "parameters": {"x": 11, "y": 12}}])
            return result.ok, await vm.cursor_position()

    proc, url = _double(arena)
    try:
        assert asyncio.run(go(url)) == (True, [11, 12])
        assert _counts(url) == {"control": 1}
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_server_that_dies_mid_action_is_delivery_uncertain(arena):
    proc, url = _double(arena)
    with ArenaClient(url, dialect="osworld") as vm:
        assert vm.step("import pyautogui", wire=[{"action_type": "MOVE_TO", "parameters": {"x": 7, "y": 8}}]).ok
        proc.kill()
        proc.wait(10)
        with pytest.raises(DeliveryUncertain):
            vm.step("import pyautogui", wire=[{"action_type": "MOVE_TO", "parameters": {"x": 9, "y": 9}}])


# ---- the double against the real server

REAL = os.environ.get("OSWORLD_SERVER_SRC")
REAL_PYTHON = os.environ.get("OSWORLD_SERVER_PYTHON", sys.executable)


def _exchange(url: str) -> list[tuple[str, int, str, bytes]]:
    """The same requests to a server: (what, status, content type, body) of each answer."""
    out = []
    requests = [
        ("GET", "/platform", {}), ("POST", "/screen_size", {}), ("GET", "/screen_size", {}),
        ("POST", "/execute", {"json": {"command": ["printf", "out\\nü"], "shell": False}}),
        ("POST", "/execute", {"json": {"command": "echo err >&2; exit 3", "shell": True}}),
        ("POST", "/execute", {"json": {"command": ["/no/such/program"]}}),
        ("POST", "/run_python", {"json": {"code": "print('a')\nraise SystemExit(2)"}}),
        ("POST", "/run_python", {"json": {"code": ""}}),
        ("POST", "/file", {"data": {"file_path": "/no/such/file"}}), ("POST", "/file", {"data": {}}),
        ("POST", "/list_directory", {"json": {"path": "/no/such/dir"}}),
        ("POST", "/list_directory", {"json": {}}),
        ("GET", "/arena/capabilities", {}), ("POST", "/probe", {}), ("GET", "/accessibility/nothing", {}),
    ]
    with httpx.Client(base_url=url, timeout=30) as http:
        for method, path, kwargs in requests:
            resp = http.request(method, path, **kwargs)
            out.append((f"{method} {path} {kwargs}", resp.status_code, resp.headers.get("content-type", ""),
                        resp.content))
    return out


def _control_exchange(url: str) -> list[tuple[str, list[str]]]:
    """The control channel's messages, timestamps and ids taken out."""
    from websockets.sync.client import connect

    out = []
    with connect(url.replace("http", "ws") + "/ws/control?session_id=s") as ws:
        out.append(("ready", sorted(json.loads(ws.recv(timeout=10)))))
        for message in ({"type": "ping"}, {"type": "nope"},
                        {"type": "action", "action_id": "a", "action": {"action_type": "MOVE_TO",
                                                                      "parameters": {"x": 3, "y": 4}}},
                        {"type": "action", "action_id": "b", "action": {"action_type": "PRESS",
                                                                      "parameters": {"key": "nokey"}}}):
            ws.send(json.dumps(message))
            answers = [json.loads(ws.recv(timeout=10))]
            if message["type"] == "action":
                answers.append(json.loads(ws.recv(timeout=10)))
            for answer in answers:
                shape = sorted(answer)
                values = {k: v for k, v in answer.items() if k not in ("timestamp", "started_at", "completed_at")}
                if "error" in values:
                    values["error"] = str(values["error"])[:40]
                out.append((json.dumps(values, sort_keys=True), shape))
    return out


@pytest.mark.skipif(not REAL, reason="set OSWORLD_SERVER_SRC to a checkout of xlang-ai/osworld-server (and "
                                     "OSWORLD_SERVER_PYTHON to a python with its requirements) to compare with it")
def test_the_double_answers_as_the_real_server_does(arena):
    env = {**os.environ, **arena.env, "XDG_SESSION_TYPE": "x11", "OSWORLD_SERVER_HOST": "127.0.0.1"}
    port = free_port()
    real, real_url = _serve([REAL_PYTHON, "main.py"], {**env, "OSWORLD_SERVER_PORT": str(port)}, Path(REAL or "."),
                            port)
    double_proc, double_url = _double(arena)
    try:
        theirs, ours = _exchange(real_url), _exchange(double_url)
        for a, b in zip(theirs, ours, strict=True):
            assert a == b, f"{a[0]}:\n real   {a[1:]}\n double {b[1:]}"
        assert _control_exchange(real_url) == _control_exchange(double_url)
    finally:
        for proc in (real, double_proc):
            proc.terminate()
            proc.wait(10)

"""OSWorld's own client (desktop-env 1.0.2's ``PythonController``, from PyPI) against our server: every
call it makes answers in the shape it reads."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from .support.polling import wait_for

# OSWorld's client moves the mouse over a random 0.5-1 s per action: the heavy tier.
pytestmark = pytest.mark.slow

python_controller = pytest.importorskip(
    "desktop_env.controllers.python",
    reason="desktop-env 1.0.2 (OSWorld's client) is installed by bash scripts/setup.sh (pip --no-deps)")


@pytest.fixture
def controller(arena):
    host, port = arena.url.removeprefix("http://").split(":")
    ctl = python_controller.PythonController(vm_ip=host, server_port=int(port))
    ctl.retry_interval = 0.1  # its error paths retry; nothing here should need them
    return ctl


def test_observations_and_files(controller, arena):
    shot = controller.get_screenshot()
    with Image.open(io.BytesIO(shot)) as image:
        assert image.size == arena.size
    tree = controller.get_accessibility_tree()
    assert tree.startswith("<desktop-frame")
    assert controller.get_terminal_output() is None  # xterm offers no accessible terminal text
    (arena.home / "Documents" / "osworld.txt").write_text("from the VM")
    assert controller.get_file(str(arena.home / "Documents" / "osworld.txt")) == b"from the VM"
    assert controller.get_file("/no/such/file") is None
    assert controller.get_vm_platform() == "Linux"
    assert controller.get_vm_screen_size() == {"width": arena.size[0], "height": arena.size[1]}
    controller.execute_python_command("import subprocess; subprocess.Popen(['xterm', '-name', 'osworldprobe'])")
    size = wait_for(lambda: controller.get_vm_window_size("osworldprobe"), timeout=20, what="the xterm's window")
    assert size["width"] > 0 and size["height"] > 0
    assert controller.get_vm_desktop_path() == str(arena.home / "Desktop")
    tree = controller.get_vm_directory_tree(str(arena.home / "Documents"))
    assert tree["type"] == "directory" and "osworld.txt" in [c["name"] for c in tree["children"]]


def test_code_and_scripts(controller, arena):
    result = controller.execute_python_command("print(pyautogui.size())")
    assert result["status"] == "success" and str(arena.size[0]) in result["output"]
    script = controller.run_python_script("print(6 * 7)")
    assert script["status"] == "success" and script["output"].strip() == "42"
    failed = controller.run_python_script("raise ValueError('no')")
    assert failed["status"] == "error" and "ValueError" in failed["error"]
    bash = controller.run_bash_script("echo $((6 * 7))", timeout=10, working_dir=str(arena.home))
    assert bash["status"] == "success" and bash["output"].strip() == "42" and bash["returncode"] == 0


def test_every_action_it_sends(controller):
    for action in (
        {"action_type": "MOVE_TO", "parameters": {"x": 300, "y": 300}},
        {"action_type": "CLICK", "parameters": {"x": 310, "y": 310, "button": "left", "num_clicks": 1}},
        {"action_type": "MOUSE_DOWN", "parameters": {"button": "left"}},
        {"action_type": "MOUSE_UP", "parameters": {"button": "left"}},
        {"action_type": "RIGHT_CLICK", "parameters": {"x": 320, "y": 320}},
        {"action_type": "DOUBLE_CLICK", "parameters": {"x": 330, "y": 330}},
        {"action_type": "DRAG_TO", "parameters": {"x": 340, "y": 340}},
        {"action_type": "SCROLL", "parameters": {"dx": 0, "dy": -1}},
        {"action_type": "TYPING", "parameters": {"text": "ok"}},
        {"action_type": "PRESS", "parameters": {"key": "escape"}},
        {"action_type": "KEY_DOWN", "parameters": {"key": "shift"}},
        {"action_type": "KEY_UP", "parameters": {"key": "shift"}},
        {"action_type": "HOTKEY", "parameters": {"keys": ["ctrl", "a"]}},
        "WAIT", "DONE",
    ):
        controller.execute_action(action)  # raises on an answer it cannot read
    position = controller.execute_python_command("print(pyautogui.position())")["output"]
    assert "340" in position

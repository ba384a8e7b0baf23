"""The action vocabulary: every face is made from the one definition of each action type, and OSWorld's
dict form is read as OSWorld's executor reads it."""

from __future__ import annotations

import json

import pytest

from arena_gym import actions as A
from arena_gym.wrappers import DISCRETE_TYPES

# OSWorld's computer_13 (desktop_env/actions.py), and the pyautogui call its executor makes for each
# (desktop_env/controllers/python.py); arena-gym's code must call the same function.
OSWORLD = {
    "CLICK": ({"button": "right", "x": 5, "y": 9, "num_clicks": 2}, "pyautogui.click("),
    "MOUSE_DOWN": ({"button": "left"}, "pyautogui.mouseDown("),
    "MOUSE_UP": ({"button": "left"}, "pyautogui.mouseUp("),
    "RIGHT_CLICK": ({"x": 5, "y": 9}, "pyautogui.rightClick("),
    "DOUBLE_CLICK": ({"x": 5, "y": 9}, "pyautogui.doubleClick("),
    "MOVE_TO": ({"x": 5, "y": 9}, "pyautogui.moveTo("),
    "DRAG_TO": ({"x": 5, "y": 9}, "pyautogui.mouseUp("),  # down, move, up: a drag ending at (5, 9)
    "SCROLL": ({"dx": 1, "dy": -2}, "pyautogui.hscroll(1); pyautogui.vscroll(-2)"),
    "TYPING": ({"text": "it's a \\ test"}, "pyautogui.write("),
    "PRESS": ({"key": "enter"}, "pyautogui.press('enter')"),
    "KEY_DOWN": ({"key": "shift"}, "pyautogui.keyDown('shift')"),
    "KEY_UP": ({"key": "shift"}, "pyautogui.keyUp('shift')"),
    "HOTKEY": ({"keys": ["ctrl", "s"]}, "pyautogui.hotkey('ctrl', 's')"),
}


def test_the_vocabulary_is_osworlds_computer_13_and_wait_done_fail():
    assert set(A.ACTION_TYPES) == set(OSWORLD) | {"WAIT", "DONE", "FAIL"}


@pytest.mark.parametrize("kind", sorted(OSWORLD))
def test_osworld_dicts_keep_their_parameters(kind):
    params, call = OSWORLD[kind]
    parsed = A.parse_action({"action_type": kind, "parameters": params})
    for name, value in params.items():
        assert getattr(parsed, name) == value
    code = A.to_code(parsed)
    assert call in code
    assert A.parse_action(A.osworld_form(parsed)) == parsed  # the round trip keeps everything
    assert A.parse_action(json.dumps({"action_type": kind, **params})) == parsed  # flat form, same action


def test_osworld_form_problems_are_named():
    with pytest.raises(A.InvalidAction, match="either flat or in parameters"):
        A.parse_action({"action_type": "CLICK", "x": 1, "parameters": {"y": 2}})
    with pytest.raises(A.InvalidAction, match="parameters must be a mapping"):
        A.parse_action({"action_type": "CLICK", "parameters": [1, 2]})
    with pytest.raises(A.InvalidAction, match="unknown key"):
        A.parse_action({"action_type": "PRESS", "parameters": {"key": "hyperspace"}})


def test_every_face_comes_from_the_models():
    prompt = A.prompt_text(1280, 800)
    schema = json.dumps(A.action_schema())
    for kind in A.ACTION_TYPES:
        assert f'"action_type": "{kind}"' in prompt and kind in schema
    # The discrete face offers what the models say they can be chosen with (SCROLL as up and down).
    assert [t for t in A.discrete_labels() if t != "FAIL"] == DISCRETE_TYPES
    assert {"SCROLL_UP", "SCROLL_DOWN", "CLICK", "TYPING", "PRESS", "WAIT", "DONE"} <= set(DISCRETE_TYPES)
    assert A.from_discrete("PRESS", (0, 0), "ctrl+s", "") == {"action_type": "HOTKEY", "keys": ["ctrl", "s"]}
    assert {"KEY_DOWN", "KEY_UP", "MOUSE_DOWN", "MOUSE_UP"} == A.HOLDING


def test_code_that_starts_with_a_compound_statement_gets_its_import_on_a_line_of_its_own():
    code = "for k in ['a', 'b']:\n    pyautogui.press(k)"
    compile(A.with_import(code), "<action>", "exec")  # "import pyautogui; for k ..." would not compile
    from arena_gym.protocol.calls import PYAUTOGUI_PREFIX

    compile(PYAUTOGUI_PREFIX + code, "<osworld action>", "exec")


# The parameters OSWorld's server reads for each action type on its control channel (its actions.py).
CONTROL_PARAMETERS = {
    "CLICK": {"x", "y", "button", "num_clicks"}, "MOUSE_DOWN": {"button"}, "MOUSE_UP": {"button"},
    "RIGHT_CLICK": {"x", "y"}, "DOUBLE_CLICK": {"x", "y"}, "MOVE_TO": {"x", "y"}, "SCROLL": {"dx", "dy"},
    "TYPING": {"text"}, "PRESS": {"key"}, "KEY_DOWN": {"key"}, "KEY_UP": {"key"}, "HOTKEY": {"keys"},
}


@pytest.mark.parametrize("kind", sorted(OSWORLD))
def test_the_control_channel_form_is_what_osworlds_server_reads(kind):
    params, _ = OSWORLD[kind]
    wire = A.to_wire(A.parse_action({"action_type": kind, **params}), (2.0, 0.5))
    assert wire, kind
    for message in wire:
        assert set(message["parameters"]) <= CONTROL_PARAMETERS[message["action_type"]], message
        if "x" in message["parameters"]:
            assert (message["parameters"]["x"], message["parameters"]["y"]) == (10, 4)  # in screen pixels
    json.dumps(wire)  # sent as JSON


def test_actions_that_send_nothing_have_no_control_messages():
    for kind in ("WAIT", "DONE", "FAIL"):
        assert A.to_wire(A.parse_action({"action_type": kind})) == []
    assert A.to_wire(A.parse_action({"action_type": "SCROLL", "dx": 0, "dy": 0})) == []

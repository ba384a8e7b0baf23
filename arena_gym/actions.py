"""One action vocabulary (OSWorld's computer_13 names) with its faces: a typed/JSON action, pyautogui
code, a JSON schema, and prompt text for LLM agents.

Coordinates are in observation pixels; ``to_code`` scales them to the screen.
"""

from __future__ import annotations

import ast
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .validation import field_errors

# pyautogui's key names (its KEYBOARD_KEYS), so a bad key is caught before anything is sent.
KEYBOARD_KEYS = frozenset(
    [chr(c) for c in range(32, 127)]
    + ["\t", "\n", "\r", "accept", "add", "alt", "altleft", "altright", "apps", "backspace", "browserback",
       "browserfavorites", "browserforward", "browserhome", "browserrefresh", "browsersearch", "browserstop",
       "capslock", "clear", "convert", "ctrl", "ctrlleft", "ctrlright", "decimal", "del", "delete", "divide",
       "down", "end", "enter", "esc", "escape", "execute", "final", "fn", "help", "home", "insert", "left",
       "modechange", "multiply", "nexttrack", "nonconvert", "num0", "num1", "num2", "num3", "num4", "num5",
       "num6", "num7", "num8", "num9", "numlock", "pagedown", "pageup", "pause", "pgdn", "pgup", "playpause",
       "prevtrack", "print", "printscreen", "prntscrn", "prtsc", "prtscr", "return", "right", "scrolllock",
       "select", "separator", "shift", "shiftleft", "shiftright", "sleep", "space", "stop", "subtract", "tab",
       "up", "volumedown", "volumemute", "volumeup", "win", "winleft", "winright", "command", "option",
       "optionleft", "optionright"]
    + [f"f{i}" for i in range(1, 25)]
)

Key = Annotated[str, Field(description="a pyautogui key name, e.g. 'enter', 'ctrl', 'a'")]
Button = Literal["left", "right", "middle"]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Click(_Action):
    action_type: Literal["CLICK"] = "CLICK"
    x: float | None = Field(None, description="x in observation pixels; omit to click where the pointer is")
    y: float | None = None
    button: Button = "left"
    num_clicks: int = Field(1, ge=1, le=3)


class DoubleClick(_Action):
    action_type: Literal["DOUBLE_CLICK"] = "DOUBLE_CLICK"
    x: float | None = None
    y: float | None = None


class RightClick(_Action):
    action_type: Literal["RIGHT_CLICK"] = "RIGHT_CLICK"
    x: float | None = None
    y: float | None = None


class MoveTo(_Action):
    action_type: Literal["MOVE_TO"] = "MOVE_TO"
    x: float
    y: float


class DragTo(_Action):
    action_type: Literal["DRAG_TO"] = "DRAG_TO"
    x: float
    y: float
    button: Button = "left"


class Scroll(_Action):
    action_type: Literal["SCROLL"] = "SCROLL"
    dx: int = Field(0, description="clicks to the right (negative: left)")
    dy: int = Field(0, description="clicks up (negative: down)")


class Typing(_Action):
    action_type: Literal["TYPING"] = "TYPING"
    text: str = Field(min_length=1)


class Press(_Action):
    action_type: Literal["PRESS"] = "PRESS"
    key: Key


class Hotkey(_Action):
    action_type: Literal["HOTKEY"] = "HOTKEY"
    keys: list[Key] = Field(min_length=1)


class KeyDown(_Action):
    action_type: Literal["KEY_DOWN"] = "KEY_DOWN"
    key: Key


class KeyUp(_Action):
    action_type: Literal["KEY_UP"] = "KEY_UP"
    key: Key


class Wait(_Action):
    action_type: Literal["WAIT"] = "WAIT"


class Done(_Action):
    action_type: Literal["DONE"] = "DONE"


class Fail(_Action):
    action_type: Literal["FAIL"] = "FAIL"


ComputerAction = Annotated[
    Click | DoubleClick | RightClick | MoveTo | DragTo | Scroll | Typing | Press | Hotkey | KeyDown | KeyUp
    | Wait | Done | Fail,
    Field(discriminator="action_type"),
]
MODELS: list[type[_Action]] = [Click, DoubleClick, RightClick, MoveTo, DragTo, Scroll, Typing, Press, Hotkey,
                               KeyDown, KeyUp, Wait, Done, Fail]
# The names, in the vocabulary's order, from the models themselves (each is listed once, above).
ACTION_TYPES = [m.model_fields["action_type"].default for m in MODELS]
TERMINAL = {"DONE", "FAIL"}
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ComputerAction)


def model_for(action_type: str) -> type[_Action]:
    return MODELS[ACTION_TYPES.index(action_type)]


class InvalidAction(ValueError):
    """An action that is not executed; the message says what is wrong and how to write it."""


def parse_action(action: Any) -> Any:
    """A computer_13 action from a model, a dict, or a JSON string (``{"action_type": "CLICK", ...}``)."""
    if isinstance(action, BaseModel):
        return action
    if isinstance(action, str):
        text = action.strip()
        if text in ("WAIT", "DONE", "FAIL"):
            return _ADAPTER.validate_python({"action_type": text})
        try:
            action = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidAction(f"not JSON ({exc.msg} at column {exc.colno}); send {{\"action_type\": ...}}") from None
    if not isinstance(action, dict):
        raise InvalidAction(f"an action is a dict with action_type, got {type(action).__name__}")
    try:
        parsed = _ADAPTER.validate_python(action)
    except ValidationError as exc:
        problems = field_errors(exc, skip=1, empty="action_type")
        raise InvalidAction(f"{problems} (action types: {', '.join(ACTION_TYPES)})") from None
    for key in getattr(parsed, "keys", None) or [getattr(parsed, "key", None)]:
        if key is not None and key.lower() not in KEYBOARD_KEYS:
            raise InvalidAction(f"unknown key {key!r}; use pyautogui key names such as enter, ctrl, shift, a, f5")
    return parsed


def _xy(action: Any, scale: tuple[float, float]) -> str:
    if action.x is None or action.y is None:
        return ""
    return f"x={round(action.x * scale[0])}, y={round(action.y * scale[1])}"


def to_code(action: Any, scale: tuple[float, float] = (1.0, 1.0)) -> str | None:
    """The pyautogui code for an action (None for WAIT/DONE/FAIL, which are not sent)."""
    kind = action.action_type
    if kind in ("WAIT", "DONE", "FAIL"):
        return None
    xy = _xy(action, scale) if hasattr(action, "x") else ""
    sep = ", " if xy else ""
    if kind == "CLICK":
        return f"pyautogui.click({xy}{sep}button={action.button!r}, clicks={action.num_clicks})"
    if kind == "DOUBLE_CLICK":
        return f"pyautogui.doubleClick({xy})"
    if kind == "RIGHT_CLICK":
        return f"pyautogui.rightClick({xy})"
    if kind == "MOVE_TO":
        return f"pyautogui.moveTo({xy})"
    if kind == "DRAG_TO":
        x, y = round(action.x * scale[0]), round(action.y * scale[1])
        # Down, move, up as separate events: apps see a real drag (dragTo with no duration can be a click).
        return (f"pyautogui.mouseDown(button={action.button!r}); pyautogui.moveTo({x}, {y}); "
                f"pyautogui.mouseUp(button={action.button!r})")
    if kind == "SCROLL":
        parts = []
        if action.dx:
            parts.append(f"pyautogui.hscroll({action.dx})")
        if action.dy:
            parts.append(f"pyautogui.vscroll({action.dy})")
        return "; ".join(parts) or "pass"
    if kind == "TYPING":
        return f"pyautogui.write({action.text!r})"
    if kind == "PRESS":
        return f"pyautogui.press({action.key!r})"
    if kind == "HOTKEY":
        return f"pyautogui.hotkey({', '.join(repr(k) for k in action.keys)})"
    if kind == "KEY_DOWN":
        return f"pyautogui.keyDown({action.key!r})"
    if kind == "KEY_UP":
        return f"pyautogui.keyUp({action.key!r})"
    raise InvalidAction(f"unknown action type {kind!r}")


def with_import(code: str) -> str:
    return code if code.lstrip().startswith("import pyautogui") else f"import pyautogui; {code}"


CodePolicy = Literal["any", "pyautogui_calls"]
# pyautogui's input functions an agent may call under the "pyautogui_calls" policy (and time.sleep).
PYAUTOGUI_CALLS = frozenset({
    "click", "doubleClick", "tripleClick", "rightClick", "middleClick", "moveTo", "moveRel", "move", "dragTo",
    "dragRel", "drag", "mouseDown", "mouseUp", "scroll", "hscroll", "vscroll", "write", "typewrite", "press",
    "hotkey", "keyDown", "keyUp", "sleep",
})


def check_code(code: Any, policy: CodePolicy = "any") -> str:
    """The pyautogui-code face: Python source (or WAIT/DONE/FAIL). Syntax errors are invalid actions.

    ``policy="any"`` is WAA's: any Python runs. ``"pyautogui_calls"`` (for RL, where a policy could
    otherwise learn to write the scored file itself) admits only ``import pyautogui`` / ``import time``
    and calls of pyautogui's input functions (and ``time.sleep``) on literal arguments, checked on the
    syntax tree before anything runs."""
    if not isinstance(code, str) or not code.strip():
        raise InvalidAction("a code action is a non-empty string of Python (pyautogui) code, or WAIT/DONE/FAIL")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise InvalidAction(f"Python syntax error at line {exc.lineno}: {exc.msg}") from None
    if policy == "pyautogui_calls":
        for node in tree.body:
            _check_statement(node)
    return code


def _check_statement(node: ast.stmt) -> None:
    where = f"line {node.lineno}"
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names if alias.asname is None]
        if len(names) == len(node.names) and set(names) <= {"pyautogui", "time"}:
            return
        raise InvalidAction(f"{where}: only `import pyautogui` and `import time` are allowed (code_policy=pyautogui_calls)")
    call = node.value if isinstance(node, ast.Expr) else None
    if not isinstance(call, ast.Call):
        raise InvalidAction(f"{where}: only calls of pyautogui's functions are allowed (code_policy=pyautogui_calls)")
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
            (func.value.id == "pyautogui" and func.attr in PYAUTOGUI_CALLS)
            or (func.value.id == "time" and func.attr == "sleep"))):
        shown = ast.unparse(func)
        raise InvalidAction(f"{where}: {shown}() is not one of pyautogui's input functions (code_policy=pyautogui_calls)")
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        try:
            ast.literal_eval(arg)
        except ValueError:
            raise InvalidAction(
                f"{where}: {ast.unparse(arg)} is not a literal; arguments must be numbers, strings or lists of them "
                "(code_policy=pyautogui_calls)") from None
    if any(k.arg is None for k in call.keywords):
        raise InvalidAction(f"{where}: **kwargs are not allowed (code_policy=pyautogui_calls)")


def action_schema() -> dict[str, Any]:
    """JSON schema of the structured face (for function calling / constrained decoding)."""
    return _ADAPTER.json_schema()


def prompt_text(width: int, height: int) -> str:
    """The vocabulary as an LLM reads it."""
    return (
        f"You control a desktop through a {width}x{height} screenshot (x to the right, y down, in pixels).\n"
        "Answer with one action as JSON, one of:\n"
        '  {"action_type": "CLICK", "x": 100, "y": 200, "button": "left", "num_clicks": 1}\n'
        '  {"action_type": "DOUBLE_CLICK", "x": 100, "y": 200}   {"action_type": "RIGHT_CLICK", "x": 100, "y": 200}\n'
        '  {"action_type": "MOVE_TO", "x": 100, "y": 200}        {"action_type": "DRAG_TO", "x": 300, "y": 400}\n'
        '  {"action_type": "SCROLL", "dx": 0, "dy": -3}           (dy > 0 scrolls up)\n'
        '  {"action_type": "TYPING", "text": "hello"}\n'
        '  {"action_type": "PRESS", "key": "enter"}   {"action_type": "HOTKEY", "keys": ["ctrl", "s"]}\n'
        '  {"action_type": "KEY_DOWN", "key": "shift"}  {"action_type": "KEY_UP", "key": "shift"}\n'
        '  {"action_type": "WAIT"}  {"action_type": "DONE"} when the task is complete, '
        '{"action_type": "FAIL"} if it cannot be done.\n'
        "Keys use pyautogui names (enter, tab, esc, ctrl, alt, shift, up, f5, a ...)."
    )

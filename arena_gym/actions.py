"""One action vocabulary (OSWorld's computer_13 names) with its faces: a typed/JSON action, pyautogui
code, a JSON schema, and prompt text for LLM agents.

Coordinates are in observation pixels; ``to_code`` scales them to the screen.
"""

from __future__ import annotations

import ast
import json
from typing import Annotated, Any, ClassVar, Literal

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
    """One action type. Everything said about it is here, once: its fields (the schema and validation),
    ``summary`` and ``example`` (the prompt text), ``code`` (what is sent) and ``discrete`` (how a
    MultiDiscrete choice fills it: ``point``, ``scroll``, ``text``, ``key``, ``none``; None: not offered)."""

    model_config = ConfigDict(extra="forbid")
    summary: ClassVar[str] = ""
    example: ClassVar[dict[str, Any]] = {}
    discrete: ClassVar[str | None] = None
    sends_nothing: ClassVar[bool] = False  # WAIT, DONE, FAIL: no code goes to the VM
    holds: ClassVar[bool] = False  # presses or releases a held key or button (its state outlives the step)

    def code(self, scale: tuple[float, float]) -> str | None:
        return None

    def wire(self, scale: tuple[float, float]) -> list[dict[str, Any]]:
        """The same action as OSWorld action dicts in screen pixels, for its server's control channel."""
        if self.sends_nothing:
            return []
        params = self.model_dump(exclude_none=True)
        kind = params.pop("action_type")
        if "x" in params and "y" in params:
            params["x"], params["y"] = round(params["x"] * scale[0]), round(params["y"] * scale[1])
        return [{"action_type": kind, "parameters": params}]

    def _xy(self, scale: tuple[float, float]) -> str:
        x, y = getattr(self, "x", None), getattr(self, "y", None)
        if x is None or y is None:
            return ""
        return f"x={round(x * scale[0])}, y={round(y * scale[1])}"


class _Pointer(_Action):
    """An action at a point (where the pointer is, when x and y are left out): ``pyautogui.<call>(x, y)``."""

    x: float | None = None
    y: float | None = None
    call: ClassVar[str] = ""
    example: ClassVar[dict[str, Any]] = {"x": 100, "y": 200}
    discrete: ClassVar[str | None] = "point"

    def code(self, scale: tuple[float, float]) -> str:
        return f"pyautogui.{self.call}({self._xy(scale)})"


class Click(_Pointer):
    action_type: Literal["CLICK"] = "CLICK"
    x: float | None = Field(None, description="x in observation pixels; omit to click where the pointer is")
    button: Button = "left"
    num_clicks: int = Field(1, ge=1, le=3)
    summary: ClassVar[str] = "click (x, y: omit both to click where the pointer is)"
    example: ClassVar[dict[str, Any]] = {"x": 100, "y": 200, "button": "left", "num_clicks": 1}

    def code(self, scale: tuple[float, float]) -> str:
        xy = self._xy(scale)
        return f"pyautogui.click({xy}{', ' if xy else ''}button={self.button!r}, clicks={self.num_clicks})"


class DoubleClick(_Pointer):
    action_type: Literal["DOUBLE_CLICK"] = "DOUBLE_CLICK"
    summary: ClassVar[str] = "double-click"
    call: ClassVar[str] = "doubleClick"


class RightClick(_Pointer):
    action_type: Literal["RIGHT_CLICK"] = "RIGHT_CLICK"
    summary: ClassVar[str] = "right-click"
    call: ClassVar[str] = "rightClick"


class MoveTo(_Pointer):
    action_type: Literal["MOVE_TO"] = "MOVE_TO"
    x: float  # required here: a move needs a target
    y: float
    summary: ClassVar[str] = "move the pointer"
    call: ClassVar[str] = "moveTo"


class DragTo(_Action):
    action_type: Literal["DRAG_TO"] = "DRAG_TO"
    x: float
    y: float
    button: Button = "left"
    summary: ClassVar[str] = "drag from where the pointer is to (x, y)"
    example: ClassVar[dict[str, Any]] = {"x": 300, "y": 400}

    def code(self, scale: tuple[float, float]) -> str:
        x, y = round(self.x * scale[0]), round(self.y * scale[1])
        # Down, move, up as separate events: apps see a real drag (dragTo with no duration can be a click).
        return (f"pyautogui.mouseDown(button={self.button!r}); pyautogui.moveTo({x}, {y}); "
                f"pyautogui.mouseUp(button={self.button!r})")

    def wire(self, scale: tuple[float, float]) -> list[dict[str, Any]]:
        # The same three events: OSWorld's own DRAG_TO is pyautogui.dragTo with a 1 s default duration.
        x, y = round(self.x * scale[0]), round(self.y * scale[1])
        button = {"button": self.button}
        return [{"action_type": "MOUSE_DOWN", "parameters": button},
                {"action_type": "MOVE_TO", "parameters": {"x": x, "y": y}},
                {"action_type": "MOUSE_UP", "parameters": button}]


class _Button(_Action):
    """Press or release a mouse button where the pointer is: ``pyautogui.<call>(button=...)``."""

    button: Button = "left"
    holds: ClassVar[bool] = True
    call: ClassVar[str] = ""
    example: ClassVar[dict[str, Any]] = {"button": "left"}

    def code(self, scale: tuple[float, float]) -> str:
        return f"pyautogui.{self.call}(button={self.button!r})"


class MouseDown(_Button):
    action_type: Literal["MOUSE_DOWN"] = "MOUSE_DOWN"
    summary: ClassVar[str] = "press a mouse button where the pointer is (hold it)"
    call: ClassVar[str] = "mouseDown"


class MouseUp(_Button):
    action_type: Literal["MOUSE_UP"] = "MOUSE_UP"
    summary: ClassVar[str] = "release a held mouse button"
    call: ClassVar[str] = "mouseUp"


class Scroll(_Action):
    action_type: Literal["SCROLL"] = "SCROLL"
    dx: int = Field(0, description="clicks to the right (negative: left)")
    dy: int = Field(0, description="clicks up (negative: down)")
    summary: ClassVar[str] = "scroll where the pointer is (dy > 0 scrolls up, dx > 0 right)"
    example: ClassVar[dict[str, Any]] = {"dx": 0, "dy": -3}
    discrete: ClassVar[str | None] = "scroll"

    def wire(self, scale: tuple[float, float]) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("dx", self.dx), ("dy", self.dy)) if v}  # OSWorld scrolls each one given
        return [{"action_type": "SCROLL", "parameters": params}] if params else []

    def code(self, scale: tuple[float, float]) -> str:
        parts = [f"pyautogui.hscroll({self.dx})"] if self.dx else []
        parts += [f"pyautogui.vscroll({self.dy})"] if self.dy else []
        return "; ".join(parts) or "pass"


class Typing(_Action):
    action_type: Literal["TYPING"] = "TYPING"
    text: str = Field(min_length=1)
    summary: ClassVar[str] = "type text"
    example: ClassVar[dict[str, Any]] = {"text": "hello"}
    discrete: ClassVar[str | None] = "text"

    def code(self, scale: tuple[float, float]) -> str:
        return f"pyautogui.write({self.text!r})"


class _KeyAction(_Action):
    """An action on one key: ``pyautogui.<call>(key)``."""

    key: Key
    call: ClassVar[str] = ""

    def code(self, scale: tuple[float, float]) -> str:
        return f"pyautogui.{self.call}({self.key!r})"


class Press(_KeyAction):
    action_type: Literal["PRESS"] = "PRESS"
    summary: ClassVar[str] = "press and release a key"
    example: ClassVar[dict[str, Any]] = {"key": "enter"}
    discrete: ClassVar[str | None] = "key"
    call: ClassVar[str] = "press"


class Hotkey(_Action):
    action_type: Literal["HOTKEY"] = "HOTKEY"
    keys: list[Key] = Field(min_length=1)
    summary: ClassVar[str] = "press keys together"
    example: ClassVar[dict[str, Any]] = {"keys": ["ctrl", "s"]}

    def code(self, scale: tuple[float, float]) -> str:
        return f"pyautogui.hotkey({', '.join(repr(k) for k in self.keys)})"


class KeyDown(_KeyAction):
    action_type: Literal["KEY_DOWN"] = "KEY_DOWN"
    holds: ClassVar[bool] = True
    summary: ClassVar[str] = "hold a key down"
    example: ClassVar[dict[str, Any]] = {"key": "shift"}
    call: ClassVar[str] = "keyDown"


class KeyUp(_KeyAction):
    action_type: Literal["KEY_UP"] = "KEY_UP"
    holds: ClassVar[bool] = True
    summary: ClassVar[str] = "release a held key"
    example: ClassVar[dict[str, Any]] = {"key": "shift"}
    call: ClassVar[str] = "keyUp"


class Wait(_Action):
    action_type: Literal["WAIT"] = "WAIT"
    summary: ClassVar[str] = "do nothing this step and look again"
    discrete: ClassVar[str | None] = "none"
    sends_nothing: ClassVar[bool] = True


class Done(_Action):
    action_type: Literal["DONE"] = "DONE"
    summary: ClassVar[str] = "the task is complete (ends the episode; it is scored)"
    discrete: ClassVar[str | None] = "none"
    sends_nothing: ClassVar[bool] = True


class Fail(_Action):
    action_type: Literal["FAIL"] = "FAIL"
    summary: ClassVar[str] = "the task cannot be done (ends the episode; it is scored)"
    sends_nothing: ClassVar[bool] = True


ComputerAction = Annotated[
    Click | DoubleClick | RightClick | MoveTo | DragTo | MouseDown | MouseUp | Scroll | Typing | Press | Hotkey
    | KeyDown | KeyUp | Wait | Done | Fail,
    Field(discriminator="action_type"),
]
MODELS: list[type[_Action]] = [Click, DoubleClick, RightClick, MoveTo, DragTo, MouseDown, MouseUp, Scroll, Typing,
                               Press, Hotkey, KeyDown, KeyUp, Wait, Done, Fail]
# The names, in the vocabulary's order, from the models themselves (each is listed once, above).
ACTION_TYPES = [m.model_fields["action_type"].default for m in MODELS]
TERMINAL = {"DONE", "FAIL"}
HOLDING = {m.model_fields["action_type"].default for m in MODELS if m.holds}
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ComputerAction)


def model_for(action_type: str) -> type[_Action]:
    return MODELS[ACTION_TYPES.index(action_type)]


# Types with no field but their name, which an agent may write bare ("DONE") in either face.
BARE_TYPES = frozenset(m.model_fields["action_type"].default for m in MODELS if set(m.model_fields) == {"action_type"})


def bare_type(action: Any) -> str | None:
    """``"WAIT"``, ``"DONE"`` or ``"FAIL"`` when ``action`` is such a bare name, else None."""
    text = action.strip() if isinstance(action, str) else None
    return text if text in BARE_TYPES else None


class InvalidAction(ValueError):
    """An action that is not executed; the message says what is wrong and how to write it."""


def parse_action(action: Any) -> Any:
    """A computer_13 action from a model, a dict, or a JSON string (``{"action_type": "CLICK", ...}``)."""
    if isinstance(action, BaseModel):
        return action
    if isinstance(action, str):
        text = action.strip()
        if bare_type(text):
            return _ADAPTER.validate_python({"action_type": text})
        try:
            action = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidAction(f"not JSON ({exc.msg} at column {exc.colno}); send {{\"action_type\": ...}}") from None
    if not isinstance(action, dict):
        raise InvalidAction(f"an action is a dict with action_type, got {type(action).__name__}")
    action = _flatten_osworld(action)
    try:
        parsed = _ADAPTER.validate_python(action)
    except ValidationError as exc:
        problems = field_errors(exc, skip=1, empty="action_type")
        raise InvalidAction(f"{problems} (action types: {', '.join(ACTION_TYPES)})") from None
    for key in getattr(parsed, "keys", None) or [getattr(parsed, "key", None)]:
        if key is not None and key.lower() not in KEYBOARD_KEYS:
            raise InvalidAction(f"unknown key {key!r}; use pyautogui key names such as enter, ctrl, shift, a, f5")
    return parsed


def _flatten_osworld(action: dict[str, Any]) -> dict[str, Any]:
    """OSWorld's form, ``{"action_type": "CLICK", "parameters": {"x": 1, "y": 2}}``, as the flat one."""
    if "parameters" not in action:
        return action
    params = action["parameters"]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidAction(f"parameters must be a mapping of the action's fields, got {type(params).__name__}")
    extra = sorted(set(action) - {"action_type", "parameters"})
    if extra:
        raise InvalidAction(f"give the fields either flat or in parameters, not both (also given: {', '.join(extra)})")
    return {"action_type": action.get("action_type"), **params}


def osworld_form(action: Any) -> dict[str, Any]:
    """An action in OSWorld's computer_13 dict form: ``{"action_type": ..., "parameters": {...}}``."""
    parsed = parse_action(action)
    fields = parsed.model_dump(exclude={"action_type"}, exclude_none=True)
    return {"action_type": parsed.action_type, "parameters": fields}


def to_code(action: Any, scale: tuple[float, float] = (1.0, 1.0)) -> str | None:
    """The pyautogui code for a parsed action (None for the types that send nothing: WAIT, DONE, FAIL)."""
    return action.code(scale)


def to_wire(action: Any, scale: tuple[float, float] = (1.0, 1.0)) -> list[dict[str, Any]]:
    """A parsed action as OSWorld action dicts in screen pixels (what its control channel runs)."""
    return action.wire(scale)


def with_import(code: str) -> str:
    # A line of its own: code may start with a compound statement, which cannot follow "import ...; ".
    return code if code.lstrip().startswith("import pyautogui") else f"import pyautogui\n{code}"


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
    """The vocabulary as an LLM reads it, written from the models: one line per action type."""
    lines = [f"You control a desktop through a {width}x{height} screenshot (x to the right, y down, in pixels).",
             "Answer with one action as JSON, one of:"]
    for model in MODELS:
        example = json.dumps({"action_type": model.model_fields["action_type"].default, **model.example})
        lines.append(f"  {example:<70} {model.summary}")
    lines.append("Keys use pyautogui names (enter, tab, esc, ctrl, alt, shift, up, f5, a ...).")
    return "\n".join(lines)


def discrete_labels(types: list[str] | None = None) -> list[str]:
    """The choices a MultiDiscrete action type index names: each offered type once, SCROLL as SCROLL_UP and
    SCROLL_DOWN. ``types`` picks among the vocabulary (default: every type with a ``discrete`` filling)."""
    chosen = [model_for(t) for t in types] if types is not None else [m for m in MODELS if m.discrete]
    labels = []
    for model in chosen:
        name = model.model_fields["action_type"].default
        labels += [f"{name}_UP", f"{name}_DOWN"] if model.discrete == "scroll" else [name]
    return labels


def from_discrete(label: str, point: tuple[float, float], key: str, text: str) -> dict[str, Any]:
    """The action a discrete choice means: ``label`` from ``discrete_labels``, the grid point, the key
    (``"ctrl+s"`` is a HOTKEY) and the text the other indices chose."""
    name = label.removesuffix("_UP").removesuffix("_DOWN")
    model = model_for(name)
    how = model.discrete or ("none" if model.sends_nothing else None)
    if how == "point":
        return {"action_type": name, "x": point[0], "y": point[1]}
    if how == "scroll":
        return {"action_type": name, "dy": 3 if label.endswith("_UP") else -3}
    if how == "text":
        return {"action_type": name, "text": text}
    if how == "key":
        return {"action_type": "HOTKEY", "keys": key.split("+")} if "+" in key and len(key) > 1 else {
            "action_type": name, "key": key}
    if how == "none":
        return {"action_type": name}
    raise ValueError(f"{name} has no discrete form; choose from {discrete_labels()}")

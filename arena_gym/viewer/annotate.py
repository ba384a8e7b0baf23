"""Draw a step's action on its screenshot: the click point, the drag path, the typed text, the keys.

A recorded action is either a structured dict (coordinates in observation pixels, the screenshot's own
size) or pyautogui code (coordinates in screen pixels, scaled to the screenshot with the recorded
screen size). The pointer is followed across steps so a drag is drawn from where it started.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..actions import bare_type

POINTER_CALLS = {"click": "CLICK", "doubleClick": "DOUBLE_CLICK", "tripleClick": "CLICK", "rightClick": "RIGHT_CLICK",
                 "middleClick": "CLICK", "moveTo": "MOVE_TO", "dragTo": "DRAG_TO", "mouseDown": "MOUSE_DOWN",
                 "mouseUp": "MOUSE_UP"}
COLOURS = {"CLICK": (230, 40, 40), "DOUBLE_CLICK": (230, 120, 0), "RIGHT_CLICK": (150, 40, 200),
           "MOVE_TO": (40, 120, 230), "DRAG_TO": (0, 160, 90)}


@dataclass
class Mark:
    """What one action did, in screenshot pixels: where the pointer went, and what it typed or pressed."""

    kind: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)  # a path: start .. end
    text: str = ""
    keys: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        parts = [self.kind] if self.kind else []
        if self.text:
            parts.append(repr(self.text))
        if self.keys:
            parts.append("+".join(self.keys))
        return " ".join(parts)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError):
        return None


def _code_marks(code: str, scale: tuple[float, float], pointer: tuple[float, float] | None) -> list[Mark]:
    """The pyautogui calls of a code action, in order (what cannot be read statically is left out)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    marks: list[Mark] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
        if name in POINTER_CALLS:
            x, y = kwargs.get("x", args[0] if args else None), kwargs.get("y", args[1] if len(args) > 1 else None)
            if isinstance(x, (list, tuple)) and len(x) == 2:
                x, y = x
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                point = (x * scale[0], y * scale[1])
            elif pointer is not None and not args and "x" not in kwargs:
                point = pointer
            else:  # computed at run time: name the call, draw no point
                marks.append(Mark(POINTER_CALLS[name] + " (computed position)"))
                continue
            path = [pointer, point] if name in ("dragTo", "mouseUp") and pointer is not None else [point]
            marks.append(Mark(POINTER_CALLS[name], path))
            pointer = point
        elif name in ("write", "typewrite") and args and isinstance(args[0], str):
            marks.append(Mark("TYPING", text=args[0]))
        elif name in ("press", "keyDown", "keyUp") and args:
            keys = args[0] if isinstance(args[0], list) else [args[0]]
            marks.append(Mark(name.upper() if name != "press" else "PRESS", keys=[str(k) for k in keys]))
        elif name == "hotkey":
            marks.append(Mark("HOTKEY", keys=[str(a) for a in args]))
        elif name in ("scroll", "vscroll", "hscroll") and args:
            marks.append(Mark("SCROLL", [pointer] if pointer else [], text=f"{name} {args[0]}"))
    return _merge_drags(marks)


def _merge_drags(marks: list[Mark]) -> list[Mark]:
    """mouseDown, moves, mouseUp (how a structured DRAG_TO is sent) drawn as one drag path."""
    out: list[Mark] = []
    for mark in marks:
        downs = [i for i, m in enumerate(out) if m.kind == "MOUSE_DOWN"]
        if mark.kind != "MOUSE_UP" or not downs:
            out.append(mark)
            continue
        first = downs[-1]
        path = [m.points[-1] for m in out[first:] if m.points and m.kind in ("MOUSE_DOWN", "MOVE_TO")]
        if mark.points and (not path or path[-1] != mark.points[-1]):
            path.append(mark.points[-1])
        del out[first:]
        out.append(Mark("DRAG_TO", path))
    return out


def action_marks(action: Any, scale: tuple[float, float], pointer: tuple[float, float] | None) -> list[Mark]:
    """Marks for one recorded action: a structured dict, a JSON-able string (WAIT/DONE/FAIL) or code."""
    if isinstance(action, dict):
        kind = str(action.get("action_type", "?"))
        x, y = action.get("x"), action.get("y")
        point = (float(x), float(y)) if isinstance(x, (int, float)) and isinstance(y, (int, float)) else pointer
        if kind == "DRAG_TO" and point is not None:
            return [Mark(kind, [pointer, point] if pointer else [point])]
        if kind in COLOURS:
            return [Mark(kind, [point] if point else [])]
        if kind == "TYPING":
            return [Mark(kind, text=str(action.get("text", "")))]
        if kind in ("PRESS", "KEY_DOWN", "KEY_UP"):
            return [Mark(kind, keys=[str(action.get("key", ""))])]
        if kind == "HOTKEY":
            return [Mark(kind, keys=[str(k) for k in action.get("keys", [])])]
        if kind == "SCROLL":
            return [Mark(kind, [pointer] if pointer else [], text=f"dx={action.get('dx', 0)} dy={action.get('dy', 0)}")]
        return [Mark(kind)]
    if isinstance(action, str):
        bare = bare_type(action)
        if bare:
            return [Mark(bare)]
        return _code_marks(action, scale, pointer)
    return []


def final_pointer(marks: list[Mark], pointer: tuple[float, float] | None) -> tuple[float, float] | None:
    for mark in reversed(marks):
        if mark.points:
            return mark.points[-1]
    return pointer


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def draw(image: Image.Image, marks: list[Mark]) -> Image.Image:
    """A copy of ``image`` with ``marks`` drawn: rings at pointer targets, an arrowed line for a drag, and a
    label box (action, typed text, keys) at the top left."""
    out = image.convert("RGB")
    canvas = ImageDraw.Draw(out)
    radius = max(6, out.width // 80)
    for mark in marks:
        colour = COLOURS.get(mark.kind, (230, 40, 40))
        if len(mark.points) >= 2:
            canvas.line([tuple(p) for p in mark.points], fill=colour, width=max(2, radius // 3))
        for i, (x, y) in enumerate(mark.points):
            r = radius if i == len(mark.points) - 1 else radius // 2
            canvas.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=max(2, radius // 3))
            canvas.line([x - r - 4, y, x + r + 4, y], fill=colour, width=1)
            canvas.line([x, y - r - 4, x, y + r + 4], fill=colour, width=1)
    label = "; ".join(m.label for m in marks if m.label)
    if label:
        caption(out, label[:120], top=True)
    return out


def caption(image: Image.Image, text: str, top: bool = False) -> Image.Image:
    """Write ``text`` on a dark band across the top or bottom of ``image`` (in place)."""
    canvas = ImageDraw.Draw(image)
    font = _font(max(11, image.width // 60))
    box = canvas.textbbox((0, 0), text, font=font)
    height = box[3] - box[1] + 10
    y0 = 0 if top else image.height - height
    canvas.rectangle([0, y0, image.width, y0 + height], fill=(20, 20, 20))
    canvas.text((6, y0 + 4 - box[1]), text, fill=(255, 255, 255), font=font)
    return image

"""Make pyautogui type every printable ASCII character right on this X server's keymap.

pyautogui maps a character to the first keycode carrying its keysym and adds Shift by a fixed US
rule. On Xvfb's default keymap '<' sits unshifted on an extra key, so pyautogui sends Shift+that key
and types '>' (so ``wc -l < f`` becomes ``wc -l > f`` and empties f). Here each character gets the
keycode where its keysym sits at the level pyautogui's Shift rule expects.
"""

from __future__ import annotations

import logging
import string
from typing import Any

log = logging.getLogger(__name__)


PINNED = "0.9.54"


def pyautogui_x11() -> Any:
    """pyautogui's X11 module, checked to have what this package uses (its keymap table and its display
    connection): these are internals, so the version is pinned and a change is said plainly."""
    import pyautogui
    from pyautogui import _pyautogui_x11 as x11

    missing = [name for name in ("keyboardMapping", "_display") if not hasattr(x11, name)]
    if missing:
        raise RuntimeError(f"pyautogui {pyautogui.__version__} has no _pyautogui_x11.{', '.join(missing)}; "
                           f"arena-gym's server needs pyautogui=={PINNED} (pip install 'pyautogui=={PINNED}')")
    return x11


def fix_pyautogui_keymap() -> int:
    """Re-map characters whose keycode disagrees with pyautogui's Shift rule; returns how many changed."""
    import pyautogui
    from Xlib import XK

    x11 = pyautogui_x11()
    display = x11._display
    first = display.display.info.min_keycode
    count = display.display.info.max_keycode - first + 1
    table = display.get_keyboard_mapping(first, count)
    changed = 0
    for char in string.printable:
        if char.isspace():
            continue
        keysym = XK.string_to_keysym(_keysym_name(char))
        if not keysym:
            continue
        level = 1 if pyautogui.isShiftCharacter(char) else 0
        current = x11.keyboardMapping.get(char)
        if current is not None and _sym(table, current - first, level) == keysym:
            continue
        for offset, syms in enumerate(table):
            if len(syms) > level and syms[level] == keysym:
                x11.keyboardMapping[char] = first + offset
                changed += 1
                break
    if changed:
        log.info("re-mapped %d characters for this keymap", changed)
    return changed


def _sym(table: list, row: int, level: int) -> int:
    syms = table[row] if 0 <= row < len(table) else []
    return syms[level] if len(syms) > level else 0


_NAMES = {
    " ": "space", "!": "exclam", '"': "quotedbl", "#": "numbersign", "$": "dollar", "%": "percent",
    "&": "ampersand", "'": "apostrophe", "(": "parenleft", ")": "parenright", "*": "asterisk", "+": "plus",
    ",": "comma", "-": "minus", ".": "period", "/": "slash", ":": "colon", ";": "semicolon", "<": "less",
    "=": "equal", ">": "greater", "?": "question", "@": "at", "[": "bracketleft", "\\": "backslash",
    "]": "bracketright", "^": "asciicircum", "_": "underscore", "`": "grave", "{": "braceleft", "|": "bar",
    "}": "braceright", "~": "asciitilde",
}


def _keysym_name(char: str) -> str:
    return _NAMES.get(char, char)

"""The ``computer`` object that ``/execute_windows`` code sees, with WAA's method names, on X11.

WAA's Windows version sleeps 0.25 s after every call; here the server settles the screen after
the action instead, so nothing sleeps.
"""

from __future__ import annotations

import difflib
import logging
import shutil
from typing import Any

from .desktop import Desktop

log = logging.getLogger(__name__)


def _pyautogui() -> Any:
    import pyautogui

    pyautogui.PAUSE = 0
    pyautogui.FAILSAFE = False
    return pyautogui


class Mouse:
    def __init__(self, computer: Computer) -> None:
        self._c = computer
        self.current_id: int | None = None

    def move_id(self, id: int) -> None:  # noqa: A002 - WAA's parameter name
        x0, y0, x1, y1 = self._c.rects[id]
        wx, wy = self._c.window_rect[0], self._c.window_rect[1]
        sx, sy = self._c.scale
        _pyautogui().moveTo(wx + (x0 + x1) / 2 * sx, wy + (y0 + y1) / 2 * sy)
        self.current_id = id

    def move_abs(self, x: float, y: float) -> None:
        """``x``, ``y`` in [0, 1] of the window rect."""
        x0, y0, x1, y1 = self._c.window_rect
        _pyautogui().moveTo(x0 + x * (x1 - x0), y0 + y * (y1 - y0))

    def single_click(self) -> None:
        _pyautogui().click()

    def double_click(self) -> None:
        _pyautogui().doubleClick()

    def right_click(self) -> None:
        _pyautogui().rightClick()

    def scroll(self, dir: str = "down") -> None:  # noqa: A002 - WAA's parameter name
        if dir not in ("up", "down"):
            raise ValueError("direction must be 'up' or 'down'")
        # X11 scrolls in wheel clicks, not Windows' 120ths: 5 clicks ~ WAA's 400.
        _pyautogui().scroll(5 if dir == "up" else -5)

    def drag(self, screen_x: float, screen_y: float) -> None:
        _pyautogui().dragTo(screen_x, screen_y, button="left")


class Keyboard:
    def write(self, text: str) -> None:
        _pyautogui().write(text)

    def press(self, key: str) -> None:
        if len(key) > 1 and ("+" in key or "-" in key):
            keys = [k.strip() for k in key.split("+" if "+" in key else "-")]
            _pyautogui().hotkey(*keys)
        else:
            _pyautogui().press(key)


class Clipboard:
    def __init__(self, computer: Computer) -> None:
        self._c = computer
        self.clipboard_content: str | None = None

    def view_clipboard(self) -> str:
        return self._c.desktop.clipboard_get()

    def copy_text(self, text: str | None = None) -> None:
        if text is not None:
            self._c.desktop.clipboard_set(text)
        else:
            gui = _pyautogui()
            gui.doubleClick(*gui.position())
            gui.hotkey("alt" if self._c.swap_ctrl_alt else "ctrl", "c")
        self.clipboard_content = text

    def paste(self) -> None:
        _pyautogui().hotkey("alt" if self._c.swap_ctrl_alt else "ctrl", "v")


class OS:
    def __init__(self, computer: Computer) -> None:
        self._c = computer

    def is_installed(self, program: str) -> bool:
        return shutil.which(program) is not None

    def open_program(self, program: str) -> None:
        if not self.is_installed(program):
            print(f"error: Program {program} is not installed")
            return
        self._c.desktop.launch([program])

    def maximize_window(self, window: Any = None) -> None:
        self._c.desktop.maximize_active()


class WindowManager:
    def __init__(self, computer: Computer) -> None:
        self._c = computer
        self.applications: list[str] = []

    def find_open_applications(self) -> list[str]:
        self.applications = []
        for w in self._c.desktop.windows():
            if w.title and w.title not in self.applications:
                self.applications.append(w.title)
        return self.applications

    def switch_to_application(self, app_name: str) -> None:
        apps = self.find_open_applications()
        match = difflib.get_close_matches(" ".join(app_name.split()), apps, n=1)
        if not match:
            print(f"No open window found for the application '{app_name}'")
            return
        self._c.desktop.activate(match[0], strict=True)

    def __str__(self) -> str:
        return "\n".join(self.applications)


class Computer:
    """What WAA's Navi agent code calls: ``computer.mouse.move_id(3); computer.mouse.single_click()``."""

    def __init__(self, desktop: Desktop, screen_size: tuple[int, int]) -> None:
        self.desktop = desktop
        self.rects: list[list[float]] = []
        self.window_rect: list[float] = [0, 0, screen_size[0], screen_size[1]]
        self.scale: tuple[float, float] = (1.0, 1.0)
        self.swap_ctrl_alt = False
        self.mouse = Mouse(self)
        self.keyboard = Keyboard()
        self.clipboard = Clipboard(self)
        self.os = OS(self)
        self.window_manager = WindowManager(self)

    def update(
        self,
        rects: list[list[float]],
        window_rect: list[float],
        screenshot: Any = None,
        scale: tuple[float, float] = (1.0, 1.0),
        clipboard_content: str | None = None,
        swap_ctrl_alt: bool = False,
    ) -> None:
        """Set-of-Marks state from ``/update_computer`` (so ``mouse.move_id`` works)."""
        self.rects = [list(r) for r in rects or []]
        if window_rect:
            self.window_rect = list(window_rect)
        self.scale = tuple(scale) if scale else (1.0, 1.0)  # type: ignore[assignment]
        self.swap_ctrl_alt = bool(swap_ctrl_alt)
        self.clipboard.clipboard_content = clipboard_content

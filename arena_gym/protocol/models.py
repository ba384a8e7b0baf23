"""Typed shapes of what crosses the wire (requests we build, answers we parse)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, model_validator

ImageFormat = Literal["png", "jpeg", "webp"]

MEDIA_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class ExecResult(BaseModel):
    """Answer of ``/execute``: a finished process (a non-zero exit is still a success of the call)."""

    model_config = ConfigDict(extra="allow")
    status: str = "success"
    output: str = ""
    error: str = ""
    returncode: int = 0


class ScreenSize(BaseModel):
    width: int
    height: int


class DirectoryNode(BaseModel):
    """One node of ``/list_directory``'s tree; unreadable folders carry ``error`` instead of children."""

    model_config = ConfigDict(extra="allow")
    type: Literal["directory", "file"] | None = None
    name: str | None = None
    children: list[DirectoryNode] = Field(default_factory=list)
    error: str | None = None


# The quiet window when the caller leaves it to the settle (stable_ms=None). Measured from the last damage
# event the X server reports, a short window is exact (a click's or a key's drawing is over a median 0 ms
# after it starts; the readiness pings cover an app that was not scheduled); after Enter (which starts
# work: a command, a dialog, a search) a longer one. Frame comparison samples, so it needs a longer window.
DAMAGE_QUIET_MS = 25.0
DAMAGE_QUIET_AFTER_ENTER_MS = 200.0
FRAME_STABLE_MS = 120.0
FRAME_STABLE_AFTER_ENTER_MS = 250.0
_STARTS_WORK = re.compile(r"""['"](?:enter|return)['"]|\\n""", re.IGNORECASE)


def starts_work(code: str) -> bool:
    """Whether action code presses Enter (a key named enter/return, or a newline typed)."""
    return bool(_STARTS_WORK.search(code))


class SettleSpec(BaseModel):
    """Wait until the screen stops changing: ``stable_ms`` without change, at most ``timeout_s``.

    ``timeout_s == 0`` turns settling off (observe at once); ``fixed_wait_s`` adds a plain wait
    first, only when asked for. ``stable_ms=None`` (the default) leaves the quiet window to the
    settle: 25 ms after the last drawing where the server sees damage events (200 ms after Enter),
    120 ms where frames are compared (250 ms after Enter).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    timeout_s: float = Field(2.0, ge=0, le=120)
    stable_ms: float | None = Field(None, ge=0, le=10_000)
    interval_ms: float = Field(25.0, gt=0, le=1_000)
    fixed_wait_s: float = Field(0.0, ge=0, le=120)

    def quiet_ms(self, damage: bool, after_enter: bool = False) -> float:
        if self.stable_ms is not None:
            return self.stable_ms
        if damage:
            return DAMAGE_QUIET_AFTER_ENTER_MS if after_enter else DAMAGE_QUIET_MS
        return FRAME_STABLE_AFTER_ENTER_MS if after_enter else FRAME_STABLE_MS


class StepRequest(BaseModel):
    """The body of ``POST /arena/step``, as the client sends it and the server validates it."""

    model_config = ConfigDict(extra="forbid")
    command: str = Field("", max_length=1_000_000, description="agent code; empty: only settle and observe")
    settle: SettleSpec = Field(default_factory=lambda: SettleSpec(timeout_s=0.0), description="absent: no settle")
    format: Literal["png", "jpeg", "jpg", "webp", "rgb"] = Field(
        "png", description="rgb: the pixels unencoded (in the body, or in frame_file)")
    quality: int | None = Field(None, ge=1, le=100)
    frame_file: str | None = Field(
        None, max_length=64, description="a file of the client's in /dev/shm for the rgb pixels (frame_files.py)")

    @model_validator(mode="after")
    def _frame_file_is_rgb(self) -> StepRequest:
        if self.frame_file is not None and self.format != "rgb":
            raise ValueError("frame_file carries rgb pixels: send format rgb with it")
        return self


class WindowRequest(BaseModel):
    """``/setup/activate_window`` and ``/setup/close_window``: WAA's fields, plus a bounded wait."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    window_name: str = Field(max_length=4096)
    strict: bool = False
    by_class: bool = False
    timeout: float = Field(15.0, ge=0, le=120, description="seconds to wait for a starting app's window")


class Capabilities(BaseModel):
    """What a server offers beyond the stock protocol (discovered from ``/arena/capabilities``)."""

    model_config = ConfigDict(extra="allow")
    server: str = "stock"
    version: str = ""
    extensions: list[str] = Field(default_factory=list)
    screenshot_formats: list[ImageFormat] = Field(default_factory=lambda: list[ImageFormat](["png"]))

    @property
    def step(self) -> bool:
        return "step" in self.extensions

    @property
    def readiness(self) -> bool:
        """The server's settle waits for the app in front to be ready (not only a still screen)."""
        return "readiness" in self.extensions

    @property
    def frame_file(self) -> bool:
        """A step can put its frame's pixels into a client's file in /dev/shm (frame_files.py)."""
        return "frame_file" in self.extensions

    def supports_format(self, fmt: str) -> bool:
        return fmt in self.screenshot_formats


@dataclass
class Frame:
    """A decoded screenshot: the encoded bytes as they came, and the RGB array."""

    data: bytes
    format: str
    array: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.array.shape[1], self.array.shape[0]

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        """Decode fully (so a truncated image fails here, not later); raises ValueError."""
        if not data:
            raise ValueError("empty image body")
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt = (img.format or "").lower()
                img.load()
                rgb = img.convert("RGB") if img.mode != "RGB" else img
                array = np.asarray(rgb, dtype=np.uint8)
        except (OSError, UnidentifiedImageError, SyntaxError) as exc:
            raise ValueError(f"undecodable image ({len(data)} bytes): {exc}") from exc
        return cls(data=data, format=fmt, array=array)


@dataclass
class StepResult:
    """One action and the observation after it."""

    frame: Frame
    ok: bool = True
    error: str | None = None
    settle_ms: float = 0.0
    stable: bool = True
    round_trips: int = 1
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

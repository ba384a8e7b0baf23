"""In-process screen capture (MIT-SHM through mss, cursor included) and image encoding."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import io
import logging
import os
import threading
import time
from dataclasses import dataclass

from PIL import Image

from ..protocol.models import MEDIA_TYPES

log = logging.getLogger(__name__)

DEFAULT_QUALITY = {"jpeg": 80, "webp": 80}


@functools.cache
def keep_frame_memory() -> None:
    """Let freed frame buffers be reused instead of handed back to the system.

    A frame is a few MiB. glibc serves blocks that large with a fresh mmap and unmaps them when freed,
    so every grab, conversion and copy of a frame pays a page fault per 4 KiB touched: ~3 ms of a 4 MiB
    grab that otherwise takes 0.5 ms. Raising the mmap and trim thresholds keeps such blocks in the
    heap (a few frames' worth of memory stays with the process)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        mallopt = None
    if mallopt is None:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    if not (mallopt(m_mmap_threshold, 64 << 20) and mallopt(m_trim_threshold, 256 << 20)):
        log.debug("mallopt refused the frame-memory thresholds")


@dataclass
class Grab:
    """One raw frame: BGRA bytes as the X server gave them."""

    raw: bytes | bytearray
    width: int
    height: int

    def image(self) -> Image.Image:
        return Image.frombytes("RGB", (self.width, self.height), self.raw, "raw", "BGRX")

    def rgb(self) -> bytes:
        """The pixels as packed RGB rows, unencoded (what a client on this machine reads directly)."""
        return self.image().tobytes()


def encode(image: Image.Image, fmt: str = "png", quality: int | None = None) -> bytes:
    """Encode for the wire. PNG at level 1: lossless and ~5x faster than Pillow's default level."""
    buf = io.BytesIO()
    if fmt == "png":
        image.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        image.save(buf, "JPEG", quality=quality or DEFAULT_QUALITY["jpeg"])
    elif fmt == "webp":
        image.save(buf, "WEBP", quality=quality or DEFAULT_QUALITY["webp"], method=0)
    else:
        raise ValueError(f"unknown image format {fmt!r}: use one of {', '.join(MEDIA_TYPES)}")
    return buf.getvalue()


class DisplayDown(RuntimeError):
    """The X display cannot be reached (it died, or is restarting); the message names it."""


class Screen:
    """Grabs the X display this process runs on. mss handles are per thread (X connections are).

    A handle whose display went away is dropped, and the next grab connects afresh, so the server heals
    by itself when the display comes back."""

    def __init__(self, cursor: bool = True) -> None:
        self.cursor = cursor
        self._local = threading.local()
        self.display = os.environ.get("DISPLAY", "")
        keep_frame_memory()

    def _mss(self):  # noqa: ANN202 - mss' type lives in a platform module
        sct = getattr(self._local, "sct", None)
        if sct is None:
            import mss

            try:
                sct = mss.MSS(with_cursor=self.cursor)
            except Exception as exc:  # mss raises its own ScreenShotError, Xlib errors and OSError
                raise DisplayDown(f"the X display {self.display} is not reachable: {exc}") from None
            self._local.sct = sct
        return sct

    def _drop(self) -> None:
        sct = getattr(self._local, "sct", None)
        self._local.sct = None
        if sct is not None:
            with contextlib.suppress(Exception):
                sct.close()

    def grab(self) -> Grab:
        sct = self._mss()
        try:
            shot = sct.grab(sct.monitors[1])
        except Exception as exc:  # the connection died with the display
            self._drop()
            raise DisplayDown(f"the X display {self.display} went away: {exc or type(exc).__name__}") from None
        # The grab's own buffer (a fresh one each grab): copying it would cost a frame's worth of memory.
        return Grab(raw=shot.raw, width=shot.width, height=shot.height)

    def size(self) -> tuple[int, int]:
        try:
            mon = self._mss().monitors[1]
        except DisplayDown:
            raise
        except Exception as exc:
            self._drop()
            raise DisplayDown(f"the X display {self.display} went away: {exc}") from None
        return int(mon["width"]), int(mon["height"])

    def alive(self) -> str | None:
        """None when the display answers a fresh connection; else why not."""
        from Xlib import display as xdisplay

        try:
            conn = xdisplay.Display()
        except Exception as exc:  # DisplayConnectionError, ConnectionClosedError, OSError
            return f"the X display {self.display} is not reachable: {exc}"
        conn.close()
        return None

    def quiet(self, deadline: float, stable_ms: float, interval_ms: float) -> tuple[Grab, bool]:
        """Grab until the screen has not changed for ``stable_ms`` (True) or ``deadline`` passed (False)."""
        frame = self.grab()
        since = time.monotonic()
        while True:
            now = time.monotonic()
            if (now - since) * 1000 >= stable_ms:
                return frame, True
            if now >= deadline:
                return frame, False
            time.sleep(min(interval_ms / 1000, max(deadline - now, 0.0)))
            nxt = self.grab()
            if nxt.raw != frame.raw:
                since = time.monotonic()
            frame = nxt

"""Frames through a file in shared memory, for a client on the server's own machine.

A PNG costs an encode on the server and a decode in the client (10-25 ms a frame at 1280x800); where
nothing crosses a network that buys nothing. The client makes a file in ``/dev/shm`` and names it in
its step; the server writes the frame's RGB pixels there instead of encoding them, and its answer
carries only the frame's size. A server on another machine (behind a tunnel, the URL is loopback all
the same) has no such file: it refuses the step before acting, and the client goes back to PNG. The
pixels are the same either way (PNG is lossless), so an observation does not depend on the path.

One file serves one request at a time: a client takes a free one from its pool per step, so steps
in flight at once (threads, asyncio tasks) never read each other's frames.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
import threading
import weakref
from collections.abc import Iterator
from urllib.parse import urlsplit

import numpy as np

from ..loopback import is_loopback

log = logging.getLogger(__name__)

SHM_DIR = "/dev/shm"  # noqa: S108 - tmpfs by definition; names are random and checked on both sides
# arena-gym-frame-<pid of the client>-<32 hex digits>: the pid lets a later client remove the files of
# one that died without closing (a killed vector-env worker cannot run its finalizers).
NAME = re.compile(r"arena-gym-frame-(\d+)-[0-9a-f]{32}")
# The field's name in requests and in the server's refusal, so the client can tell that refusal apart.
FIELD = "frame_file"
MEDIA_TYPE = "application/x-arena-rgb"
SIZE_HEADER = "x-arena-frame-size"


class FrameFileError(ValueError):
    """The named frame file cannot be used here (another machine, wrong owner, a bad name)."""


def on_this_machine(url: str) -> bool:
    """Whether ``url`` names a loopback host: the only place a frame file can be shared (a tunnel's
    local end is loopback too; the server's refusal sorts that case out)."""
    return is_loopback(urlsplit(url).hostname or "")


# ---- the server's side
class FrameSink:
    """The client's frame file, opened by the server (before acting, so a refusal costs the client
    nothing). Only regular files of this process's user, named by the pattern, are opened."""

    def __init__(self, name: str) -> None:
        if not NAME.fullmatch(name):
            raise FrameFileError(f"{FIELD}: {name!r} is not a frame file name (arena-gym-frame-PID-32 hex digits)")
        try:
            self.fd: int | None = os.open(os.path.join(SHM_DIR, name), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise FrameFileError(f"{FIELD}: {name} is not on this server's machine ({exc.strerror}): "
                                 "send format png") from None
        info = os.fstat(self.fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            self.close()
            raise FrameFileError(f"{FIELD}: {name} is not a regular file of this server's user")

    def write(self, pixels: bytes) -> None:
        """Put a frame's RGB bytes at the start of the file."""
        assert self.fd is not None, "a frame sink is written once"
        if os.fstat(self.fd).st_size < len(pixels):
            os.ftruncate(self.fd, len(pixels))
        view = memoryview(pixels)
        while view:
            view = view[os.pwrite(self.fd, view, len(pixels) - len(view)):]

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


# ---- the client's side
class FrameFile:
    """One file in ``/dev/shm`` that the server fills; removed when closed (or garbage collected)."""

    def __init__(self) -> None:
        self.name = f"arena-gym-frame-{os.getpid()}-{secrets.token_hex(16)}"
        path = os.path.join(SHM_DIR, self.name)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._finalizer = weakref.finalize(self, _remove, self.fd, path)

    def read(self, width: int, height: int) -> np.ndarray:
        """The frame the server wrote, as a fresh (height, width, 3) array the caller owns."""
        array = np.empty((height, width, 3), dtype=np.uint8)
        want = array.nbytes
        got = os.preadv(self.fd, [array.data.cast("B")], 0)
        if got != want:
            raise FrameFileError(f"{FIELD}: the server wrote {got} of {want} bytes of a {width}x{height} frame")
        return array

    def close(self) -> None:
        self._finalizer()


def _remove(fd: int, path: str) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(path)


class FrameFiles:
    """A client's pool of frame files; ``enabled`` turns off for good once a server refuses them."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and os.path.isdir(SHM_DIR)
        self._free: list[FrameFile] = []
        self._lock = threading.Lock()
        if self.enabled:
            remove_orphans()

    @contextlib.contextmanager
    def lease(self) -> Iterator[FrameFile]:
        with self._lock:
            frame_file = self._free.pop() if self._free else None
        if frame_file is None:
            frame_file = FrameFile()
        try:
            yield frame_file
        finally:
            with self._lock:
                self._free.append(frame_file)

    def refused(self, reason: str) -> None:
        log.info("frames go as PNG: %s", reason)
        self.enabled = False
        self.close()

    def close(self) -> None:
        with self._lock:
            files, self._free = self._free, []
        for frame_file in files:
            frame_file.close()


def remove_orphans() -> None:
    """Remove frame files whose client process is gone (killed before it could remove them)."""
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return
    for name in names:
        match = NAME.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            path = os.path.join(SHM_DIR, name)
            if os.stat(path, follow_symlinks=False).st_uid == os.geteuid():
                os.unlink(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def refusal(message: str) -> bool:
    """Whether a server's 400 message is its refusal of a frame file."""
    return message.startswith(f"{FIELD}:")


def parse_size(value: str | None) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in (value or "").lower().split("x"))
    except ValueError:
        raise FrameFileError(f"the answer's {SIZE_HEADER} header is {value!r}, not WIDTHxHEIGHT") from None
    if not (0 < width <= 16384 and 0 < height <= 16384):
        raise FrameFileError(f"the answer's {SIZE_HEADER} header says an impossible size {width}x{height}")
    return width, height

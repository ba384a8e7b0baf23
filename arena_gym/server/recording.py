"""Screen recording as OSWorld's guest server offers it: ``POST /start_recording`` starts ffmpeg on the
server's display (x11grab, H.264, 30 fps), ``POST /end_recording`` stops it and answers the MP4 as an
attachment. The answers are OSWorld's: 400 when a recording is (or is not) in progress, 500 with ffmpeg's
own words when it fails.

Unlike OSWorld's server the video goes to a folder of this server's own (not a fixed name in /tmp that
another user could plant a link at), and a recording still running when the server stops is ended.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ..polling import PollTimeout, poll_until
from ..processes import terminate_tree
from .pools import slow

log = logging.getLogger(__name__)

START_S = 5.0  # ffmpeg opens the display and writes the file's header within this
STOP_S = 15.0  # OSWorld's grace for ffmpeg to finish the file after "q"


class Recorder:
    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self._proc: subprocess.Popen[bytes] | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="arena-gym-recording-"))
        self.path = self._folder / "recording.mp4"
        self._lock = threading.Lock()
        atexit.register(self.close)  # a recording still running when the server stops is ended

    def start(self) -> tuple[dict[str, str], int]:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return {"status": "error", "message": "Recording is already in progress."}, 400
            ffmpeg = shutil.which("ffmpeg")
            if ffmpeg is None:
                return {"status": "error", "message": "ffmpeg is not installed on the desktop's machine "
                        "(apt-get install ffmpeg)"}, 500
            self.path.unlink(missing_ok=True)
            width, height = self.size
            # -nostats: ffmpeg's progress lines would fill the stderr pipe nobody reads until the end.
            argv = [ffmpeg, "-y", "-nostats", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "1", "-video_size",
                    f"{width}x{height}", "-framerate", "30", "-i", os.environ.get("DISPLAY", ":0"), "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", "30", str(self.path)]
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, start_new_session=True)
            proc = self._proc
            try:
                # Running, and the file's header is written: the grab works.
                poll_until(lambda: proc.poll() is not None or (self.path.exists() and self.path.stat().st_size > 0),
                           START_S, interval=0.05, what="ffmpeg's first write")
            except PollTimeout:
                pass  # still running and not yet written: a slow start, not a failure
            if proc.poll() is not None:
                error = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                self._proc = None
                return {"status": "error", "message": "Failed to start recording. ffmpeg terminated unexpectedly. "
                        f"Error: {error}"}, 500
            return {"status": "success", "message": "Started recording successfully."}, 200

    def stop(self) -> tuple[dict[str, str] | None, int]:
        """(None, 200) when the video is at ``path``; else OSWorld's error answer."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None or proc.poll() is not None:
                return {"status": "error", "message": "No recording in progress to stop."}, 400
            try:
                _, stderr = proc.communicate(b"q\n", timeout=STOP_S)
            except subprocess.TimeoutExpired:
                terminate_tree(proc, grace_s=0)
                return {"status": "error", "message": "Recording process was unresponsive and had to be killed."}, 500
            if self.path.exists() and self.path.stat().st_size > 0:
                return None, 200
            return {"status": "error", "message": "Recording failed. The output file is missing or empty. ffmpeg "
                    f"stderr: {stderr.decode(errors='replace')[-2000:]}"}, 500

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                terminate_tree(self._proc, grace_s=2)
                self._proc = None
        shutil.rmtree(self._folder, ignore_errors=True)


def routes(recorder: Recorder) -> list[tuple[str, object, list[str]]]:
    async def start(request: Request) -> Response:
        answer, status = await slow(recorder.start)
        return JSONResponse(answer, status)

    async def end(request: Request) -> Response:
        answer, status = await slow(recorder.stop)
        if answer is not None:
            return JSONResponse(answer, status)
        return FileResponse(recorder.path, media_type="video/mp4", filename="recording.mp4")

    return [("/start_recording", start, ["POST"]), ("/end_recording", end, ["POST"])]

"""Screen recording as OSWorld's client asks for it (``/start_recording``, ``/end_recording``): a real
ffmpeg on the session's desktop, the MP4 read back with ffprobe."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

pytestmark = [
    pytest.mark.osworld,  # the heavy tier with OSWorld's other tests
    pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                       reason="ffmpeg is not installed (bash scripts/setup.sh installs it)"),
]


def _post(arena, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {arena.token}"} if arena.token else {}
    return httpx.post(arena.url + path, headers=headers, timeout=60)


def test_a_recording_is_an_mp4_of_the_screen(arena, tmp_path):
    started = _post(arena, "/start_recording")
    assert started.status_code == 200 and started.json()["status"] == "success"
    again = _post(arena, "/start_recording")
    assert again.status_code == 400 and again.json()["message"] == "Recording is already in progress."
    ended = _post(arena, "/end_recording")
    assert ended.status_code == 200 and ended.headers["content-type"] == "video/mp4"
    assert "attachment" in ended.headers["content-disposition"]
    video = tmp_path / "recording.mp4"
    video.write_bytes(ended.content)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
                           capture_output=True, text=True, check=True)
    stream = json.loads(probe.stdout)["streams"][0]
    assert stream["codec_name"] == "h264" and (stream["width"], stream["height"]) == arena.size


def test_ending_without_a_recording_is_osworlds_400(arena):
    ended = _post(arena, "/end_recording")
    assert ended.status_code == 400
    assert ended.json() == {"status": "error", "message": "No recording in progress to stop."}


def test_osworlds_client_records(arena, tmp_path):
    python = pytest.importorskip("desktop_env.controllers.python", reason="desktop-env 1.0.2 is installed by "
                                 "bash scripts/setup.sh (pip --no-deps)")
    host, port = arena.url.removeprefix("http://").split(":")
    controller = python.PythonController(vm_ip=host, server_port=int(port))
    controller.start_recording()
    controller.end_recording(str(tmp_path / "video.mp4"))
    assert (tmp_path / "video.mp4").read_bytes()[4:8] == b"ftyp"  # an MP4

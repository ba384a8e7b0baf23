"""Frames through /dev/shm for a client on the server's machine: the same pixels as PNG, no encoding;
a server that cannot open the file refuses before acting and the client goes back to PNG."""

from __future__ import annotations

import os

import numpy as np
import pytest

from arena_gym.protocol import ArenaClient, SettleSpec, frame_files
from arena_gym.protocol.frame_files import FrameFile, FrameFileError, FrameSink

NOW = SettleSpec(timeout_s=0)


def test_a_frame_file_round_trips_pixels_and_is_removed_on_close():
    frame_file = FrameFile()
    path = os.path.join(frame_files.SHM_DIR, frame_file.name)
    pixels = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    sink = FrameSink(frame_file.name)
    sink.write(pixels.tobytes())
    sink.close()
    assert np.array_equal(frame_file.read(5, 7), pixels)
    with pytest.raises(FrameFileError, match="wrote 105 of 420 bytes"):
        frame_file.read(10, 14)
    frame_file.close()
    assert not os.path.exists(path)


@pytest.mark.parametrize("name, why", [
    ("../etc/passwd", "not a frame file name"),
    ("arena-gym-frame-" + "0" * 31, "not a frame file name"),
    ("arena-gym-frame-1-" + "0" * 32, "not on this server's machine"),
])
def test_the_server_opens_only_frame_files_that_exist_here(name, why):
    with pytest.raises(FrameFileError, match=why) as caught:
        FrameSink(name)
    assert frame_files.refusal(str(caught.value))


def test_a_symlink_in_place_of_a_frame_file_is_not_followed(tmp_path):
    target = tmp_path / "victim"
    target.write_bytes(b"keep")
    name = "arena-gym-frame-1-" + "ab" * 16
    link = os.path.join(frame_files.SHM_DIR, name)
    os.symlink(target, link)
    try:
        with pytest.raises(FrameFileError, match="not on this server's machine"):
            FrameSink(name)
    finally:
        os.unlink(link)
    assert target.read_bytes() == b"keep"


def test_files_of_a_client_that_died_are_removed_by_the_next_one():
    import subprocess
    import sys

    # A client process that makes a frame file and is killed before it can remove it.
    code = ("import os, signal; from arena_gym.protocol.frame_files import FrameFile; f = FrameFile(); "
            "print(f.name, flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    orphan = os.path.join(frame_files.SHM_DIR, done.stdout.strip())
    assert os.path.exists(orphan)
    mine = FrameFile()
    frame_files.FrameFiles(enabled=True)  # a new client sweeps
    assert not os.path.exists(orphan)
    assert os.path.exists(os.path.join(frame_files.SHM_DIR, mine.name))  # a live client's file stays
    mine.close()


def test_loopback_is_where_frames_can_be_shared():
    assert frame_files.on_this_machine("http://127.0.0.1:5000")
    assert frame_files.on_this_machine("http://localhost:5000")
    assert frame_files.on_this_machine("http://[::1]:5000")
    assert not frame_files.on_this_machine("http://10.0.0.5:5000")
    assert not frame_files.on_this_machine("http://vm.example:5000")


def test_a_local_client_gets_the_png_pixels_unencoded(arena):
    with ArenaClient(arena.url) as shared, ArenaClient(arena.url, shared_frames=False) as png:
        assert shared.discover().frame_file
        raw = shared.step(None, NOW)
        encoded = png.step(None, NOW)
        assert raw.frame.format == "rgb" and encoded.frame.format == "png"
        assert raw.frame.size == arena.size and raw.frame.array.flags.owndata
        # Nothing moves on the idle desktop between the two: the pixels are the same.
        assert np.array_equal(raw.frame.array, encoded.frame.array)
        # An explicit lossy format is what the caller gets.
        assert shared.step(None, NOW, "jpeg").frame.format == "jpeg"


def test_the_frame_never_predates_the_action(arena):
    with ArenaClient(arena.url) as vm:
        vm.step("import pyautogui; pyautogui.moveTo(100, 100)", NOW)
        before = vm.step(None, NOW).frame.array.copy()
        after = vm.step("import pyautogui; pyautogui.moveTo(600, 500)", NOW).frame.array
        # The cursor is in the frame: it left (100, 100) and is drawn at (600, 500).
        assert not np.array_equal(before[95:125, 95:125], after[95:125, 95:125])
        assert not np.array_equal(before[495:525, 595:625], after[495:525, 595:625])


def test_a_server_elsewhere_refuses_before_acting_and_the_client_goes_back_to_png(arena, monkeypatch, tmp_path):
    # "Elsewhere": the client's frame files live where the server's /dev/shm is not (as behind a tunnel).
    monkeypatch.setattr(frame_files, "SHM_DIR", str(tmp_path))
    with ArenaClient(arena.url) as vm:
        vm.step("import pyautogui; pyautogui.moveTo(300, 300)", NOW)
        result = vm.step("import pyautogui; pyautogui.moveRel(7, 0)", NOW)
        assert result.ok and result.frame.format == "png"
        assert vm.cursor_position() == [307, 300]  # the action ran exactly once
        assert vm.step(None, NOW).frame.format == "png"  # and it stays PNG, without asking again
    assert list(tmp_path.iterdir()) == []  # the refused files were removed


def test_frames_of_concurrent_steps_do_not_mix(arena):
    import concurrent.futures

    with ArenaClient(arena.url) as vm:
        vm.discover()

        def move(x: int) -> tuple[int, np.ndarray]:
            return x, vm.step(f"import pyautogui; pyautogui.moveTo({x}, 400)", NOW).frame.array

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(move, [200, 400, 600, 800] * 3))
        plain = vm.step("import pyautogui; pyautogui.moveTo(10, 10)", NOW).frame.array
        for x, frame in results:
            # Each frame shows its own step's cursor, wherever the others put theirs.
            assert not np.array_equal(frame[395:425, x - 5:x + 25], plain[395:425, x - 5:x + 25]), x

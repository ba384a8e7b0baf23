"""The desktop server on a real Xvfb desktop, driven the way a stock WAA client drives a VM.

Requests here are built by hand in the stock shapes (spec section 1.3), not through our client, so
an unmodified WAA client is what is being served.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from http.client import HTTPConnection
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from arena_gym.protocol import ArenaClient, AuthError, SettleSpec
from arena_gym.server.serve import BindRefused, bind

from .support.polling import wait_for
from .support.sockets import connections

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def http(arena):
    with httpx.Client(base_url=arena.url, timeout=30) as client:
        yield client


def window_titles(arena) -> list[str]:
    out = subprocess.run(["wmctrl", "-l"], env=arena.env, capture_output=True, text=True, check=True).stdout
    return [line.split(None, 3)[3] if len(line.split(None, 3)) == 4 else "" for line in out.splitlines()]


def test_probe_is_stock(http):
    r = http.get("/probe")
    assert r.status_code == 200
    answer = r.json()
    assert {k: answer[k] for k in ("status", "message")} == {"status": "Probe successful",
                                                             "message": "Service is operational"}
    assert answer["display"].startswith(":")  # an addition stock clients ignore: which display it serves


def test_screenshot_is_a_png_of_the_display_size(http, arena):
    r = http.get("/screenshot")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(r.content)) as img:
        img.load()
        assert img.format == "PNG"
        assert img.size == arena.size


@pytest.mark.parametrize(("fmt", "pil_name", "media"), [("jpeg", "JPEG", "image/jpeg"), ("webp", "WEBP", "image/webp")])
def test_screenshot_formats_on_request(http, arena, fmt, pil_name, media):
    r = http.get("/screenshot", params={"format": fmt, "quality": 70})
    assert r.headers["content-type"] == media
    with Image.open(io.BytesIO(r.content)) as img:
        assert img.format == pil_name
        assert img.size == arena.size


def test_screenshot_includes_the_cursor(http):
    # Park the pointer over a flat area of the root window, then compare the region with and without it.
    for x, y in ((1200, 760), (1100, 700)):
        r = http.post("/execute_windows", json={"command": f"import pyautogui; pyautogui.moveTo({x}, {y})"})
        assert r.status_code == 200
    shot = Image.open(io.BytesIO(http.get("/screenshot").content)).convert("RGB")
    near = np.asarray(shot.crop((1100, 700, 1112, 712))).reshape(-1, 3)
    far = np.asarray(shot.crop((1200, 760, 1212, 772))).reshape(-1, 3)
    assert len(np.unique(near, axis=0)) > 1, "no cursor drawn where the pointer is"
    assert len(np.unique(far, axis=0)) == 1, "the area the pointer left should be flat"


def test_typing_and_clicking_change_a_real_app(http, arena, tmp_path):
    note = arena.write("note.txt", "")
    arena.launch("mousepad", str(note))
    wait_for(lambda: any("note.txt" in t for t in window_titles(arena)), timeout=30, what="mousepad window")
    r = http.post("/setup/activate_window", json={"window_name": "note.txt", "strict": False})
    assert r.status_code == 200, r.text
    # Click into the editor, type, save: all through the stock in-process exec route.
    code = (
        "import pyautogui\n"
        "computer.mouse.move_abs(0.5, 0.5)\n"
        "computer.mouse.single_click()\n"
        "pyautogui.write('hello from arena-gym')\n"
        "computer.keyboard.press('ctrl+s')\n"
    )
    r = http.post("/execute_windows", json={"command": code})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "success"}
    wait_for(lambda: note.read_text() == "hello from arena-gym", timeout=15, what="saved text")
    # Read back through the stock file route too.
    r = http.post("/file", data={"file_path": str(note)})
    assert r.content == b"hello from arena-gym"
    # The clipboard: select all and copy in the real editor, read it back through the computer object.
    r = http.post("/execute_windows", json={"command": "computer.keyboard.press('ctrl+a'); computer.keyboard.press('ctrl+c')"})
    assert r.status_code == 200
    clip = subprocess.run(["xclip", "-selection", "clipboard", "-o"], env=arena.env, capture_output=True, text=True)
    wait_for(
        lambda: subprocess.run(["xclip", "-selection", "clipboard", "-o"], env=arena.env,
                               capture_output=True, text=True).stdout == "hello from arena-gym",
        timeout=10, what=f"clipboard (first read {clip.stdout!r})",
    )
    http.post("/setup/close_window", json={"window_name": "note.txt"})
    wait_for(lambda: not any("note.txt" in t for t in window_titles(arena)), timeout=15, what="window closed")


def test_every_printable_character_is_typed_as_itself(http, arena):
    """pyautogui is pinned and its X11 keymap table corrected (server/keyboard.py): on Xvfb's keymap '<'
    once came out as '>' and '|' as another key. Every printable ASCII character goes through the
    agent's own route and is read back from the saved file."""
    import string

    text = "".join(c for c in string.printable if not c.isspace() or c == " ")
    note = arena.write("typed.txt", "")
    arena.launch("mousepad", str(note))
    wait_for(lambda: any("typed.txt" in t for t in window_titles(arena)), timeout=30, what="mousepad window")
    assert http.post("/setup/activate_window", json={"window_name": "typed.txt"}).status_code == 200
    code = f"import pyautogui\npyautogui.write({text!r})\npyautogui.hotkey('ctrl', 's')\n"
    assert http.post("/execute_windows", json={"command": code}).json() == {"status": "success"}
    wait_for(lambda: note.read_text() == text, timeout=15, what=f"saved text (want {text!r})")
    http.post("/setup/close_window", json={"window_name": "typed.txt"})
    wait_for(lambda: not any("typed.txt" in t for t in window_titles(arena)), timeout=15, what="window closed")


def test_stock_python_c_starts_light_and_keeps_what_agent_code_imports(http):
    # pyautogui in the interpreter /execute starts leaves OpenCV and numpy unloaded (the cost of a stock
    # client's every action); code that imports them itself still gets them.
    check = ("import sys, pyautogui, pyscreeze; pyautogui.PAUSE = 0; pyautogui.click(5, 5); "
             "print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules), pyscreeze._useOpenCV)")
    r = http.post("/execute", json={"command": ["python", "-c", check]})
    assert r.json()["output"].strip() == "[] False", r.json()
    if importlib.util.find_spec("cv2") is None:
        pytest.skip("OpenCV is not installed here (the media extra): the light path had nothing to leave out")
    own = "import cv2, numpy; print(cv2.__name__, int(numpy.ones(3).sum()))"
    assert http.post("/execute", json={"command": ["python", "-c", own]}).json()["output"].strip() == "cv2 3"


def test_execute_windows_reports_errors_in_stock_shape(http):
    r = http.post("/execute_windows", json={"command": "raise ValueError('bad action')"})
    assert r.status_code == 500
    assert r.json() == {"status": "error", "message": "ValueError: bad action"}
    # The stock rule: printed text containing "error" fails the call with the printed text.
    r = http.post("/execute_windows", json={"command": "print('Error: no window')"})
    assert r.status_code == 500
    assert r.json()["message"].strip() == "Error: no window"


def test_execute_like_the_waa_client(http, arena):
    # WAA's execute_python_command body, byte for byte in shape.
    cmd = "import pyautogui; import time; pyautogui.FAILSAFE = False; print(pyautogui.size())"
    r = http.post("/execute", json={"command": [sys.executable, "-c", cmd], "shell": False})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success" and body["returncode"] == 0
    assert "1280" in body["output"] and "800" in body["output"]
    # A string without shell is split POSIX-style; a failing process is still a 200.
    r = http.post("/execute", json={"command": "sh -c 'echo out; echo err >&2; exit 3'"})
    assert r.json() == {"status": "success", "output": "out\n", "error": "err\n", "returncode": 3}
    # A missing program is a 500 in the stock shape.
    r = http.post("/execute", json={"command": ["/no/such/program"]})
    assert r.status_code == 500 and r.json()["status"] == "error"


def test_upload_then_file_round_trips_bytes_exactly(http, arena):
    payload = bytes(range(256)) * 4096 + os.urandom(12345)
    target = arena.home / "Downloads" / "blob.bin"
    r = http.post("/setup/upload", data={"file_path": str(target)}, files={"file_data": ("blob.bin", payload)})
    assert r.status_code == 200 and r.text == "File Uploaded"
    assert target.read_bytes() == payload
    r = http.post("/file", data={"file_path": str(target)})
    assert r.status_code == 200
    assert r.content == payload
    # ~ expands on the server, as stock does.
    r = http.post("/file", data={"file_path": "~/Downloads/blob.bin"})
    assert r.content == payload


def test_file_errors_are_stock(http):
    assert http.post("/file", data={}).json() == {"error": "file_path is required"}
    r = http.post("/file", data={"file_path": "/no/such/file"})
    assert r.status_code == 404 and r.json() == {"error": "File not found"}


def test_paths_listing_and_existence(http, arena):
    desktop = http.post("/desktop_path").json()["desktop_path"]
    assert Path(desktop) == arena.home / "Desktop"
    (Path(desktop) / "a.txt").write_text("x")
    (Path(desktop) / "sub").mkdir(exist_ok=True)
    assert http.post("/file_exists", json={"file_name": "a.txt", "path": desktop}).status_code == 200
    assert http.post("/file_exists", json={"file_name": "b.txt", "path": desktop}).status_code == 400
    assert http.post("/folder_exists", json={"folder_name": "sub", "path": desktop}).status_code == 200
    assert http.post("/folder_exists", json={"folder_name": "a.txt", "path": desktop}).status_code == 400
    tree = http.post("/list_directory", json={"path": desktop}).json()["directory_tree"]
    names = {c["name"]: c["type"] for c in tree["children"]}
    assert names["a.txt"] == "file" and names["sub"] == "directory"
    assert http.post("/screen_size").json() == {"width": 1280, "height": 800}


def test_unknown_routes_and_bad_bodies_get_stock_errors(http):
    r = http.get("/no/such/route")
    assert r.status_code == 500
    assert r.json()["status"] == "error" and "404 Not Found" in r.json()["message"]
    r = http.get("/execute")  # wrong method
    assert r.status_code == 500 and "405 Method Not Allowed" in r.json()["message"]
    r = http.post("/execute", content=b"command=ls", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "415 Unsupported Media Type" in r.json()["message"]
    r = http.post("/execute", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 500 and "400 Bad Request" in r.json()["message"]
    r = http.post("/execute_windows", json={"code": "x"})
    assert r.status_code == 500 and r.json() == {"status": "error", "message": "'command'"}
    # The server keeps serving after all of that.
    assert http.get("/probe").status_code == 200


def test_step_extension_is_discovered_and_takes_one_round_trip(arena):
    with ArenaClient(arena.url) as vm:
        caps = vm.discover()
        assert caps.server == "arena-gym" and caps.step and caps.supports_format("jpeg")
        result = vm.step("import pyautogui; pyautogui.moveTo(640, 400)", SettleSpec(timeout_s=2, stable_ms=50), "jpeg")
        assert result.round_trips == 1 and result.ok
        assert result.frame.format == "jpeg" and result.frame.size == arena.size
        failed = vm.step("undefined_name", None)
        assert not failed.ok and "NameError" in (failed.error or "")


def test_activate_window_not_found_is_404(http):
    r = http.post("/setup/activate_window", json={"window_name": "no such window", "timeout": 0.5})
    assert r.status_code == 404 and "not found" in r.text


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: its windows and sockets are gone)."""
    try:
        return b") Z" in Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True


def _note_windows(arena, name: str) -> list[tuple[str, int]]:
    out = subprocess.run(["wmctrl", "-lp"], env=arena.env, capture_output=True, text=True, check=True).stdout
    return [(line.split()[0], int(line.split()[2])) for line in out.splitlines() if name in line]


def test_close_all_waits_until_single_instance_apps_are_gone(desktop_programs):
    """mousepad is single-instance: an ``open`` handed to an old instance that is still closing dies
    with it. close_all must return only once the old program is gone, so the next open gets a window."""
    from arena_gym.arena import LocalArena

    with LocalArena(apps=[], size=(800, 600)) as arena, httpx.Client(base_url=arena.url, timeout=60) as http:
        note = arena.write("Documents/again.txt", "")
        seen: set[int] = set()
        for _ in range(3):
            assert http.post("/setup/open_file", json={"path": str(note)}).status_code == 200
            ((_, pid),) = _note_windows(arena, "again.txt")  # exactly one window, from a new program
            assert pid not in seen and os.path.exists(f"/proc/{pid}")
            seen.add(pid)
            assert http.post("/setup/close_all", json={}).status_code == 200
            assert _note_windows(arena, "again.txt") == []
            assert _gone(pid)


def test_listing_windows_while_they_come_and_go_never_fails(desktop_programs, monkeypatch):
    """Windows close while a reset lists them; one that vanishes mid-listing is skipped, not an error."""
    from arena_gym.arena import LocalArena
    from arena_gym.server.desktop import Desktop

    with LocalArena(apps=[], size=(640, 480)) as arena:
        monkeypatch.setenv("DISPLAY", arena.display)
        desktop = Desktop()
        churn = subprocess.Popen(["bash", "-c", "for i in $(seq 80); do xterm -e true & sleep 0.02; done; wait"],
                                 env=arena.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listings, most = 0, 0
        try:
            while churn.poll() is None or listings < 20:
                windows = desktop.windows()  # raised DesktopError (BadWindow) through wmctrl
                assert all(w.id.startswith("0x") for w in windows)
                most = max(most, sum(w.wm_class == "xterm.XTerm" for w in windows))
                listings += 1
        finally:
            churn.kill()
            churn.wait()
        assert most > 0, "no xterm window came and went: the race was not exercised"


def test_close_all_ends_a_program_that_asks_instead_of_closing(desktop_programs):
    from arena_gym.arena import LocalArena

    with LocalArena(apps=[], size=(800, 600)) as arena, httpx.Client(base_url=arena.url, timeout=60) as http:
        note = arena.write("Documents/dirty.txt", "")
        assert http.post("/setup/open_file", json={"path": str(note)}).status_code == 200
        ((_, pid),) = _note_windows(arena, "dirty.txt")
        http.post("/setup/activate_window", json={"window_name": "dirty.txt"})
        code = "import pyautogui; pyautogui.write('unsaved')"
        assert http.post("/execute_windows", json={"command": code}).status_code == 200
        wait_for(lambda: any(t.startswith("*") for t in window_titles(arena)), what="the editor marks a change")
        assert http.post("/setup/close_all", json={}).status_code == 200
        assert _gone(pid)
        assert [t for t in window_titles(arena) if t] == []


def test_accessibility_tree_reads_a_real_app(desktop_programs):
    """GET /accessibility (the stock WAA call) returns AT-SPI's tree: the editor's frame by its title and
    the document's text, read from the app itself."""
    pytest.importorskip("pyatspi", reason="AT-SPI's Python bindings come from Debian (scripts/setup.sh)")
    import xml.etree.ElementTree as ET

    from arena_gym.arena import LocalArena

    with LocalArena(apps=[], size=(800, 600)) as arena, httpx.Client(base_url=arena.url, timeout=60) as http:
        note = arena.write("Documents/a11y.txt", "read me through AT-SPI")
        assert http.post("/setup/open_file", json={"path": str(note)}).status_code == 200

        def tree() -> ET.Element | None:
            r = http.get("/accessibility", params={"backend": "uia"})
            assert r.status_code == 200
            root = ET.fromstring(r.json()["AT"])
            frames = [e for e in root.iter() if "a11y.txt" in e.get("name", "")]
            texts = [e for e in root.iter() if (e.text or "").startswith("read me through AT-SPI")]
            return root if frames and texts else None

        root = wait_for(tree, timeout=30, interval=0.5, what="the editor in the accessibility tree")
        assert root.tag == "desktop-frame"
        frame = next(e for e in root.iter() if "a11y.txt" in e.get("name", ""))
        assert frame.get("{https://accessibility.ubuntu.example.org/ns/component}size")  # OSWorld's namespaces


def _serve(token: str | None, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    argv = [sys.executable, "-m", "arena_gym.server", "--port", "0"]
    if token:
        argv += ["--token", token]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    url = json.loads(proc.stdout.readline())["url"]
    return proc, url


def test_token_is_required_when_set(arena):
    env = {**arena.env, "ARENA_TOKEN": ""}
    proc, url = _serve("s3cret", env)
    try:
        assert httpx.get(url + "/probe").status_code == 401
        assert httpx.get(url + "/probe", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(url + "/probe", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert httpx.get(url + "/probe", headers={"X-Arena-Token": "s3cret"}).status_code == 200
        with ArenaClient(url, dialect="waa") as vm, pytest.raises(AuthError):
            vm.probe()
        with ArenaClient(url, dialect="waa", token="s3cret") as vm:
            assert vm.probe()["status"] == "Probe successful"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_binding_off_loopback_needs_a_token():
    with pytest.raises(BindRefused, match="needs a token"):
        bind("0.0.0.0", 0, None)


def test_answers_are_sent_without_nagle_delay(arena):
    """Keep-alive answers go out at once: the server's end of the connection has TCP_NODELAY (without it
    every small answer waits ~40 ms for a delayed ACK; bench/bench_bridges.py shows the figure)."""
    port = int(arena.url.rsplit(":", 1)[1])
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/probe")
    conn.getresponse().read()
    mine = conn.sock.getsockname()[1]
    (server_end,) = [c for c in connections(port) if c.local_port == port and c.remote_port == mine]
    assert server_end.pid != os.getpid() and server_end.nodelay()
    conn.close()


def test_the_osworld_dialect_runs_code_that_starts_with_a_compound_statement(arena):
    """OSWorld's path (a fresh interpreter per action through /execute) with a loop as the first line."""
    from arena_gym.protocol import ArenaClient

    with ArenaClient(arena.url, dialect="osworld") as vm:
        vm.execute_windows("for x in (11, 13):\n    pyautogui.moveTo(x, 17)")
        assert tuple(vm.cursor_position()) == (13, 17)


def test_an_upload_makes_the_folders_it_needs(arena):
    """As OSWorld's server does: tasks download into folders nothing made yet (a browser profile's)."""
    with ArenaClient(arena.url, token=arena.token) as vm:
        vm.upload(str(arena.home / "new" / "deeper" / "file.bin"), b"\x00data")
        assert (arena.home / "new" / "deeper" / "file.bin").read_bytes() == b"\x00data"
        assert vm.execute(["sh", "-c", f"echo more >> '{arena.home / 'new' / 'deeper' / 'other'}'"]).returncode == 0

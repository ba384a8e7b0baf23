"""Neither server serves what a web page could send, and bad input cannot hang them.

Real servers on loopback with real browser-shaped headers: a "simple" cross-origin POST (text/plain,
an Origin), a rebound Host, Sec-Fetch-Site, a multipart upload from a page; and the stock requests
that must keep working (JSON, WAA's form /file, a tunnel's remapped port, multipart uploads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from .support.evaluate import evaluate_server
from .support.polling import wait_for

pytestmark = pytest.mark.desktop

EVIL = {"Origin": "http://evil.example"}


@pytest.fixture
def mark():
    path = Path(tempfile.mktemp(prefix="xorigin-"))
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def desktop(arena):
    with httpx.Client(base_url=arena.url, timeout=120, headers=arena.auth_headers()) as http:
        yield http


@pytest.mark.parametrize("headers", [
    {**EVIL, "Content-Type": "text/plain;charset=UTF-8"},
    {**EVIL, "Content-Type": "text/plain;charset=UTF-8;x=json"},
    {**EVIL, "Content-Type": "application/json"},
    {"Content-Type": "text/plain;charset=UTF-8;x=json"},
    {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
    {"Content-Type": "application/json", "Host": "rebind.evil.example"},
])
def test_the_desktop_server_refuses_browser_shaped_requests(desktop, mark, headers):
    body = json.dumps({"command": f"touch {mark}", "shell": True})
    r = desktop.post("/execute", content=body, headers=headers)
    assert r.status_code in (403, 415) and r.json()["status"] == "error"
    assert not mark.exists()


def test_a_rebound_host_cannot_read_the_screen(desktop):
    r = desktop.get("/screenshot", headers={"Host": "rebind.evil.example"})
    assert r.status_code == 403 and "--allowed-host" in r.json()["message"]


def test_a_page_cannot_plant_a_file_with_a_multipart_upload(desktop, mark):
    files = {"file_data": ("x", b"planted", "application/octet-stream")}
    r = desktop.post("/setup/upload", data={"file_path": str(mark)}, files=files, headers=EVIL)
    assert r.status_code == 403 and not mark.exists()


def test_stock_requests_are_still_served(desktop, mark):
    assert desktop.get("/screenshot").status_code == 200
    assert desktop.post("/execute", json={"command": ["true"]}).status_code == 200
    assert desktop.get("/screenshot", headers={"Host": "127.0.0.1:6000"}).status_code == 200  # a tunnel's port
    assert desktop.get("/probe", headers={"Host": "localhost"}).status_code == 200
    assert desktop.get("/probe", headers={"Host": "[::1]:5000"}).status_code == 200
    mark.write_text("x")
    assert desktop.post("/file", data={"file_path": str(mark)}).content == b"x"  # WAA's client posts a form
    files = {"file_data": ("y", b"uploaded", "application/octet-stream")}
    assert desktop.post("/setup/upload", data={"file_path": str(mark)}, files=files).status_code == 200
    assert mark.read_bytes() == b"uploaded"
    assert desktop.post("/screen_size").status_code == 200  # a POST without a body needs no media type


def test_the_evaluate_server_refuses_browser_shaped_requests(arena, mark):
    with evaluate_server(arena.url, "--vm-token", arena.token or "", "--platform", "linux") as url:
        setup = json.dumps({"config": [{"type": "execute", "parameters": {"command": f"touch {mark}", "shell": True}}]})
        for headers in ({**EVIL, "Content-Type": "text/plain;charset=UTF-8"}, {"Content-Type": "text/plain"},
                        {"Content-Type": "application/json", "Host": "rebind.evil.example"}):
            r = httpx.post(url + "/setup", content=setup, headers=headers, timeout=30)
            assert r.status_code in (403, 415) and "error" in r.json()
        assert not mark.exists()
        assert httpx.get(url + "/probe", timeout=30).status_code == 200


def test_allowed_hosts_are_answered(desktop_programs):
    from arena_gym.arena import LocalArena

    with LocalArena(apps=[], allowed_hosts=["vm-7.internal"]) as arena:
        headers = arena.auth_headers()
        assert httpx.get(arena.url + "/probe", headers={**headers, "Host": "vm-7.internal:5000"}).status_code == 200
        assert httpx.get(arena.url + "/probe", headers={**headers, "Host": "vm-8.internal"}).status_code == 403


@pytest.mark.parametrize("settle", ['{"timeout_s": 1, "stable_ms": 1e9, "interval_ms": 1e9}', '{"timeout_s": NaN}',
                                    '{"timeout_s": Infinity}', '{"stable_ms": -1}', '{"timeout_s": "soon"}',
                                    '{"timeout": 3}'])
def test_bad_settle_values_get_a_400_naming_the_field_and_nothing_hangs(desktop, settle):
    r = desktop.post("/arena/step", content=f'{{"command": "", "settle": {settle}}}',
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "settle." in r.json()["message"]
    ok = desktop.post("/execute_windows", json={"command": "import pyautogui; pyautogui.moveTo(5, 5)"}, timeout=10)
    assert ok.json() == {"status": "success"}


def test_bodies_are_capped_as_they_stream(desktop):
    def chunks():
        block = b" " * (1 << 20)
        for _ in range(40):  # 40 MiB of JSON whitespace, with no Content-Length
            yield block

    r = desktop.post("/execute", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert desktop.get("/probe").status_code == 200


def test_up_reads_its_token_from_a_file_and_keeps_it_off_the_command_line(desktop_programs, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    proc = subprocess.Popen([sys.executable, "-m", "arena_gym.cli", "up", "--token-file", str(token_file)],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = wait_for(lambda: proc.stdout.readline(), timeout=60, what="arena-gym up's URL line")
        url = line.split("url=")[1].split()[0]
        assert httpx.get(url + "/probe").status_code == 401
        assert httpx.get(url + "/probe", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        assert "s3cret-token" not in ps
    finally:
        os.killpg(proc.pid, 2)
        proc.wait(30)
    empty = tmp_path / "empty"
    empty.write_text("")
    bad = subprocess.run([sys.executable, "-m", "arena_gym.cli", "up", "--token-file", str(empty)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is empty" in bad.stderr and "Traceback" not in bad.stderr


def test_a_listing_with_unreadable_entries_answers_and_the_server_stays_responsive(desktop, tmp_path):
    import threading

    (tmp_path / "ok.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a symlink loop: stat fails
    tree = desktop.post("/list_directory", json={"path": str(tmp_path)}).json()["directory_tree"]
    names = {c["name"] for c in tree["children"]}
    assert {"ok.txt", "sub", "loop"} <= names
    proc_tree = desktop.post("/list_directory", json={"path": "/proc/1"}).json()["directory_tree"]
    assert proc_tree["children"]  # unreadable entries (cwd, root...) are reported in place
    # A big listing runs off the event loop: /probe answers meanwhile.
    done = threading.Event()
    listing = threading.Thread(target=lambda: (desktop.post("/list_directory", json={"path": "/usr"}), done.set()))
    listing.start()
    probes = 0
    while not done.is_set() and probes < 50:
        assert desktop.get("/probe").status_code == 200
        probes += 1
    listing.join(120)
    assert done.is_set() and probes


@pytest.mark.slow
def test_slow_setup_calls_cannot_starve_screenshots(desktop):
    """45 activate_window calls each waiting 10 s for a window that never comes: in one shared pool of 40
    threads they would hold every thread, and a screenshot would wait 10 s. Here each is served within
    its client's 5 s deadline (a hang bound, not a timing: one takes ~30 ms)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(45) as pool, httpx.Client(base_url=desktop.base_url, timeout=5,
                                                     headers=desktop.headers) as quick:
        waits = [pool.submit(desktop.post, "/setup/activate_window",
                             json={"window_name": "no such window", "timeout": 10}) for _ in range(45)]
        shots = [quick.get("/screenshot").status_code for _ in range(20)]
        assert shots == [200] * 20
        assert all(w.result().status_code == 404 for w in waits)


def test_recycling_two_files_of_one_name_keeps_both(desktop, arena, tmp_path):
    home = arena.home
    for n in (1, 2):
        f = home / "Documents" / f"d{n}" / "same.txt"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"copy {n}")
        assert desktop.post("/setup/recycle", json={"path": str(f)}).status_code == 200
    trashed = sorted(p.read_text() for p in (home / ".local/share/Trash/files").glob("same*.txt"))
    assert trashed == ["copy 1", "copy 2"]
    infos = list((home / ".local/share/Trash/info").glob("same*.trashinfo"))
    assert len(infos) == 2


def test_uploading_onto_a_directory_is_a_clear_error_that_leaves_nothing(desktop, tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    files = {"file_data": ("x", b"data", "application/octet-stream")}
    r = desktop.post("/setup/upload", data={"file_path": str(target)}, files=files)
    assert r.status_code == 400 and "is a directory" in r.json()["error"]
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]


def test_two_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    from arena_gym.commands.run import unique_run_dir

    first, second = unique_run_dir(tmp_path), unique_run_dir(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()


def test_slow_header_and_slow_body_connections_are_closed(desktop_programs, arena):
    """Raw sockets trickling a request: they are closed, and the server keeps answering meanwhile."""
    import socket

    env = {**os.environ, "DISPLAY": arena.display}
    proc = subprocess.Popen([sys.executable, "-m", "arena_gym.server", "--port", "0", "--header-timeout", "1",
                             "--body-timeout", "1"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        port = int(url.rsplit(":", 1)[1])
        slow = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /probe HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
            slow.append(s)

        def closed(s: socket.socket) -> bool:
            s.settimeout(0.05)
            try:
                return s.recv(1) == b""
            except TimeoutError:
                return False
            except OSError:
                return True

        assert httpx.get(url + "/probe", timeout=10).status_code == 200
        wait_for(lambda: all(closed(s) for s in slow), timeout=30, what="the slow-header connections closed")
        for s in slow:
            s.close()
        # A body that stalls halfway: answered 408 once it has been idle past the body deadline.
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"command\"")
        s.settimeout(60)
        assert b" 408 " in s.recv(4096).split(b"\r\n")[0]
        s.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_upload_over_the_limit_is_refused_as_it_streams_and_leaves_nothing(desktop_programs, arena, tmp_path):
    env = {**os.environ, "DISPLAY": arena.display}
    proc = subprocess.Popen([sys.executable, "-m", "arena_gym.server", "--port", "0", "--max-upload-mb", "1"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        boundary = "xyz"

        def body():  # chunked: no Content-Length to refuse it by
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file_path\"\r\n\r\n"
                   f"{tmp_path / 'big.bin'}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file_data\"; "
                   f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
            for _ in range(8):
                yield b"\0" * (1 << 20)
            yield f"\r\n--{boundary}--\r\n".encode()

        r = httpx.post(url + "/setup/upload", content=body(), timeout=60,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413
        assert list(tmp_path.iterdir()) == []
        assert httpx.get(url + "/probe", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)

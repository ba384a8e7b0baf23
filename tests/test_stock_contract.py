"""The stock WAA protocol, route by route, as WAA's own server (its Flask ``main.py``) answers: the same
requests sent to the stock-protocol double (the stand-in for a Windows VM in every test) and to
arena-gym's desktop server must get the same status and the same answer. Each case says what the real
server does (read from its code), so a test that passes against the double means the same against a VM.

The real server itself runs on Linux with its Windows-only imports stubbed; point
``WAA_REFERENCE_URL`` at it (and ``WAA_REFERENCE_DESKTOP`` at its home's Desktop folder) and the same
cases run against it as a third target.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .support.stock_server import HOME, StockWAAServer


@dataclass
class Target:
    name: str
    url: str
    desktop: str
    sep: str
    python: str

    def path(self, *parts: str) -> str:
        return self.sep.join([self.desktop, *parts])


@pytest.fixture(scope="module")
def double() -> Iterator[Target]:
    with StockWAAServer() as vm:
        vm.local(f"{HOME}\\Desktop").mkdir(parents=True, exist_ok=True)
        yield Target("double", vm.url, f"{HOME}\\Desktop", "\\", sys.executable)


@pytest.fixture(params=["double", "arena", "waa"])
def target(request: pytest.FixtureRequest, double: Target) -> Target:
    if request.param == "double":
        return double
    if request.param == "waa":
        url, desktop = os.environ.get("WAA_REFERENCE_URL"), os.environ.get("WAA_REFERENCE_DESKTOP")
        if not url or not desktop:
            pytest.skip("WAA's own server is not running here: set WAA_REFERENCE_URL and WAA_REFERENCE_DESKTOP "
                        "to run these cases against it")
        return Target("waa", url, desktop, "/", sys.executable)
    arena = request.getfixturevalue("arena")  # a real desktop: this half is marked desktop
    request.node.add_marker(pytest.mark.desktop)
    desktop = arena.home / "Desktop"
    desktop.mkdir(parents=True, exist_ok=True)
    return Target("arena", arena.url, str(desktop), "/", "python3")


Check = Callable[[httpx.Response], Any]


def _case(client: httpx.Client, method: str, path: str, status: int, check: Check | None = None, **kw: Any) -> None:
    r = client.request(method, path, **kw)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:300]}"
    if check is not None:
        assert check(r), f"{method} {path}: {r.text[:300]}"


def test_execute_runs_the_command_and_passes_its_return_code_through(target):
    with httpx.Client(base_url=target.url, timeout=60) as c:
        _case(c, "POST", "/execute", 200, lambda r: r.json() == {
            "status": "success", "output": "hi\n", "error": "", "returncode": 3},
            json={"command": [target.python, "-c", "import sys; print('hi'); sys.exit(3)"]})
        # A program that cannot start: subprocess raises, the route answers 500 with the message.
        _case(c, "POST", "/execute", 500, lambda r: r.json()["status"] == "error" and r.json()["message"],
              json={"command": ["no-such-program-for-the-contract"]})


def test_execute_windows_fails_when_the_output_says_error(target):
    with httpx.Client(base_url=target.url, timeout=60) as c:
        _case(c, "POST", "/execute_windows", 200, lambda r: r.json() == {"status": "success"},
              json={"command": "print('all fine')"})
        # main.py raises when the printed output contains "error" in any case.
        _case(c, "POST", "/execute_windows", 500,
              lambda r: r.json()["status"] == "error" and "An ERROR here" in r.json()["message"],
              json={"command": "print('An ERROR here')"})


def test_unknown_routes_and_setup_steps_go_through_the_catch_all_handler(target):
    with httpx.Client(base_url=target.url, timeout=60) as c:
        for path in ("/setup/no_such_step", "/no_such_route"):
            _case(c, "POST", path, 500, lambda r: r.json()["status"] == "error"
                  and r.json()["message"].startswith("404 Not Found"), json={})


def test_files_folders_and_listing(target):
    folder = target.path("contract")
    with httpx.Client(base_url=target.url, timeout=60) as c:
        c.post("/execute", json={"command": [target.python, "-c",
                                             f"import shutil; shutil.rmtree({folder!r}, ignore_errors=True)"]})
        _case(c, "POST", "/setup/create_folder", 400, lambda r: r.json() == {"error": "path required"}, json={})
        _case(c, "POST", "/setup/create_folder", 200,
              lambda r: r.json() == {"status": "success", "message": f"{folder} created."}, json={"path": folder})
        _case(c, "POST", "/setup/create_folder", 200,
              lambda r: r.json()["message"] == f"{folder} already exists.", json={"path": folder})
        _case(c, "POST", "/setup/create_file", 200, lambda r: r.json()["status"] == "success",
              json={"path": target.path("contract", "a.txt"), "content": "x"})
        _case(c, "POST", "/file_exists", 200, lambda r: r.json()["status"] == "success",
              json={"file_name": "a.txt", "path": folder})
        _case(c, "POST", "/file_exists", 400, lambda r: r.json()["status"] == "error",
              json={"file_name": "b.txt", "path": folder})
        _case(c, "POST", "/file_exists", 400, lambda r: r.json() == {"error": "file_name required"}, json={"path": folder})
        _case(c, "POST", "/folder_exists", 200, json={"folder_name": "contract", "path": target.desktop})
        _case(c, "POST", "/folder_exists", 400, json={"folder_name": "nope", "path": target.desktop})
        _case(c, "POST", "/list_directory", 200, lambda r: r.json() == {"directory_tree": {
            "type": "directory", "name": "contract", "children": [{"type": "file", "name": "a.txt"}]}},
            json={"path": folder})
        _case(c, "POST", "/list_directory", 400,
              lambda r: r.json() == {"error": "The provided path is not a directory"},
              json={"path": target.path("contract", "a.txt")})
        _case(c, "POST", "/list_directory", 400, lambda r: r.json() == {"error": "Missing 'path' parameter"}, json={})
        _case(c, "POST", "/desktop_path", 200, lambda r: "desktop_path" in r.json())
        _case(c, "POST", "/setup/recycle", 200, lambda r: r.json()["status"] == "success",
              json={"path": target.path("contract", "a.txt")})
        _case(c, "POST", "/file_exists", 400, json={"file_name": "a.txt", "path": folder})


def test_file_and_upload(target):
    name = target.path("contract-upload.bin")
    payload = bytes(range(256)) * 4
    with httpx.Client(base_url=target.url, timeout=60) as c:
        _case(c, "POST", "/file", 400, lambda r: r.json() == {"error": "file_path is required"}, data={})
        _case(c, "POST", "/file", 404, lambda r: r.json() == {"error": "File not found"},
              data={"file_path": target.path("no-such-file.txt")})
        _case(c, "POST", "/setup/upload", 400, lambda r: r.json() == {"error": "file_path and file_data are required"},
              data={"file_path": name})
        _case(c, "POST", "/setup/upload", 200, lambda r: r.text == "File Uploaded",
              data={"file_path": name}, files={"file_data": ("blob", payload)})
        _case(c, "POST", "/file", 200, lambda r: r.content == payload
              and r.headers["content-disposition"].startswith("attachment"), data={"file_path": name})

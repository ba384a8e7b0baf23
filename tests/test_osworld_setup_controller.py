"""OSWorld's own ``SetupController`` (desktop-env 1.0.2, from PyPI) sets up our local arena: every kind of
step it runs against a guest server, the browser's DevTools steps included, with what each leaves behind
checked on the desktop.

desktop-env's metrics package pulls in easyocr and torch, so ``desktop_env.evaluators.metrics`` is a stand-in
module here holding only its real ``utils`` (loaded from desktop-env's own file: ``compare_urls``, which
``chrome_close_tabs`` uses). Its Google steps (``googledrive``, ``login``) need an account and are left out;
``act``, ``replay`` and ``tidy_desktop`` raise NotImplementedError in desktop-env itself; ``proxy`` needs its paid proxy pool.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import types

import httpx
import pytest

from arena_gym import browser
from arena_gym.arena import LocalArena
from arena_gym.arena.profiles import OSWORLD

from .support.osworld_cases import image
from .support.polling import wait_for
from .support.sockets import free_port
from .support.standins import AssetServer

pytestmark = [
    pytest.mark.osworld,
    pytest.mark.skipif(bool(OSWORLD.missing()), reason="the osworld app profile is not installed: run bash "
                       "scripts/setup.sh --osworld as root"),
]


@pytest.fixture(scope="module")
def setup_controller():
    desktop_env = pytest.importorskip("desktop_env", reason="desktop-env 1.0.2 is installed by bash scripts/setup.sh")
    for name in ("playwright", "pydrive", "requests_toolbelt", "dotenv", "tldextract", "xmltodict"):
        pytest.importorskip(name, reason=f"{name}: what desktop-env's SetupController imports (scripts/setup.sh)")
    import tldextract

    # Offline: its bundled public-suffix snapshot, not a download.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    path = f"{desktop_env.__path__[0]}/evaluators/metrics/utils.py"
    spec = importlib.util.spec_from_file_location("desktop_env.evaluators.metrics.utils", path)
    assert spec is not None and spec.loader is not None
    utils = importlib.util.module_from_spec(spec)
    metrics = types.ModuleType("desktop_env.evaluators.metrics")
    metrics.__path__ = []  # type: ignore[attr-defined]
    metrics.utils = utils  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in ("desktop_env.evaluators.metrics", "desktop_env.evaluators.metrics.utils")}
    sys.modules["desktop_env.evaluators.metrics"] = metrics
    sys.modules["desktop_env.evaluators.metrics.utils"] = utils
    spec.loader.exec_module(utils)
    from desktop_env.controllers.setup import SetupController

    yield SetupController
    for key, module in saved.items():
        if module is None:
            sys.modules.pop(key, None)
        else:
            sys.modules[key] = module


@pytest.fixture(scope="module")
def host_arena(desktop_programs):
    # network="host": OSWorld's client reaches the browser's DevTools port at the VM's address, as on its VMs.
    with LocalArena(profile="osworld", size=(1920, 1080), apps=[], network="host") as arena:
        yield arena


def _history_template(path) -> None:
    """Chrome's History tables that OSWorld's update_browse_history writes into (its empty template)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR, "
                   "visit_count INTEGER, typed_count INTEGER, last_visit_time INTEGER, hidden INTEGER)")
        db.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY AUTOINCREMENT, url INTEGER, visit_time INTEGER, "
                   "from_visit INTEGER, transition INTEGER, segment_id INTEGER, visit_duration INTEGER)")


def test_setup_controller_runs_every_step_on_our_server(setup_controller, host_arena, tmp_path):
    home, client = host_arena.home, host_arena.client
    debug, relay = free_port(), free_port()
    (tmp_path / "cache").mkdir()
    _history_template(tmp_path / "cache" / "history_new.sqlite")
    (tmp_path / "local.txt").write_text("uploaded")
    pages = [f"file:///home/user/Desktop/{n}.html" for n in ("one", "two")]
    with AssetServer(("example.org",)) as assets:
        assets.add("https://example.org/picture.png", image("PNG"))
        url = f"{assets.base}/example.org/picture.png"
        config = [
            {"type": "download", "parameters": {"files": [{"url": url, "path": "/home/user/Desktop/picture.png"}]}},
            {"type": "upload_file", "parameters": {"files": [{"local_path": str(tmp_path / "local.txt"),
                                                              "path": "/home/user/Desktop/notes.txt"}]}},
            *[{"type": "execute", "parameters": {"command": ["sh", "-c", f"echo '<title>{n}</title>' > "
                                                                         f"/home/user/Desktop/{n}.html"]}}
              for n in ("one", "two")],
            {"type": "change_wallpaper", "parameters": {"path": "/home/user/Desktop/picture.png"}},
            {"type": "execute", "parameters": {"command": "echo out; echo err >&2", "shell": True,
                                               "stdout": "out.txt", "stderr": "err.txt"}},
            {"type": "command", "parameters": {"command": ["touch", "/home/user/Desktop/touched"]}},
            {"type": "execute_with_verification", "parameters": {
                "command": "xterm -title VerifiedTerm >/dev/null 2>&1 &", "shell": True,
                "verification": {"window_exists": "VerifiedTerm"},
                "max_wait_time": 30, "check_interval": 0.5}},
            {"type": "launch", "parameters": {"command": ["xterm", "-title", "SetupTerm"]}},
            {"type": "sleep", "parameters": {"seconds": 0.5}},
            {"type": "activate_window", "parameters": {"window_name": "SetupTerm"}},
            {"type": "close_window", "parameters": {"window_name": "VerifiedTerm"}},
            {"type": "open", "parameters": {"path": "/home/user/Desktop/notes.txt"}},
            {"type": "launch", "parameters": {"command": ["google-chrome", f"--remote-debugging-port={debug}"]}},
            {"type": "launch", "parameters": {"command": ["socat", f"tcp-listen:{relay},fork", f"tcp:localhost:{debug}"]}},
            {"type": "chrome_open_tabs", "parameters": {"urls_to_open": pages}},
            {"type": "chrome_close_tabs", "parameters": {"urls_to_close": pages[1:]}},
            {"type": "update_browse_history", "parameters": {"history": [
                {"url": "https://example.org/visited", "title": "Visited", "visit_time_from_now_in_seconds": 60}]}},
        ]
        host, port = host_arena.url.removeprefix("http://").split(":")
        controller = setup_controller(vm_ip=host, server_port=int(port), chromium_port=relay,
                                      cache_dir=str(tmp_path / "cache"))
        try:
            assert controller.setup(config) is True
            assert (home / "Desktop" / "picture.png").read_bytes() == image("PNG")
            assert (home / "Desktop" / "notes.txt").read_text() == "uploaded"
            assert (home / "Desktop" / "touched").exists()
            assert (tmp_path / "cache" / "out.txt").read_text().strip() == "out"  # its stdout into its cache
            wallpaper = httpx.post(host_arena.url + "/wallpaper", timeout=30)
            assert wallpaper.status_code == 200 and wallpaper.content == image("PNG")
            titles = wait_for(lambda: (t := client.window_titles()) and "VerifiedTerm" not in t and t,
                              what="VerifiedTerm closed")
            assert "SetupTerm" in titles and any("notes.txt" in t for t in titles)
            assert [t["url"] for t in browser.tabs_info(f"http://127.0.0.1:{relay}")] == pages[:1]
            history = client.file("/home/user/.config/google-chrome/Default/History")
            (tmp_path / "History").write_bytes(history)
            with sqlite3.connect(tmp_path / "History") as db:
                assert db.execute("SELECT url, title FROM urls").fetchall() == [("https://example.org/visited", "Visited")]
        finally:
            client.execute("pkill -x chromium; pkill -f 'socat tcp-listen'; pkill -x xterm", True)

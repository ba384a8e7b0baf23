"""The browser's DevTools side channel against a real Chromium (Debian's), reached directly on a loopback
port: tabs are opened, listed, closed and loaded as OSWorld's setup steps and getters do."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from arena_gym import browser
from arena_gym.processes import terminate_tree

from .support.sockets import free_port

pytestmark = [
    pytest.mark.osworld,  # the heavy tier with OSWorld's other tests
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (bash scripts/setup.sh "
                       "installs it)"),
]


def page(title: str) -> str:
    return f"data:text/html,<title>{title}</title><p>{title} page</p>"


@pytest.fixture
def cdp_url(tmp_path):
    port = free_port()
    argv = ["chromium", "--headless=new", f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={tmp_path / 'profile'}", "--no-first-run", "about:blank"]
    if os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium's own sandbox refuses to run as root
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield f"http://127.0.0.1:{port}"
    terminate_tree(proc)


def test_tabs_are_opened_listed_and_closed(cdp_url):
    browser.open_tabs(cdp_url, [page("one"), page("two"), page("three")])
    # The tab that was there first is closed, as OSWorld does (Playwright lists a connected browser's tabs
    # in no set order).
    assert sorted(t["title"] for t in browser.tabs_info(cdp_url)) == ["one", "three", "two"]
    browser.close_tabs(cdp_url, [page("two")])
    assert sorted(t["title"] for t in browser.tabs_info(cdp_url)) == ["one", "three"]


def test_a_page_is_loaded_in_a_tab_of_its_own(cdp_url):
    info = browser.page_info(cdp_url, page("four"))
    assert info["title"] == "four" and "four page" in info["content"]
    assert [t["title"] for t in browser.tabs_info(cdp_url)] == [""]  # only about:blank is left open


def test_no_browser_is_an_infrastructure_failure_that_says_where(monkeypatch):
    monkeypatch.setattr(browser, "CONNECT_S", 1.0)
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(browser.BrowserUnavailable, match=f"no browser answered at {url}"):
        browser.tabs_info(url)
    assert issubclass(browser.BrowserUnavailable, OSError)  # setup and scoring count it as infrastructure

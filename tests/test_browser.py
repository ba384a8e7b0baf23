"""The browser's DevTools side channel against a real Chromium (Debian's), reached directly on a loopback
port: tabs are opened, listed, closed and loaded as OSWorld's setup steps and getters do."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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


PAGE = ("data:text/html,<title>shop</title>"
        "<div class='price'>10</div><div class='price'>20</div>"
        "<div class='route'>SEA<span class='sep'></span>NYC</div>"
        "<ul class='cats'><li class='catAllProducts'><span>Shoes</span></li><li class='catAllProducts'><span>Hats</span></li></ul>"
        "<label>Total: 30</label><input id='q' value=' cats '/>"
        "<button id='more' onclick=\"document.body.insertAdjacentHTML('beforeend', '<p id=x>second page</p>')\">"
        "more</button>")


def test_the_active_tab_is_read_as_osworld_reads_it(cdp_url):
    browser.open_tabs(cdp_url, [PAGE])
    read = {
        "class": {"category": "class", "class_multiObject": {"price": {"0": "first", "1": "second", "5": "none"}},
                  "class_multiObject_child": {"route": {"0": "from", "1": "to"}},
                  "class_singleObject": {"price": "one"},
                  "class_multiObject_search_exist": {"price": ["10", "is_other_exist"]}},
        "label": {"category": "label", "labelObject": {"Total:": "total"}},
        "xpath": {"category": "xpath", "xpathObject": {"/html/body/div[1]": "a", "/html/body/div[9]": "missing"}},
        "input": {"category": "input", "inputObject": {"//input[@id='q']": "query"}},
        "class&url": {"category": "class&url", "class_multiObject_li": {"cats": ["shoes", "bags"]},
                      "url_include_expected": ["shop", "nothing"]},
    }
    got = {name: browser.html_parse(cdp_url, PAGE, config) for name, config in read.items()}
    assert got["class"] == {"first": "10", "second": "20", "none": "", "from": "SEA", "to": "NYC", "one": "10",
                            "10": True, "is_other_exist": True}
    assert got["label"] == {"total": "Total: 30"}
    assert got["xpath"] == {"a": "10", "missing": ""}
    assert got["input"] == {"query": "cats"}
    assert got["class&url"] == {"shoes": True, "is_other_exist": True, "shop": True, "nothing": False}
    assert browser.html_parse(cdp_url, "https://elsewhere.example/", read["label"]) == {}  # no tab there


def test_a_website_is_read_by_clicking_along_selectors_or_answers_the_backups(cdp_url):
    infos = [{"action": "inner_text", "selector": ".price"}, {"action": "attribute", "selector": "#q", "attribute": "id"},
             {"action": "click_and_inner_text", "selector": ["#more", "#x"]}]
    assert browser.website_info(cdp_url, PAGE, infos) == ["10", "q", "second page"]
    missing = [{"action": "inner_text", "selector": ".nowhere"}]
    assert browser.website_info(cdp_url, PAGE, missing, backups=["kept"]) == ["kept"]


def test_a_page_prints_to_pdf(cdp_url, tmp_path):
    out = browser.pdf(cdp_url, PAGE, str(tmp_path / "page.pdf"))
    assert Path(out).read_bytes()[:5] == b"%PDF-"

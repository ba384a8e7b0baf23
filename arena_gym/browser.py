"""The browser's DevTools side channel: what tasks do to Chrome (Chromium here) through its remote-debugging
port with Playwright's ``connect_over_cdp`` (no browser of Playwright's own is downloaded or started).

OSWorld's and WAA's tasks start the browser with ``--remote-debugging-port=1337`` and relay port 9222 to it
(socat); their setup opens and closes tabs there (``chrome_open_tabs``, ``chrome_close_tabs``) and some
getters read the open tabs (``open_tabs_info``, ``active_tab_info``, ``page_info``). The port is reached one
of two ways:

- ``direct``: this process reaches it (``cdp_url``, e.g. ``http://vm:9222`` or a tunnel's end), as OSWorld's
  own client does, and as WAA's evaluate server does from the VM's container;
- through the VM: the operation runs on the VM as ``python -m arena_gym.browser OP ARGS`` (the local arena,
  whose browser listens only in the arena's own network namespace).

Each operation is a function of ``cdp_url`` here, and the command line runs the same functions.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from .polling import PollTimeout, poll_until

log = logging.getLogger(__name__)

VM_CDP_URL = "http://127.0.0.1:9222"  # where the tasks' socat relay listens, on the VM
CONNECT_S = 30.0  # the tasks launch the browser right before: wait for its port this long
PAGE_TIMEOUT_MS = 60_000


class BrowserUnavailable(OSError):
    """The browser's DevTools port did not answer (not started, or no relay to it): the desktop's state
    could not be read or set, so no reward comes of it."""


def _connect(playwright: Any, cdp_url: str) -> Any:
    last: list[Exception] = []

    def attempt() -> Any:
        try:
            return playwright.chromium.connect_over_cdp(cdp_url, timeout=5_000)
        except Exception as exc:  # noqa: BLE001 - Playwright raises its own Error for every refusal
            last[:] = [exc]
            return None

    try:
        return poll_until(attempt, CONNECT_S, interval=0.5, what=f"the browser's DevTools at {cdp_url}")
    except PollTimeout:
        raise BrowserUnavailable(f"no browser answered at {cdp_url} within {CONNECT_S:g} s: {last[0] if last else ''}"
                                 ) from None


def _with_browser(cdp_url: str, work: Callable[[Any], Any]) -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        return work(_connect(playwright, cdp_url))


def open_tabs(cdp_url: str, urls: list[str]) -> None:
    """OSWorld's ``chrome_open_tabs``: a new tab per URL in the first context, then the tab that was there
    first is closed. A page that does not finish loading in time stays open as it is (as OSWorld's does)."""

    def work(browser: Any) -> None:
        context = browser.contexts[0]
        for i, url in enumerate(urls):
            page = context.new_page()
            try:
                page.goto(url, timeout=PAGE_TIMEOUT_MS)
            except Exception as exc:  # noqa: BLE001 - a slow page is left loading, not a failed setup
                log.warning("opening %s: %s", url, exc)
            if i == 0:
                context.pages[0].close()

    _with_browser(cdp_url, work)


def close_tabs(cdp_url: str, urls: list[str]) -> None:
    """OSWorld's ``chrome_close_tabs``: for each URL, the first open tab at that URL (compared as OSWorld
    compares URLs) is closed."""
    from .evaluators.rules import compare_urls

    def work(browser: Any) -> None:
        context = browser.contexts[0]
        for url in urls:
            for page in context.pages:
                if compare_urls(page.url, url):
                    page.close()
                    break

    _with_browser(cdp_url, work)


def tabs_info(cdp_url: str) -> list[dict[str, str]]:
    """OSWorld's ``open_tabs_info``: title and URL of every open tab, each once it has loaded."""

    def work(browser: Any) -> list[dict[str, str]]:
        tabs = []
        for context in browser.contexts:
            for page in context.pages:
                try:
                    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS // 2)
                    tabs.append({"title": page.title(), "url": page.url})
                except Exception:  # noqa: BLE001 - OSWorld records a tab that did not load as it stands
                    tabs.append({"title": "Load timeout", "url": page.url})
        return tabs

    return _with_browser(cdp_url, work)


def page_info(cdp_url: str, url: str) -> dict[str, str]:
    """OSWorld's ``page_info`` (and ``active_tab_info``, given the active tab's URL): ``url`` loaded in a
    new tab: its title, final URL and HTML."""

    def work(browser: Any) -> dict[str, str]:
        page = browser.contexts[0].new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            page.goto(url, wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
            return {"title": page.title(), "url": page.url, "content": page.content()}
        except Exception:  # noqa: BLE001 - as OSWorld's: what loaded, titled so
            return {"title": "Load timeout", "url": page.url, "content": page.content()}
        finally:
            page.close()

    return _with_browser(cdp_url, work)


def pdf(cdp_url: str, url: str, path: str) -> str:
    """OSWorld's ``pdf_from_url``: ``url`` printed to a PDF at ``path`` (``~`` is this machine's home)."""
    import os

    def work(browser: Any) -> str:
        page = browser.contexts[0].new_page()
        try:
            page.goto(url, wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
            page.pdf(path=os.path.expanduser(path))
        finally:
            page.close()
        return path

    return _with_browser(cdp_url, work)


def website_info(cdp_url: str, url: str, infos: list[dict[str, Any]], backups: Any = None) -> Any:
    """OSWorld's ``info_from_website``: on ``url``, each info's text or attribute, after clicking along its
    selectors for the ``click_and_*`` actions; ``backups`` when the page does not have what is asked."""

    def work(browser: Any) -> Any:
        page = browser.contexts[0].new_page()
        try:
            page.goto(url)
            page.wait_for_load_state("load")
            found = []
            for info in infos:
                if page.url != url:
                    page.goto(url)
                    page.wait_for_load_state("load")
                action = info.get("action", "inner_text")
                selectors = info["selector"] if isinstance(info["selector"], list) else [info["selector"]]
                if action not in ("inner_text", "attribute", "click_and_inner_text", "click_and_attribute"):
                    raise NotImplementedError(f"The action {action} is not supported yet.")
                for selector in selectors[:-1] if action.startswith("click_and_") else []:
                    page.wait_for_selector(selector, state="attached", timeout=10_000).click()
                    page.wait_for_load_state("load")
                element = page.wait_for_selector(selectors[-1], state="attached", timeout=10_000)
                found.append(element.inner_text() if action.endswith("inner_text")
                             else element.get_attribute(info["attribute"]))
            return found
        except BrowserUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - OSWorld's answer when the site changed: the task's backups
            log.info("info_from_website %s: %s; answering the task's backups", url, exc)
            return backups
        finally:
            page.close()

    return _with_browser(cdp_url, work)


def _texts(page: Any, selector: str) -> list[str]:
    try:
        return [e.text_content().strip() for e in page.query_selector_all(selector) if e]
    except Exception:  # noqa: BLE001 - OSWorld reads an element it cannot read as absent
        return []


def _direct_texts(page: Any, selector: str) -> list[str]:
    """The text nodes directly under the first element matching ``selector``."""
    try:
        elements = page.query_selector_all(selector)
        script = ("(node) => Array.from(node.childNodes).filter(n => n.nodeType === Node.TEXT_NODE)"
                  ".map(n => n.textContent.trim()).filter(Boolean)")
        return [element.evaluate(script) for element in elements][0] if elements else []
    except Exception:  # noqa: BLE001
        return []


def _nested_texts(page: Any, selector: str, inner: str) -> list[str]:
    try:
        return [e.query_selector(inner).inner_text().strip() if inner == "span" else
                e.query_selector(inner).text_content().strip()
                for e in page.query_selector_all(selector) if e.query_selector(inner)]
    except Exception:  # noqa: BLE001
        return []


def _first_text(locator: Any, value: bool = False) -> str:
    try:
        if locator.count() == 0:
            return ""
        text = locator.first.input_value() if value else locator.first.text_content()
        return text.strip() if text else ""
    except Exception:  # noqa: BLE001
        return ""


def _by_rank(values: list[Any], ranks: dict[str, str], into: dict[str, Any]) -> None:
    for rank, key in ranks.items():
        into[key] = values[int(rank)] if len(values) > int(rank) else ""


def _choices(texts: list[str], wanted: list[str], into: dict[str, Any]) -> None:
    for key in wanted:
        if any(key.lower() == text.lower() for text in texts):
            into[key.lower()] = True
    if any(all(text.lower() not in item.lower() for item in wanted) for text in texts):
        into["is_other_exist"] = True
    into.setdefault("is_other_exist", False)


def parse_page(page: Any, config: dict[str, Any]) -> dict[str, Any]:
    """What OSWorld's ``active_tab_html_parse`` reads off a page, by ``config["category"]``."""
    out: dict[str, Any] = {}
    category = config["category"]
    if category == "class":
        for name, ranks in config.get("class_multiObject", {}).items():
            _by_rank(_texts(page, "." + name), ranks, out)
        for name, ranks in config.get("class_multiObject_child", {}).items():
            _by_rank(_direct_texts(page, "." + name), ranks, out)
        for name, ranks in config.get("class_multiObject_only_child", {}).items():
            _by_rank(_nested_texts(page, "." + name, "h3"), ranks, out)
        for name, wanted in config.get("class_multiObject_search_exist", {}).items():
            texts = _texts(page, "." + name)
            for item in wanted:
                if item != "is_other_exist":
                    out[item] = item in texts
            if "is_other_exist" in wanted:
                out["is_other_exist"] = any(text not in wanted for text in texts)
        for name, key in config.get("class_singleObject", {}).items():
            texts = _texts(page, "." + name)
            out[key] = texts[0] if texts else ""
    elif category == "label":
        for label, key in config.get("labelObject", {}).items():
            out[key] = _first_text(page.locator(f"text={label}"))
    elif category == "xpath":
        for xpath, key in config.get("xpathObject", {}).items():
            text = _first_text(page.locator(f"xpath={xpath}"))
            out[key] = text or _first_text(page.locator(xpath))  # OSWorld's fallback: the path as a selector
    elif category == "input":
        for xpath, key in config.get("inputObject", {}).items():
            out[key] = _first_text(page.locator(f"xpath={xpath}"), value=True)
    elif category == "class&url":
        for name, wanted in config.get("class_multiObject", {}).items():
            _choices(_texts(page, "." + name), wanted, out)
        for name, wanted in config.get("class_multiObject_li", {}).items():
            _choices(_nested_texts(page, "." + name + " li.catAllProducts", "span"), wanted, out)
        url = page.url.lower()
        for key in config.get("url_include_expected", []):
            out.setdefault(key.lower(), key.lower() in url)
        for key, value in config.get("url_include_expected_multichoice", {}).items():
            out.setdefault(value.lower(), key.lower() in url)
    return out


def html_parse(cdp_url: str, url: str, config: dict[str, Any]) -> dict[str, Any]:
    """OSWorld's ``active_tab_html_parse``: the open tab at ``url`` (the address bar's), read by
    ``parse_page``; ``{}`` when no tab is at that URL."""
    from urllib.parse import unquote

    def normal(address: str) -> str:
        return unquote(address).rstrip("/")

    def work(browser: Any) -> dict[str, Any]:
        for context in browser.contexts:
            for page in context.pages:
                try:
                    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
                    if not page.is_closed() and normal(page.url) == normal(url):
                        return parse_page(page, config)
                except Exception:  # noqa: BLE001 - a tab that went away while looked at
                    continue
        return {}

    return _with_browser(cdp_url, work)


def recreation(cdp_url: str, selector: str | None, name: str | None, order: Any = None) -> dict[str, Any]:
    """OSWorld's recreation.gov walk (``gotoRecreationPage_and_get_html_content``), each step waiting for
    what it clicks rather than for a fixed time."""
    failed = "__EVALUATION_FAILED__"

    def work(browser: Any) -> dict[str, Any]:
        page = browser.contexts[0].new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            page.goto("https://www.recreation.gov/", wait_until="domcontentloaded")
            page.fill("input#hero-search-input", "Diamond")
            page.click("button.nav-search-button")
            page.wait_for_selector(".search-result-highlight--success", state="visible")
            with page.expect_popup() as popup:
                page.click(".search-result-highlight--success")
            result = popup.value
            result.wait_for_load_state("networkidle")
            for button in ("button.next-available", "button[class*='next-available']", "button[class*='next']",
                           ".next-available", "[data-testid*='next']"):
                try:
                    result.click(button, timeout=30_000)
                    break
                except Exception:  # noqa: BLE001 - OSWorld goes on without it
                    continue
            expected: dict[str, Any] = {}
            if selector == "class" and name:
                elements = result.query_selector_all("." + name)
                index = int(order) if order is not None else 0
                text = elements[index].text_content() if len(elements) > index else None
                expected[name] = text.strip() if text else failed
            return {"expected": expected}
        finally:
            page.close()

    return _with_browser(cdp_url, work)


OPERATIONS: dict[str, Callable[..., Any]] = {
    "open_tabs": open_tabs, "close_tabs": close_tabs, "tabs_info": tabs_info, "page_info": page_info, "pdf": pdf,
    "website_info": website_info, "html_parse": html_parse, "recreation": recreation,
}


class BrowserChannel:
    """Runs the operations for one VM: ``direct`` when ``cdp_url`` is given, else through ``client``'s
    ``/execute`` on the VM (whose Python must have arena-gym and Playwright: the local arena's does)."""

    def __init__(self, client: Any, cdp_url: str | None = None) -> None:
        self.client = client
        self.cdp_url = cdp_url

    def run(self, operation: str, **kwargs: Any) -> Any:
        if self.cdp_url is not None:
            return OPERATIONS[operation](self.cdp_url, **kwargs)
        result = self.client.execute(["python", "-m", "arena_gym.browser", operation, json.dumps(kwargs)])
        if result.returncode != 0:
            message = (result.error or result.output).strip().splitlines()
            raise BrowserUnavailable(f"{operation} on the VM failed: {message[-1] if message else result.returncode}")
        return json.loads(result.output) if result.output.strip() else None


def main(argv: list[str] | None = None) -> int:
    """``python -m arena_gym.browser OP JSON``: run one operation against the browser on this machine and
    print its result as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in OPERATIONS:
        print(f"usage: python -m arena_gym.browser {{{','.join(OPERATIONS)}}} JSON-ARGS", file=sys.stderr)
        return 2
    try:
        result = OPERATIONS[args[0]](VM_CDP_URL, **json.loads(args[1]))
    except BrowserUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

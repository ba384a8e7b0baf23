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


OPERATIONS: dict[str, Callable[..., Any]] = {
    "open_tabs": open_tabs, "close_tabs": close_tabs, "tabs_info": tabs_info, "page_info": page_info,
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

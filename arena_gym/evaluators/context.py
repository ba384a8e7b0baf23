"""What getters need: the VM's client, its platform, a cache folder, a downloader."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..browser import BrowserChannel
from ..protocol import ArenaClient, ServerError, infra_failure
from ..tasks.platform import to_linux_path
from ..tasks.setup import Fetcher

log = logging.getLogger(__name__)

WINDOWS_HOME = "C:\\Users\\Docker"
T = TypeVar("T")


def or_none(read: Callable[..., T], *args: Any) -> T | None:
    """``read(*args)``, or None when the VM answers that it has no such thing (WAA's getters'
    convention). A refused token or a broken server is not "no such thing": that raises."""
    try:
        return read(*args)
    except ServerError as exc:
        if infra_failure(exc):
            raise
        return None


@dataclass
class EvalContext:
    client: ArenaClient
    cache_dir: Path
    platform: str | None = None  # "windows" | "linux"; asked of the VM when not given
    task_dir: Path | None = None
    mirrors: dict[str, str] | None = None  # URL prefix -> replacement, for task assets
    cdp_url: str | None = None  # the browser's DevTools port as this process reaches it; None: via the VM
    fetcher: Fetcher = field(init=False)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.fetcher = Fetcher(self.cache_dir / "downloads", mirrors=self.mirrors)

    @property
    def browser(self) -> BrowserChannel:
        return BrowserChannel(self.client, self.cdp_url)

    def vm_platform(self) -> str:
        if self.platform is None:
            try:
                answer = self.client.platform()
            except ServerError:
                result = self.client.execute(["python", "-c", "import platform; print(platform.system())"])
                answer = result.output
            self.platform = "windows" if "windows" in answer.lower() else "linux"
        return self.platform

    def vm_path(self, path: str) -> str:
        return to_linux_path(path) if self.vm_platform() == "linux" else path

    def home(self, *parts: str) -> str:
        """A path under the VM user's home, in the VM's own form."""
        if self.vm_platform() == "windows":
            return "\\".join([WINDOWS_HOME, *parts])
        return "/".join(["~", *parts])

    def fetch_vm_file(self, path: str, dest: str) -> str | None:
        """Copy a VM file to ``cache_dir/dest`` and return that local path as a ``str``, as WAA's getters
        do (its metrics call ``str`` methods on it); None when the VM has no such file."""
        data = or_none(self.client.file, self.vm_path(path))
        if data is None:
            return None
        target = self.cache_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return str(target)

"""What getters need: the VM's client, its platform, a cache folder, a downloader."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..protocol import ArenaClient, ServerError
from ..tasks.platform import to_linux_path
from ..tasks.setup import Fetcher

log = logging.getLogger(__name__)

WINDOWS_HOME = "C:\\Users\\Docker"


@dataclass
class EvalContext:
    client: ArenaClient
    cache_dir: Path
    platform: str | None = None  # "windows" | "linux"; asked of the VM when not given
    task_dir: Path | None = None
    fetcher: Fetcher = field(init=False)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.fetcher = Fetcher(self.cache_dir / "downloads")

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

    def fetch_vm_file(self, path: str, dest: str) -> Path | None:
        """Copy a VM file to ``cache_dir/dest``; None when the VM has no such file (WAA's convention)."""
        try:
            data = self.client.file(self.vm_path(path))
        except ServerError as exc:
            if exc.status_code in (400, 404):
                return None
            raise
        target = self.cache_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

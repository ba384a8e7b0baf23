"""Run a task's ``config`` and ``postconfig`` steps on a VM through the client (spec 3.2).

Files are fetched host-side (with a cache) and uploaded, as WAA's client does. On a Linux VM,
Windows home paths are mapped to the user's home. A step type that cannot run here is an error
that names it; nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from ..browser import BrowserChannel
from ..protocol import ArenaClient, ArenaError, AuthError, ServerError, TransportError
from .models import Step
from .platform import ACCOUNT_STEPS, to_linux_path, translate_command

log = logging.getLogger(__name__)


# OSWorld's empty Chrome History, where its setup controller fetches it (asset_mirrors may point elsewhere).
HISTORY_TEMPLATE = ("https://huggingface.co/datasets/xlangai/ubuntu_osworld_file_cache/resolve/main/chrome/"
                    "44ee5668-ecd5-4366-a6ce-c1c9b8d4e938/history_empty.sqlite?download=true")


class SetupError(RuntimeError):
    """A setup step failed; ``index`` and ``step_type`` say which, ``infra`` whether the VM was unreachable."""

    def __init__(self, index: int, step_type: str, message: str, infra: bool = False) -> None:
        super().__init__(f"setup step {index} ({step_type}): {message}")
        self.index = index
        self.step_type = step_type
        self.infra = infra

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> SetupError:
        """The failure an evaluate server's ``/setup`` answer reports (its first failed step)."""
        failed = [(i, r) for i, r in enumerate(answer.get("results", [])) if r.get("status") == "error"]
        index, detail = failed[0] if failed else (0, answer)
        return cls(index, str(detail.get("type", "?")), str(detail.get("error", detail)),
                   infra=bool(answer.get("infra_error")))


class UnsupportedStep(SetupError):
    pass


class FetchError(OSError):
    """A host-side download failed (the network or the asset's host, not the VM nor the agent)."""


class Fetcher:
    """Host-side downloads with a cache: http(s), file:// and paths relative to the task's folder."""

    def __init__(self, cache_dir: Path, timeout: float = 60.0, attempts: int = 3,
                 mirrors: dict[str, str] | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.attempts = attempts
        # URL prefix -> replacement (a local copy of WAA's asset repository, a proxy, a file:// folder).
        self.mirrors = dict(mirrors or {})

    def resolve(self, url: str) -> str:
        """``url`` with the longest matching mirror prefix replaced."""
        for prefix in sorted(self.mirrors, key=len, reverse=True):
            if url.startswith(prefix):
                return self.mirrors[prefix] + url[len(prefix):]
        return url

    def fetch(self, url: str, name: str | None = None, base: Path | None = None) -> Path:
        url = self.resolve(url)
        parsed = urlparse(url)
        if parsed.scheme in ("", "file"):
            local = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
            if not local.is_absolute() and base is not None:
                local = base / local
            if not local.is_file():
                raise FileNotFoundError(f"no file at {local} (from {url!r})")
            return local
        if parsed.scheme not in ("http", "https"):
            raise ValueError(f"cannot fetch {url!r}: use http(s), file:// or a path")
        basename = name or Path(parsed.path).name or "download"
        target = self.cache_dir / f"{uuid.uuid5(uuid.NAMESPACE_URL, url)}_{basename}"
        if target.is_file():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                with httpx.stream("GET", url, timeout=self.timeout, follow_redirects=True) as resp:
                    resp.raise_for_status()
                    tmp = target.with_suffix(target.suffix + ".part")
                    with open(tmp, "wb") as out:
                        for chunk in resp.iter_bytes():
                            out.write(chunk)
                    tmp.replace(target)
                    return target
            except httpx.HTTPError as exc:
                last = exc
                log.info("download %s failed (attempt %d): %s", url, attempt + 1, exc)
        raise FetchError(f"could not download {url} after {self.attempts} attempts: {last}")


def _as_bool(value: Any) -> bool:
    return value in (True, "true", "True", 1)


@dataclass
class StepOutcome:
    index: int
    type: str
    status: str  # "ok" | "error"
    error: str | None = None
    seconds: float = 0.0


@dataclass
class SetupExecutor:
    """Runs steps against one VM. ``platform`` is "windows" (a stock WAA VM) or "linux"."""

    client: ArenaClient
    platform: str = "windows"
    fetcher: Fetcher | None = None
    task_dir: Path | None = None
    # Where an execute step's ``stdout``/``stderr`` names are written (OSWorld's cache_dir): the
    # evaluation's cache, which its ``cache_file`` getter reads.
    cache_dir: Path | None = None
    # The browser's DevTools port (chrome_open_tabs, chrome_close_tabs); default: through the VM.
    browser: BrowserChannel | None = None
    outcomes: list[StepOutcome] = field(default_factory=list)

    def path(self, path: str) -> str:
        if self.platform != "linux":
            return path
        path = to_linux_path(path)
        # OSWorld's relative paths ("setup.sh") are in the user's home, where its server runs commands.
        return path if path.startswith(("/", "~")) else f"~/{path}"

    def command(self, command: list[str] | str) -> list[str] | str:
        return translate_command(command) if self.platform == "linux" else command

    def run(self, steps: list[Step], strict: bool = True) -> list[StepOutcome]:
        """Run in order. ``strict``: stop at the first failure and raise it; else log and go on
        (as WAA does for postconfig)."""
        self._forget_outputs(steps)
        outcomes = []
        for index, step in enumerate(steps):
            start = time.monotonic()
            try:
                self._run_one(index, step)
                outcomes.append(StepOutcome(index, step.type, "ok", seconds=time.monotonic() - start))
            except (TransportError, AuthError) as exc:
                # The VM is gone or refuses us: going on cannot help, strict or not.
                raise SetupError(index, step.type, str(exc), infra=True) from exc
            except (ArenaError, SetupError, OSError, ValueError) as exc:
                outcome = StepOutcome(index, step.type, "error", str(exc), time.monotonic() - start)
                outcomes.append(outcome)
                if strict:
                    if isinstance(exc, SetupError):
                        raise
                    raise SetupError(index, step.type, str(exc)) from exc
                log.warning("step %d (%s) failed, going on: %s", index, step.type, exc)
        self.outcomes = outcomes
        return outcomes

    def _run_one(self, index: int, step: Step) -> None:
        p = step.params
        kind = step.type
        vm = self.client
        if kind == "download":
            fetcher = self._fetcher(index, kind)
            for entry in p.files:
                local = fetcher.fetch(entry.url, Path(entry.path.replace("\\", "/")).name, self.task_dir)
                vm.upload(self.path(entry.path), local.read_bytes())
        elif kind == "upload_file":
            for entry in p.files:
                vm.upload(self.path(entry.path), Path(entry.local_path).read_bytes())
        elif kind == "launch":
            vm.launch(self.command(p.command), _as_bool(p.shell))
        elif kind in ("execute", "command"):
            self._execute(p)
        elif kind == "open":
            vm.open_file(self.path(p.path))
        elif kind == "sleep":
            time.sleep(p.seconds)  # the task asks for this wait
        elif kind == "activate_window":
            vm.activate_window(p.window_name, p.strict, p.by_class)
        elif kind == "close_window":
            vm.close_window(p.window_name, p.strict, p.by_class)
        elif kind == "close_all":
            vm.close_all()
        elif kind == "create_folder":
            vm.create_folder(self.path(p.path))
        elif kind == "create_file":
            vm.create_file(self.path(p.path), p.content)
        elif kind == "recycle_file":
            vm.recycle(self.path(p.path))
        elif kind == "change_wallpaper":
            vm.setup("change_wallpaper", {"path": self.path(p.path)})
        elif kind == "clear_task_files":
            vm.clear_task_files()
        elif kind in ACCOUNT_STEPS:
            raise UnsupportedStep(index, kind, ACCOUNT_STEPS[kind])
        elif kind == "chrome_open_tabs":
            self._browser().run("open_tabs", urls=list(p.urls_to_open))
        elif kind == "chrome_close_tabs":
            self._browser().run("close_tabs", urls=list(p.urls_to_close))
        elif kind == "update_browse_history":
            self._update_history(index, kind, p.history)
        else:
            raise UnsupportedStep(index, kind, f"the step type {kind!r} is not supported on a {self.platform} VM")

    def _update_history(self, index: int, kind: str, history: list[Any]) -> None:
        """OSWorld's ``update_browse_history``: its empty Chrome History (fetched from where it keeps it)
        with these visits added, put in the browser's profile."""
        template = self._fetcher(index, kind).fetch(HISTORY_TEMPLATE, "history_empty.sqlite")
        with tempfile.TemporaryDirectory() as folder:
            db_path = Path(folder) / "History"
            shutil.copyfile(template, db_path)
            with contextlib.closing(sqlite3.connect(db_path)) as db:
                for entry in history:
                    visited = datetime.now() - timedelta(seconds=entry.visit_time_from_now_in_seconds)
                    stamp = int((visited - datetime(1601, 1, 1)).total_seconds() * 1_000_000)  # Chrome's epoch
                    row = db.execute("INSERT INTO urls (url, title, visit_count, typed_count, last_visit_time, hidden) "
                                     "VALUES (?, ?, 1, 0, ?, 0)", (entry.url, entry.title, stamp))
                    db.execute("INSERT INTO visits (url, visit_time, from_visit, transition, segment_id, visit_duration) "
                               "VALUES (?, ?, 0, 805306368, 0, 0)", (row.lastrowid, stamp))
                db.commit()
            profile = ("~/.config/google-chrome/Default/History" if self.platform == "linux"
                       else "C:\\Users\\Docker\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\History")
            self.client.upload(profile, db_path.read_bytes())

    def _browser(self) -> BrowserChannel:
        return self.browser if self.browser is not None else BrowserChannel(self.client)

    def _fetcher(self, index: int, kind: str) -> Fetcher:
        if self.fetcher is None:
            raise UnsupportedStep(index, kind, "no download cache configured for this executor")
        return self.fetcher

    def _execute(self, p: Any) -> None:
        """Run, and when ``until`` is given, repeat (0.3 s apart) until it matches or 5 runs failed."""
        failures = 0
        while True:
            try:
                result = self.client.execute(self.command(p.command), _as_bool(p.shell))
            except ServerError:
                if p.until is None:
                    raise
                failures += 1
            else:
                self._keep_output(p, result)
                if p.until is None or _until_matches(p.until, result):
                    return
                failures += 1
            if failures >= 5:
                raise OSError(f"until condition not met after {failures} tries")
            time.sleep(0.3)


    def _forget_outputs(self, steps: list[Step]) -> None:
        """Remove the cache files these steps write, so one left by an earlier episode is never read
        as this one's (a step that fails leaves no file, and its getter says so)."""
        if self.cache_dir is None:
            return
        for step in steps:
            if step.type in ("execute", "command"):
                for name in (step.params.stdout, step.params.stderr):
                    if name:
                        cache_path(self.cache_dir, name).unlink(missing_ok=True)

    def _keep_output(self, p: Any, result: Any) -> None:
        """Write the command's output to the cache files the step names (``stdout``, ``stderr``)."""
        for name, text in ((p.stdout, result.output), (p.stderr, result.error)):
            if not name:
                continue
            if self.cache_dir is None:
                raise OSError(f"the step writes its output to {name!r}, but this executor has no cache folder")
            target = cache_path(self.cache_dir, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text or "", encoding="utf-8")


def cache_path(cache_dir: Path, name: str) -> Path:
    """``name`` inside ``cache_dir``; a name that would leave it (absolute, ``..``) is refused."""
    target = (Path(cache_dir) / name).resolve()
    if not target.is_relative_to(Path(cache_dir).resolve()):
        raise OSError(f"{name!r} is not a file name inside the evaluation cache")
    return target


def _until_matches(until: Any, result: Any) -> bool:
    if until.returncode is not None and result.returncode == until.returncode:
        return True
    if until.stdout is not None and until.stdout in result.output:
        return True
    return until.stderr is not None and until.stderr in result.error

"""Sync and async clients for a VM server (stock WAA, OSWorld, or arena-gym's desktop server).

Both faces run the same plans (``calls.py``): a plan yields ``Call``/``Sleep`` values and receives
their results, so retries, error mapping, dialect detection and settle-by-polling are written once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal
from urllib.parse import unquote

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from . import frame_files
from .calls import (
    DIALECTS,
    BadAnswer,
    Call,
    Kind,
    OSWorldDialect,
    Plan,
    Sleep,
    WAADialect,
    _frame,
)
from .control import AsyncControlChannel, Control, ControlChannel, ControlUnavailable
from .errors import (
    ActionFailed,
    ArenaError,
    AuthError,
    DeliveryUncertain,
    ProtocolError,
    ServerError,
    TimedOut,
    TransportError,
    Unreachable,
)
from .frame_files import FrameFile, FrameFiles
from .models import Capabilities, Frame, SettleSpec, StepResult, starts_work

log = logging.getLogger(__name__)

DialectName = Literal["auto", "waa", "osworld"]


class Timeouts(BaseModel):
    """Seconds per kind of call. Sized for training: a dead VM should cost seconds, not minutes."""

    model_config = ConfigDict(extra="forbid")
    connect: float = Field(3.0, gt=0)
    probe: float = Field(5.0, gt=0)
    screenshot: float = Field(10.0, gt=0)
    action: float = Field(30.0, gt=0)
    step: float = Field(30.0, gt=0, description="action + screenshot on the one-round-trip extension, plus settle")
    execute: float = Field(130.0, gt=0, description="the stock server kills the process at 120 s")
    file: float = Field(60.0, gt=0)
    upload: float = Field(120.0, gt=0)
    accessibility: float = Field(300.0, gt=0)
    setup: float = Field(60.0, gt=0)

    def for_kind(self, kind: Kind) -> float:
        return float(getattr(self, kind.value))


class RetryPolicy(BaseModel):
    """Bounded retries for idempotent reads; actions are never retried."""

    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(3, ge=1, le=20)
    backoff_s: float = Field(0.05, ge=0)
    max_backoff_s: float = Field(1.0, ge=0)

    def delays(self) -> Iterator[float]:
        delay = self.backoff_s
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_backoff_s)
            delay *= 2


def _server_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(body, dict):
        for key in ("message", "error", "reason", "detail"):
            if key in body:
                return str(body[key])
    return str(body)[:500]


def interpret(call: Call[Any], resp: httpx.Response) -> Any:
    """Turn an HTTP answer into the call's value or a typed error."""
    url = str(resp.request.url) if resp.request is not None else call.path
    if resp.status_code in (401, 403):
        raise AuthError(resp.status_code, _server_message(resp), url=url, call=call.name)
    if resp.status_code not in call.accept:
        error = ActionFailed if call.kind is Kind.ACTION and resp.status_code == 500 else ServerError
        raise error(resp.status_code, _server_message(resp), url=url, call=call.name)
    try:
        return call.parse(resp)
    except BadAnswer as exc:
        raise ProtocolError(f"{call.name}: {exc}", url=url, call=call.name) from exc


def transport_error(call: Call[Any], exc: httpx.HTTPError, url: str) -> TransportError:
    """Map an httpx failure to what it means for the VM: nothing sent, maybe run, or just slow."""
    detail = f"{call.name} {url}: {type(exc).__name__}: {exc}"
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Unreachable(detail, url=url, call=call.name)
    if not call.idempotent:
        return DeliveryUncertain(
            f"{detail} (sent, answer lost: the VM may have run it; not re-sent)", url=url, call=call.name
        )
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(detail, url=url, call=call.name)
    return TransportError(detail, url=url, call=call.name)


def retryable(call: Call[Any], error: ArenaError) -> bool:
    if not call.idempotent or isinstance(error, (AuthError, ActionFailed)):
        return False
    if isinstance(error, ServerError):
        return error.status_code in (502, 503, 504)
    return isinstance(error, (TransportError, ProtocolError))


def step_answer(resp: httpx.Response, frame_file: FrameFile | None = None) -> StepResult:
    """Read the one-round-trip step extension's answer: the image (or the pixels in ``frame_file``),
    with the action's outcome in headers."""
    frame = _raw_frame(resp, frame_file) if resp.headers.get("content-type") == frame_files.MEDIA_TYPE else _frame(resp)
    h = resp.headers
    status = h.get("x-arena-action-status", "ok")
    result = StepResult(
        frame=frame,
        ok=status == "ok",
        error=unquote(h["x-arena-action-error"]) if "x-arena-action-error" in h else None,
        settle_ms=float(h.get("x-arena-settle-ms", 0.0)),
        stable=h.get("x-arena-stable", "1") == "1",
        round_trips=1,
    )
    if "x-arena-since-drawn-ms" in h:  # the server's settle saw damage events: how long the screen was still
        result.timings["since_drawn_ms"] = float(h["x-arena-since-drawn-ms"])
    return result


def _raw_frame(resp: httpx.Response, frame_file: FrameFile | None) -> Frame:
    """Unencoded RGB pixels: in the body, or in the client's frame file when the body is empty."""
    try:
        width, height = frame_files.parse_size(resp.headers.get(frame_files.SIZE_HEADER))
        if resp.content or frame_file is None:
            want = width * height * 3
            if len(resp.content) != want:
                raise BadAnswer(f"rgb body has {len(resp.content)} bytes, a {width}x{height} frame has {want}")
            array = np.frombuffer(resp.content, dtype=np.uint8).reshape(height, width, 3)
        else:
            array = frame_file.read(width, height)
    except frame_files.FrameFileError as exc:
        raise BadAnswer(str(exc)) from exc
    return Frame(data=b"", format="rgb", array=array)


class _ClientBase:
    def __init__(
        self,
        base_url: str,
        *,
        dialect: DialectName = "auto",
        token: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        shared_frames: bool = True,
        control_channel: bool = True,
    ) -> None:
        if dialect not in ("auto", *DIALECTS):
            raise ValueError(f"dialect must be one of auto, {', '.join(DIALECTS)}; got {dialect!r}")
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._dialect: WAADialect | None = None if dialect == "auto" else DIALECTS[dialect]()
        self._capabilities: Capabilities | None = None
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._limits = httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=30.0)
        # A server on this machine can hand over a step's pixels unencoded (frame_files.py).
        self._frame_files = FrameFiles(shared_frames and frame_files.on_this_machine(self.base_url))
        self._use_control = control_channel  # OSWorld's /ws/control, when the server offers it
        self._control: Any  # each face makes its own (ControlChannel, AsyncControlChannel)

    def __repr__(self) -> str:
        dialect = self._dialect.name if self._dialect else "auto"
        return f"{type(self).__name__}({self.base_url!r}, dialect={dialect!r})"

    @property
    def dialect(self) -> str | None:
        """The dialect in use, or None before the first call has detected it."""
        return self._dialect.name if self._dialect else None

    @property
    def capabilities(self) -> Capabilities | None:
        return self._capabilities

    def forget(self) -> None:
        """Forget what was discovered (after a VM restart its server may have changed)."""
        self._capabilities = None

    def _request_kwargs(self, call: Call[Any], extra_timeout: float = 0.0) -> dict[str, Any]:
        timeout = httpx.Timeout(self.timeouts.for_kind(call.kind) + extra_timeout, connect=self.timeouts.connect)
        kwargs: dict[str, Any] = {"timeout": timeout}
        for key in ("json", "data", "files", "params", "headers"):
            value = getattr(call, key)
            if value is not None:
                kwargs[key] = value
        return kwargs

    # ---- plans: written once, run by either face
    def _ensure_dialect(self) -> Plan[WAADialect]:
        if self._dialect is None:
            try:
                yield WAADialect().probe()
                self._dialect = WAADialect()
            except (ServerError, ProtocolError):
                yield OSWorldDialect().probe()
                self._dialect = OSWorldDialect()
            log.debug("%s speaks %s", self.base_url, self._dialect.name)
        return self._dialect

    def _discover(self) -> Plan[Capabilities]:
        dialect = yield from self._ensure_dialect()
        if self._capabilities is None:
            self._capabilities = yield dialect.capabilities()
        return self._capabilities

    def _single(self, name: str, *args: Any, **kwargs: Any) -> Plan[Any]:
        dialect = yield from self._ensure_dialect()
        return (yield getattr(dialect, name)(*args, **kwargs))

    def _settle_plan(self, settle: SettleSpec, fmt: str, code: str | None = None) -> Plan[tuple[Frame, bool, float, int]]:
        """Settle by polling screenshots (stock servers have no server-side settle): the last frame, whether
        it was still, the milliseconds spent and the screenshots taken."""
        quiet_ms = settle.quiet_ms(damage=False, after_enter=bool(code) and starts_work(code or ""))
        dialect = yield from self._ensure_dialect()
        start = time.monotonic()
        if settle.fixed_wait_s:
            yield Sleep(settle.fixed_wait_s)
        frame: Frame = yield dialect.screenshot(fmt)
        shots = 1
        if settle.timeout_s <= 0:
            return frame, True, 0.0, shots
        since = time.monotonic()
        while True:
            now = time.monotonic()
            if (now - since) * 1000 >= quiet_ms:
                return frame, True, (now - start) * 1000, shots
            if now - start >= settle.timeout_s:
                return frame, False, (now - start) * 1000, shots
            yield Sleep(settle.interval_ms / 1000)
            nxt: Frame = yield dialect.screenshot(fmt)
            shots += 1
            if nxt.array.shape != frame.array.shape or not np.array_equal(nxt.array, frame.array):
                since = time.monotonic()
            frame = nxt

    def _act_plan(self, dialect: WAADialect, code: str, wire: list[dict[str, Any]] | None) -> Plan[None]:
        """Act on a stock server: on OSWorld's control channel when the action has a structured form and the
        server offers the channel, else by running the code."""
        if wire is not None and self._use_control and dialect.control_channel and not self._control.absent:
            try:
                yield Control(tuple(wire), self.timeouts.action)
                return
            except ControlUnavailable:
                pass  # nothing was sent; the channel is marked absent for good
        yield dialect.run_python(code)

    def _step_plan(self, code: str | None, settle: SettleSpec | None, fmt: str, quality: int | None,
                   wire: list[dict[str, Any]] | None = None) -> Plan[StepResult]:
        caps = yield from self._discover()
        dialect = self._dialect
        assert dialect is not None
        t0 = time.perf_counter()
        if caps.step:
            if fmt == "png" and caps.frame_file and self._frame_files.enabled:
                with self._frame_files.lease() as frame_file:
                    try:
                        resp = yield dialect.arena_step(code or "", settle, "rgb", None, frame_file.name)
                    except ServerError as exc:
                        if exc.status_code != 400 or not frame_files.refusal(exc.message):
                            raise
                        self._frame_files.refused(exc.message)  # nothing was done: step again with PNG
                    else:
                        return self._step_result(resp, t0, frame_file)
            use_fmt = fmt if caps.supports_format(fmt) else "png"
            resp = yield dialect.arena_step(code or "", settle, use_fmt, quality)
            return self._step_result(resp, t0)
        ok, error, trips = True, None, 0
        if code:
            try:
                yield from self._act_plan(dialect, code, wire)
            except ActionFailed as exc:
                ok, error = False, exc.message
            trips += 1
        use_fmt = fmt if caps.supports_format(fmt) else "png"
        frame, stable, settle_ms, shots = yield from self._settle_plan(settle or SettleSpec(timeout_s=0), use_fmt, code)
        result = StepResult(frame=frame, ok=ok, error=error, settle_ms=settle_ms, stable=stable,
                            round_trips=trips + shots)
        result.timings["step_ms"] = (time.perf_counter() - t0) * 1000
        return result

    def _step_result(self, resp: httpx.Response, t0: float, frame_file: FrameFile | None = None) -> StepResult:
        try:
            result = step_answer(resp, frame_file)
        except BadAnswer as exc:
            raise ProtocolError(f"step: {exc}", url=self.base_url, call="step") from exc
        result.timings["step_ms"] = (time.perf_counter() - t0) * 1000
        return result

    def _wait_ready_plan(self, timeout: float, interval: float) -> Plan[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return (yield from self._single("probe"))
            except (TransportError, ServerError) as exc:
                if time.monotonic() >= deadline:
                    raise Unreachable(f"{self.base_url} not ready after {timeout:.1f} s: {exc}", url=self.base_url) from exc
                yield Sleep(interval)


def _one(call: Call[Any]) -> Plan[Any]:
    return (yield call)


def _endpoint(name: str) -> Callable[..., Any]:
    """A client method that runs one call of the dialect (sync: the value; async: an awaitable)."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._run(self._single(name, *args, **kwargs))

    method.__name__ = name
    method.__doc__ = getattr(WAADialect, name).__doc__
    return method


class _Endpoints:
    probe = _endpoint("probe")
    screenshot = _endpoint("screenshot")
    execute_windows = _endpoint("execute_windows")
    run_python = _endpoint("run_python")
    execute = _endpoint("execute")
    accessibility = _endpoint("accessibility")
    file = _endpoint("file")
    upload = _endpoint("upload")
    screen_size = _endpoint("screen_size")
    window_size = _endpoint("window_size")
    terminal = _endpoint("terminal")
    desktop_path = _endpoint("desktop_path")
    documents_path = _endpoint("documents_path")
    list_directory = _endpoint("list_directory")
    file_exists = _endpoint("file_exists")
    folder_exists = _endpoint("folder_exists")
    platform = _endpoint("platform")
    wallpaper = _endpoint("wallpaper")
    cursor_position = _endpoint("cursor_position")
    ui_probe = _endpoint("ui_probe")
    library_folders = _endpoint("library_folders")
    setup = _endpoint("setup")
    launch = _endpoint("launch")
    open_file = _endpoint("open_file")
    activate_window = _endpoint("activate_window")
    close_window = _endpoint("close_window")
    close_all = _endpoint("close_all")
    create_folder = _endpoint("create_folder")
    create_file = _endpoint("create_file")
    clear_task_files = _endpoint("clear_task_files")
    recycle = _endpoint("recycle")
    window_titles = _endpoint("window_titles")

    def call(self, call: Call[Any]) -> Any:
        """Run one ``Call`` (e.g. a route of another arena-gym service) with this client's pool and errors."""
        return self._run(_one(call))  # type: ignore[attr-defined]

    def discover(self) -> Any:
        """Detect the dialect and the server's extensions (cached until ``forget()``)."""
        return self._run(self._discover())  # type: ignore[attr-defined]

    def step(
        self, code: str | None, settle: SettleSpec | None = None, fmt: str = "png", quality: int | None = None,
        wire: list[dict[str, Any]] | None = None,
    ) -> Any:
        """Run action code, settle, screenshot: one round trip on our server, stock calls elsewhere.
        ``wire``: the same action as OSWorld action dicts (``actions.wire``), which an OSWorld server runs on
        its control channel instead of starting an interpreter for ``code``."""
        return self._run(self._step_plan(code, settle, fmt, quality, wire))  # type: ignore[attr-defined]

    def observe(self, settle: SettleSpec | None = None, fmt: str = "png") -> Any:
        """Settle (if asked) and take a screenshot, without acting."""
        return self.step(None, settle, fmt)

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.2) -> Any:
        """Poll the probe until the server answers, within ``timeout`` seconds."""
        return self._run(self._wait_ready_plan(timeout, interval))  # type: ignore[attr-defined]


class ArenaClient(_Endpoints, _ClientBase):
    """Blocking client: one keep-alive connection pool per VM.

    >>> with ArenaClient("http://127.0.0.1:5000") as vm:
    ...     frame = vm.screenshot()
    """

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, limits=self._limits, transport=transport
        )
        self._control: ControlChannel = ControlChannel(self.base_url, self._headers, self.timeouts.connect)

    def _call(self, call: Call[Any], extra_timeout: float = 0.0) -> Any:
        delays = self.retry.delays() if call.idempotent else iter(())
        while True:
            try:
                resp = self._http.request(call.method, call.path, **self._request_kwargs(call, extra_timeout))
                return interpret(call, resp)
            except httpx.HTTPError as exc:
                error: ArenaError = transport_error(call, exc, self.base_url + call.path)
            except ArenaError as exc:
                error = exc
            delay = next(delays, None) if retryable(call, error) else None
            if delay is None:
                raise error
            log.debug("retrying %s in %.2f s after %s", call.name, delay, error)
            time.sleep(delay)

    def _run(self, plan: Plan[Any]) -> Any:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                item = plan.throw(error) if error is not None else plan.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(item, Sleep):
                time.sleep(item.seconds)
                continue
            try:
                if isinstance(item, Control):
                    self._control.run(item)
                else:
                    value = self._call(item, _settle_budget(item))
            except (ArenaError, ControlUnavailable) as exc:
                error = exc

    def close(self) -> None:
        self._http.close()
        self._control.close()
        self._frame_files.close()

    def __enter__(self) -> ArenaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncArenaClient(_Endpoints, _ClientBase):
    """The same client for asyncio code: every method returns an awaitable."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, limits=self._limits, transport=transport
        )
        self._control: AsyncControlChannel = AsyncControlChannel(self.base_url, self._headers, self.timeouts.connect)

    async def _call(self, call: Call[Any], extra_timeout: float = 0.0) -> Any:
        delays = self.retry.delays() if call.idempotent else iter(())
        while True:
            try:
                resp = await self._http.request(call.method, call.path, **self._request_kwargs(call, extra_timeout))
                return interpret(call, resp)
            except httpx.HTTPError as exc:
                error: ArenaError = transport_error(call, exc, self.base_url + call.path)
            except ArenaError as exc:
                error = exc
            delay = next(delays, None) if retryable(call, error) else None
            if delay is None:
                raise error
            await asyncio.sleep(delay)

    async def _run(self, plan: Plan[Any]) -> Any:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                item = plan.throw(error) if error is not None else plan.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(item, Sleep):
                await asyncio.sleep(item.seconds)
                continue
            try:
                if isinstance(item, Control):
                    await self._control.run(item)
                else:
                    value = await self._call(item, _settle_budget(item))
            except (ArenaError, ControlUnavailable) as exc:
                error = exc

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._control.aclose()
        self._frame_files.close()

    async def __aenter__(self) -> AsyncArenaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _settle_budget(call: Call[Any]) -> float:
    """A server-side settle runs inside the step call: give its timeout that much more time."""
    if call.kind is Kind.STEP and isinstance(call.json, dict):
        settle = call.json.get("settle") or {}
        return float(settle.get("timeout_s", 0.0)) + float(settle.get("fixed_wait_s", 0.0))
    return 0.0

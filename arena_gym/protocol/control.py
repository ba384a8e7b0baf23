"""OSWorld's control channel: structured actions over one WebSocket (``/ws/control`` in
spec/osworld_protocol.md).

The OSWorld guest server runs these in its own process with pyautogui already loaded, so an action costs
milliseconds instead of a fresh ``python -c`` interpreter. The channel is optional: a server that does not
offer it (an older OSWorld server, a proxy without WebSocket upgrades) is found on the first try, and the
client acts through ``/execute`` from then on.

Message shapes (the server's ``streaming.py``):
- server, on connect: ``{"type": "control_ready", "session_id": ...}``
- client: ``{"type": "action", "action_id": ..., "action": {"action_type": ..., "parameters": {...}}}``
- server: ``{"type": "action_ack", ...}`` then ``{"type": "action_result", "action_id": ..., "status":
  "success" | "error", "error"?: ..., "result"?: ...}``; ``{"type": "error", "error": ...}`` for a message it
  could not read.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Generator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any

from .errors import ActionFailed, ArenaError, DeliveryUncertain, ProtocolError, TimedOut

log = logging.getLogger(__name__)

PATH = "/ws/control"


@dataclass(frozen=True)
class Control:
    """A plan item: run these OSWorld action dicts, in order, on the control channel."""

    actions: tuple[dict[str, Any], ...]
    timeout: float


class ControlUnavailable(Exception):
    """The server offers no control channel (nothing was sent): act another way."""


def _connect_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import InvalidHandshake, InvalidURI

    return (InvalidHandshake, InvalidURI, OSError, TimeoutError)


def ws_url(base_url: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{PATH}"


Step = tuple[str, Any]  # ("send", text) or ("recv", timeout): what a conversation asks of its connection


def _conversation(actions: tuple[dict[str, Any], ...], url: str, timeout: float) -> Generator[Step, Any, None]:
    """The exchange for ``actions``, written once for both faces: each action is sent, then messages are
    read until its result; the face does the I/O and sends back what it read."""
    for action in actions:
        action_id = uuid.uuid4().hex
        yield "send", json.dumps({"type": "action", "action_id": action_id, "action": action})
        while not _outcome((yield "recv", timeout), action_id, url):
            pass


def _outcome(raw: str | bytes, action_id: str, url: str) -> bool:
    """Read one server message: True when it is the result of ``action_id`` (raises if that failed)."""
    try:
        message = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(f"control channel: not JSON: {raw[:200]!r}", url=url, call="control") from exc
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "error":
        raise ProtocolError(f"control channel: {message.get('error')}", url=url, call="control")
    if kind != "action_result" or message.get("action_id") != action_id:
        return False  # control_ready, action_ack, pong
    if message.get("status") != "success":
        raise ActionFailed(500, str(message.get("error") or message.get("result") or "action failed"),
                           url=url, call="control")
    return True


def _absent(url: str, exc: BaseException) -> ControlUnavailable:
    log.info("%s offers no control channel (%s): acting through /execute", url, exc)
    return ControlUnavailable(str(exc))


def _broken(url: str, timeout: float, exc: BaseException) -> ArenaError:
    """What a failed exchange means: no result in time, or the connection lost with the action sent."""
    if isinstance(exc, TimeoutError):
        return TimedOut(f"control channel: no result within {timeout:.0f} s", url=url, call="control")
    return DeliveryUncertain(f"control channel: {type(exc).__name__}: {exc} (sent, answer lost: not re-sent)",
                             url=url, call="control")


class _Channel:
    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float) -> None:
        self.url = ws_url(base_url)
        self._headers = headers
        self._connect_timeout = connect_timeout
        self._ws: Any = None
        self.absent = False

    def _connect_kwargs(self) -> dict[str, Any]:
        return {"additional_headers": self._headers, "open_timeout": self._connect_timeout, "max_size": None,
                "compression": None}


class ControlChannel(_Channel):
    """The blocking face: one connection, opened on first use and again after it broke."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float) -> None:
        super().__init__(base_url, headers, connect_timeout)
        self._stack = ExitStack()

    def run(self, item: Control) -> None:
        from websockets.sync.client import connect

        if self.absent:
            raise ControlUnavailable("absent")
        if self._ws is None:
            try:
                self._ws = self._stack.enter_context(connect(self.url, **self._connect_kwargs()))
            except _connect_errors() as exc:
                self.absent = True
                raise _absent(self.url, exc) from exc
        talk = _conversation(item.actions, self.url, item.timeout)
        step = next(talk, None)
        while step is not None:
            kind, payload = step
            try:
                value = self._ws.send(payload) if kind == "send" else self._ws.recv(timeout=payload)
            except Exception as exc:  # the connection broke, or no answer in time: start afresh next time
                self.close()
                raise _broken(self.url, item.timeout, exc) from exc
            try:
                step = talk.send(value)
            except StopIteration:
                step = None

    def close(self) -> None:
        self._ws = None
        try:
            self._stack.close()
        except Exception:  # the connection is already gone
            pass


class AsyncControlChannel(_Channel):
    """The asyncio face of :class:`ControlChannel`."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float) -> None:
        super().__init__(base_url, headers, connect_timeout)
        self._stack = AsyncExitStack()

    async def run(self, item: Control) -> None:
        import asyncio

        from websockets.asyncio.client import connect

        if self.absent:
            raise ControlUnavailable("absent")
        if self._ws is None:
            try:
                self._ws = await self._stack.enter_async_context(connect(self.url, **self._connect_kwargs()))
            except _connect_errors() as exc:
                self.absent = True
                raise _absent(self.url, exc) from exc
        talk = _conversation(item.actions, self.url, item.timeout)
        step = next(talk, None)
        while step is not None:
            kind, payload = step
            try:
                if kind == "send":
                    value = await self._ws.send(payload)
                else:
                    value = await asyncio.wait_for(self._ws.recv(), payload)
            except Exception as exc:
                await self.aclose()
                raise _broken(self.url, item.timeout, exc) from exc
            try:
                step = talk.send(value)
            except StopIteration:
                step = None

    async def aclose(self) -> None:
        self._ws = None
        try:
            await self._stack.aclose()
        except Exception:
            pass

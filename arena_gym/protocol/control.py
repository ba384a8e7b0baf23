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
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any

from .errors import ActionFailed, DeliveryUncertain, ProtocolError, TimedOut

log = logging.getLogger(__name__)

PATH = "/ws/control"


@dataclass(frozen=True)
class Control:
    """A plan item: run these OSWorld action dicts, in order, on the control channel."""

    actions: tuple[dict[str, Any], ...]
    timeout: float


class ControlUnavailable(Exception):
    """The server offers no control channel (nothing was sent): act another way."""


def ws_url(base_url: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{PATH}"


def _message(action: dict[str, Any]) -> tuple[str, str]:
    action_id = uuid.uuid4().hex
    return action_id, json.dumps({"type": "action", "action_id": action_id, "action": action})


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


class ControlChannel:
    """The blocking face: one connection, opened on first use and again after it broke."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float) -> None:
        self.url = ws_url(base_url)
        self._headers = headers
        self._connect_timeout = connect_timeout
        self._ws: Any = None
        self._stack = ExitStack()
        self.absent = False

    def _connect(self) -> Any:
        from websockets.exceptions import InvalidHandshake, InvalidURI
        from websockets.sync.client import connect

        try:
            return self._stack.enter_context(connect(
                self.url, additional_headers=self._headers, open_timeout=self._connect_timeout, max_size=None,
                compression=None))
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            self.absent = True
            log.info("%s offers no control channel (%s): acting through /execute", self.url, exc)
            raise ControlUnavailable(str(exc)) from exc

    def run(self, item: Control) -> None:
        if self.absent:
            raise ControlUnavailable("absent")
        if self._ws is None:
            self._ws = self._connect()
        for action in item.actions:
            action_id, text = _message(action)
            try:
                self._ws.send(text)
                while not _outcome(self._ws.recv(timeout=item.timeout), action_id, self.url):
                    pass
            except TimeoutError as exc:
                self.close()
                raise TimedOut(f"control channel: no result within {item.timeout:.0f} s", url=self.url,
                               call="control") from exc
            except (ActionFailed, ProtocolError):
                raise
            except Exception as exc:  # the connection broke with the action in flight
                self.close()
                raise DeliveryUncertain(f"control channel: {type(exc).__name__}: {exc} (sent, answer lost: "
                                        "not re-sent)", url=self.url, call="control") from exc

    def close(self) -> None:
        self._ws = None
        try:
            self._stack.close()
        except Exception:  # the connection is already gone
            pass


class AsyncControlChannel:
    """The asyncio face of :class:`ControlChannel`."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float) -> None:
        self.url = ws_url(base_url)
        self._headers = headers
        self._connect_timeout = connect_timeout
        self._ws: Any = None
        self._stack = AsyncExitStack()
        self.absent = False

    async def run(self, item: Control) -> None:
        import asyncio

        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI

        if self.absent:
            raise ControlUnavailable("absent")
        if self._ws is None:
            try:
                self._ws = await self._stack.enter_async_context(connect(
                    self.url, additional_headers=self._headers, open_timeout=self._connect_timeout, max_size=None,
                    compression=None))
            except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
                self.absent = True
                log.info("%s offers no control channel (%s): acting through /execute", self.url, exc)
                raise ControlUnavailable(str(exc)) from exc
        for action in item.actions:
            action_id, text = _message(action)
            try:
                await self._ws.send(text)
                while not _outcome(await asyncio.wait_for(self._ws.recv(), item.timeout), action_id, self.url):
                    pass
            except TimeoutError as exc:
                await self.aclose()
                raise TimedOut(f"control channel: no result within {item.timeout:.0f} s", url=self.url,
                               call="control") from exc
            except (ActionFailed, ProtocolError):
                raise
            except Exception as exc:
                await self.aclose()
                raise DeliveryUncertain(f"control channel: {type(exc).__name__}: {exc} (sent, answer lost: "
                                        "not re-sent)", url=self.url, call="control") from exc

    async def aclose(self) -> None:
        self._ws = None
        try:
            await self._stack.aclose()
        except Exception:
            pass

"""What a web page can send is not served: the guard in front of both of arena-gym's servers.

Both servers run commands by design (that is the WAA protocol), so who can reach them is what matters.
In a local arena the agent itself browses the web on the same machine, and a page it opens can make
the browser send requests to loopback. Browsers always mark those, and stock clients (WAA's and
OSWorld's, httpx, requests, curl) never do, so the guard refuses:

- any request with an ``Origin`` header, or a ``Sec-Fetch-Site`` other than ``none``;
- a ``Host`` whose name is not one the server answers to (loopback names, the address it is bound to,
  and names given with ``--allowed-host``); the port is not checked, since tunnels remap it. This stops
  DNS rebinding, where a page's own host name resolves to 127.0.0.1;
- on POST, any media type but the ones stock clients send to that route, matched exactly (JSON
  everywhere; form or multipart only where WAA's and OSWorld's clients use them);
- bodies larger than the route's cap, counted as they stream in (before they are buffered).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..loopback import is_loopback

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
class BodyTooLarge(Exception):
    pass


class BodyTooSlow(BodyTooLarge):
    """A body that stalls: its next part did not come within the idle deadline."""


BODY_IDLE_S = 30.0  # the default: a body part may take this long after the last


def media_type(value: str) -> str:
    """``text/plain;charset=UTF-8;x=json`` -> ``text/plain`` (lower-cased, parameters dropped)."""
    return value.split(";", 1)[0].strip().lower()


def host_name(value: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:5000`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class RequestGuard:
    """ASGI middleware: refuse browser-shaped requests, unexpected media types and oversized bodies.

    ``media``: path -> the media types its POST accepts (others: JSON only). ``body_limits``: path ->
    the largest body in bytes (others: ``max_body``). A POST without a body needs no media type.
    """

    def __init__(self, app: ASGIApp, *, bound: str = "127.0.0.1", allowed_hosts: Iterable[str] = (),
                 media: dict[str, frozenset[str]] | None = None, max_body: int = 16 * 1024 * 1024,
                 body_limits: dict[str, int] | None = None, error_shape: str = "stock",
                 body_idle_s: float = BODY_IDLE_S) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts} | {host_name(bound)}
        self.media = media or {}
        self.max_body = max_body
        self.body_limits = body_limits or {}
        self.error_shape = error_shape
        self.body_idle_s = body_idle_s

    def host_ok(self, value: str) -> bool:
        """Loopback names, the bound address, ``--allowed-host`` names, and address literals (DNS
        rebinding needs a name that resolves to this machine: an address literal cannot be one)."""
        name = host_name(value)
        if is_loopback(name) or name in self.allowed:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        # "stock": the WAA VM server's error shape; "plain": the evaluate server's.
        body = {"status": "error", "message": message} if self.error_shape == "stock" else {"error": message}
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if "origin" in headers:
            await self._refuse(send, 403, f"requests from web pages are refused (Origin: {headers['origin'][:100]})")
            return
        site = headers.get("sec-fetch-site")
        if site is not None and site.lower() != "none":
            await self._refuse(send, 403, f"requests from web pages are refused (Sec-Fetch-Site: {site[:40]})")
            return
        host = headers.get("host", "")
        if host and not self.host_ok(host):
            await self._refuse(send, 403, f"Host {host[:100]!r} is not a name this server answers to; "
                                          "start it with --allowed-host NAME to add one")
            return
        path = scope.get("path", "")
        limit = self.body_limits.get(path, self.max_body)
        length = headers.get("content-length")
        if scope.get("method") == "POST":
            has_body = (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in headers
            ctype = headers.get("content-type")
            allowed = self.media.get(path, frozenset({JSON}))
            if ctype is not None and media_type(ctype) not in allowed:
                await self._refuse(send, 415, f"415 Unsupported Media Type: {path} takes "
                                              f"{' or '.join(sorted(allowed))}, not {media_type(ctype)!r}")
                return
            if has_body and ctype is None:
                await self._refuse(send, 415, f"415 Unsupported Media Type: {path} needs a Content-Type: "
                                              f"{' or '.join(sorted(allowed))}")
                return
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await self._refuse(send, 413, f"request body of {length} bytes is larger than {limit} allowed on {path}")
            return
        await self.app(scope, _capped(receive, limit, self.body_idle_s), send)


def _capped(receive: Receive, limit: int, idle_s: float) -> Receive:
    """A ``receive`` that fails a request whose body grows past ``limit`` as it streams in, or stalls."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        try:
            message = await asyncio.wait_for(receive(), idle_s)
        except asyncio.TimeoutError:
            raise BodyTooSlow(f"the request body stalled for {idle_s:g} s") from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"request body larger than {limit} bytes")
        return message

    return wrapped

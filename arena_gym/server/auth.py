"""Token check shared by arena-gym's servers (required whenever they bind off loopback)."""

from __future__ import annotations

import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class TokenGuard:
    """Refuses requests without the token (``Authorization: Bearer <t>`` or ``X-Arena-Token``)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            given = headers.get(b"x-arena-token", b"")
            auth = headers.get(b"authorization", b"")
            if auth.lower().startswith(b"bearer "):
                given = auth[7:].strip()
            if not hmac.compare_digest(given, self.token):
                reason = "missing token" if not given else "wrong token"
                response = JSONResponse(
                    {"status": "error", "message": f"{reason}: send 'Authorization: Bearer <token>'"}, 401
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

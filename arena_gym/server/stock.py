"""Request and error shapes of the stock WAA server (a Flask app), reproduced for stock clients.

The stock server's catch-all error handler turns every exception, HTTP ones included, into
500 ``{"status": "error", "message": str(e)}``; clients sniff that (e.g. ``"404 Not Found"``).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .capture import DisplayDown
from .desktop import DesktopError
from .guard import BodyTooLarge, BodyTooSlow

log = logging.getLogger(__name__)

NOT_FOUND = (
    "404 Not Found: The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again."
)
METHOD_NOT_ALLOWED = "405 Method Not Allowed: The method is not allowed for the requested URL."
UNSUPPORTED_MEDIA = (
    "415 Unsupported Media Type: Did not attempt to load JSON data because the request Content-Type "
    "was not 'application/json'."
)
BAD_REQUEST = "400 Bad Request: The browser (or proxy) sent a request that this server could not understand."


class Fail(Exception):
    """Answer with ``status`` and ``body`` (a dict becomes JSON, a str plain text)."""

    def __init__(self, status: int, body: dict[str, Any] | str) -> None:
        super().__init__(body if isinstance(body, str) else body.get("message") or body.get("error"))
        self.status = status
        self.body = body

    def response(self) -> Response:
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, status_code=self.status, media_type="text/html")
        return JSONResponse(self.body, status_code=self.status)


def error(message: str, status: int = 500) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message}, status_code=status)


def ok(message: str = "", **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "message": message, **extra})


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object a route expects, failing as Flask's ``request.json`` would."""
    ctype = request.headers.get("content-type", "")
    if "json" not in ctype:
        raise Fail(500, {"status": "error", "message": UNSUPPORTED_MEDIA})
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Fail(500, {"status": "error", "message": BAD_REQUEST}) from exc
    if not isinstance(body, dict):
        raise Fail(500, {"status": "error", "message": f"{BAD_REQUEST} (expected a JSON object)"})
    return body


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    """A required field: missing gives the stock KeyError message, a wrong type says what is expected."""
    if name not in body:
        raise Fail(500, {"status": "error", "message": repr(name)})
    value = body[name]
    if not isinstance(value, kind):
        names = " or ".join(t.__name__ for t in (kind if isinstance(kind, tuple) else (kind,)))
        raise Fail(500, {"status": "error", "message": f"{name!r} must be {names}, got {type(value).__name__}"})
    return value


Handler = Callable[[Request], Awaitable[Response]]


def stock_errors(handler: Handler) -> Handler:
    """Wrap a route so that any failure answers in the stock shape and the server keeps serving."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Fail as exc:
            return exc.response()
        except BodyTooSlow as exc:
            return error(str(exc), 408)
        except BodyTooLarge as exc:
            return error(str(exc), 413)
        except DisplayDown as exc:  # not the request's fault, and not for good: 503, the display named
            return error(str(exc), 503)
        except DesktopError as exc:
            return error(str(exc), exc.status)
        except Exception as exc:  # the stock catch-all: report, keep serving
            log.warning("%s %s failed: %s", request.method, request.url.path, exc, exc_info=log.isEnabledFor(10))
            return error(str(exc))

    return wrapped


async def not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return error(METHOD_NOT_ALLOWED if status == 405 else NOT_FOUND)

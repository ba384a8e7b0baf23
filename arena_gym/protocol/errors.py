"""Typed errors of the wire layer.

Every failure a caller can see from a VM server is one of these, so a training loop can tell an
infrastructure fault (retry, reconnect, truncate the episode) from an agent's mistake.
"""

from __future__ import annotations


class ArenaError(Exception):
    """Base of every error raised by arena-gym."""


class TransportError(ArenaError):
    """The request did not produce a usable HTTP answer."""

    def __init__(self, message: str, *, url: str = "", call: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.call = call


class Unreachable(TransportError):
    """No connection could be made: nothing was sent, so nothing happened on the VM."""


class TimedOut(TransportError):
    """An idempotent call got no complete answer within its timeout (after its retries)."""


class DeliveryUncertain(TransportError):
    """A non-idempotent call (an action, an execute) was sent but its answer never came.

    The VM may or may not have run it; it is never re-sent blindly. Callers decide: observe the
    screen, or end the episode as truncated.
    """


class ServerError(ArenaError):
    """The server answered with an error status; ``message`` is the server's own text."""

    def __init__(self, status_code: int, message: str, *, url: str = "", call: str = "") -> None:
        super().__init__(f"{call or url}: HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.url = url
        self.call = call


class ActionFailed(ServerError):
    """The server ran the agent's action code and it raised (an agent error, not an infra one)."""


class AuthError(ServerError):
    """The server refused the request's token (HTTP 401/403)."""


class ProtocolError(ArenaError):
    """The server answered, but not in the protocol's shape (e.g. a truncated PNG, bad JSON)."""

    def __init__(self, message: str, *, url: str = "", call: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.call = call


def infra_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the VM or the path to it failed (not the task, not the agent).

    Transport faults, a refused token (401/403), a garbled answer and any 5xx from a read all mean
    the state could not be read, so nothing read from it may be scored. An agent's action that
    raised (:class:`ActionFailed`) is the agent's own failure.
    """
    if isinstance(exc, (TransportError, AuthError, ProtocolError)):
        return True
    return isinstance(exc, ServerError) and not isinstance(exc, ActionFailed) and exc.status_code >= 500

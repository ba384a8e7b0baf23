"""The wire layer: typed clients and models for VM servers. Knows nothing of gymnasium."""

from .calls import Call, Kind, OSWorldDialect, WAADialect
from .client import ArenaClient, AsyncArenaClient, RetryPolicy, Timeouts
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
    infra_failure,
)
from .models import Capabilities, DirectoryNode, ExecResult, Frame, ScreenSize, SettleSpec, StepResult

__all__ = [
    "ActionFailed", "ArenaClient", "ArenaError", "AsyncArenaClient", "AuthError", "Call", "Capabilities",
    "DeliveryUncertain", "DirectoryNode", "ExecResult", "Frame", "Kind", "OSWorldDialect", "ProtocolError",
    "RetryPolicy", "ScreenSize", "ServerError", "SettleSpec", "StepResult", "TimedOut", "Timeouts",
    "TransportError", "Unreachable", "WAADialect", "infra_failure",
]

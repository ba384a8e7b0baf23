"""Bridges from a VM host into a container's network namespace, and SSH tunnels.

Stdlib and paramiko only: this package runs on VM hosts that have no gymnasium, numpy or torch.
"""

from .base import Bridge, BridgeConfig
from .health import Probe, http_probe
from .netns import Target, TargetError
from .relay import RelayBridge
from .socat import SocatBridge
from .supervisor import Supervisor
from .tunnel import Forward, SSHTunnel, TunnelConfig, TunnelError

__all__ = ["Bridge", "BridgeConfig", "Forward", "Probe", "RelayBridge", "SSHTunnel", "SocatBridge", "Supervisor",
           "Target", "TargetError", "TunnelConfig", "TunnelError", "http_probe", "make_bridge"]


def make_bridge(config: BridgeConfig, impl: str = "relay") -> Bridge:
    """``relay`` (default: one process, no socket file to go stale, follows container restarts by itself,
    nodelay on both legs) or ``socat`` (the two-stage pair people know, with nodelay and safe restarts)."""
    if impl == "relay":
        return RelayBridge(config)
    if impl == "socat":
        return SocatBridge(config)
    raise ValueError(f"unknown bridge implementation {impl!r}: use relay or socat")

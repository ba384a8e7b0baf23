"""Is a host this machine's loopback? One answer for the server's bind rule, its Host-header guard and
the client's frame files."""

from __future__ import annotations

import ipaddress

# Names the system resolves to loopback (Debian's /etc/hosts).
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """A loopback name, or an address in 127.0.0.0/8 or ::1."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

"""The local arena: a real Linux desktop serving the WAA protocol on loopback."""

from .local import ArenaStartError, LocalArena, missing_tools

__all__ = ["ArenaStartError", "LocalArena", "missing_tools"]

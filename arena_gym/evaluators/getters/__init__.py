"""Built-in getters, registered by name on import."""

from . import browser, commands, files, windows  # noqa: F401

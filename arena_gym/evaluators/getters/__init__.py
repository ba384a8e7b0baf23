"""Built-in getters, registered by name on import."""

from . import browser, commands, files, slides, windows  # noqa: F401

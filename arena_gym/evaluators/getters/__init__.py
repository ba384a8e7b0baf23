"""Built-in getters, registered by name on import."""

from . import apps, browser, commands, files, slides, windows  # noqa: F401

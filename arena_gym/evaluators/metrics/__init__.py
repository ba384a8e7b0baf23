"""Built-in metrics, registered by name on import."""

from . import browser, docs, general, images, table, vlc  # noqa: F401

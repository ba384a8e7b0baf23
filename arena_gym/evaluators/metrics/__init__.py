"""Built-in metrics, registered by name on import."""

from . import browser, docs, general, gimp, images, media, slides, table, vlc  # noqa: F401

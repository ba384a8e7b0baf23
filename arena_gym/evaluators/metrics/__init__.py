"""Built-in metrics, registered by name on import."""

from . import browser, desktop, docs, general, gimp, images, media, slides, table, thunderbird, vlc, writer  # noqa: F401

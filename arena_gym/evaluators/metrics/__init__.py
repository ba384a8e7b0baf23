"""Built-in metrics, registered by name on import."""

from . import (  # noqa: F401
    browser,
    code,
    desktop,
    docs,
    general,
    gimp,
    images,
    media,
    slides,
    table,
    thunderbird,
    vlc,
    web,
    writer,
)

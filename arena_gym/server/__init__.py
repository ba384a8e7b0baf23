"""arena-gym's desktop server: the WAA VM protocol on a Linux X display (``serve``, ``create_app``)."""

from .serve import serve

__all__ = ["serve"]

"""arena-gym: Gymnasium environments for computer-use agents on real desktops.

Importing it registers ``WAA-v0``, ``OSWorld-v0`` and ``LocalDesktop-v0`` with gymnasium.
"""

__version__ = "0.1.0"


def _register() -> None:
    try:
        from .ids import register_all
    except ImportError:  # gymnasium missing: the wire layer and servers still work
        return
    register_all()


_register()

"""arena-gym: Gymnasium environments for computer-use agents on real desktops."""

__version__ = "0.1.0"

"""Gymnasium envs over desktops: ``WAA-v0``, ``OSWorld-v0``, ``LocalDesktop-v0``."""

from .config import EnvConfig, ObservationConfig, TaskSelection
from .desktop_env import DesktopEnv
from .registration import register_all

__all__ = ["DesktopEnv", "EnvConfig", "ObservationConfig", "TaskSelection", "register_all"]

"""The evaluate server: stock WAA ``/setup`` and ``/evaluate`` next to a VM."""

from .app import EvaluateOptions, create_app

__all__ = ["EvaluateOptions", "create_app"]

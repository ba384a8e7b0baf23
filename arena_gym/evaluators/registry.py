"""Registries of metrics and getters, by the names task files use.

Users add their own with ``@metric("name")`` / ``@getter("name")``; a name nobody registered is
an error that lists the near names.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

Metric = Callable[..., Any]
Getter = Callable[..., Any]

METRICS: dict[str, Metric] = {}
GETTERS: dict[str, Getter] = {}


class EvaluatorError(ValueError):
    """An evaluator block names something that cannot run (unknown metric or getter)."""


class WindowsOnly(RuntimeError):
    """A getter that only a Windows VM can answer was asked of another platform."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"getter {name!r} needs a Windows VM: {why}")
        self.name = name
        self.why = why


def metric(name: str) -> Callable[[Metric], Metric]:
    def register(fn: Metric) -> Metric:
        METRICS[name] = fn
        return fn

    return register


def getter(name: str) -> Callable[[Getter], Getter]:
    def register(fn: Getter) -> Getter:
        GETTERS[name] = fn
        return fn

    return register


def _unknown(kind: str, name: str, known: dict[str, Any]) -> EvaluatorError:
    near = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return EvaluatorError(
        f"unknown {kind} {name!r}{hint} (register your own with arena_gym.evaluators.{kind}({name!r}))"
    )


def get_metric(name: str) -> Metric:
    _load_builtin()
    try:
        return METRICS[name]
    except KeyError:
        raise _unknown("metric", name, METRICS) from None


def get_getter(name: str) -> Getter:
    _load_builtin()
    try:
        return GETTERS[name]
    except KeyError:
        raise _unknown("getter", name, GETTERS) from None


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from . import getters, metrics  # noqa: F401 - importing registers them

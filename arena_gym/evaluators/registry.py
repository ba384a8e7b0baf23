"""Registries of metrics and getters, by the names task files use, with what each needs of its VM.

Users add their own with ``@metric("name")`` / ``@getter("name")``. A getter that only some VMs can
answer says so where it is registered (``platform="windows"``, or ``needs="..."`` for a side channel
that is not built), so a task that cannot be scored is found when it is loaded, before an agent acts.
This module imports nothing of the package: it is the leaf everything else asks.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Metric = Callable[..., Any]
Getter = Callable[..., Any]


@dataclass(frozen=True)
class GetterFacts:
    """What a getter needs: a platform (``"windows"``) and/or an unbuilt capability, with why."""

    platform: str | None = None
    needs: str | None = None
    why: str = ""

    def blocks(self, vm_platform: str | None) -> str | None:
        """Why this getter cannot answer on ``vm_platform`` (None: it can, or the platform is not known yet)."""
        if self.needs:
            return self.why or f"needs {self.needs}"
        if self.platform and vm_platform and self.platform != vm_platform:
            return f"needs {self.platform.capitalize()}: {self.why}" if self.why else f"needs {self.platform.capitalize()}"
        return None


METRICS: dict[str, Metric] = {}
# A metric whose semantics differ between benchmarks on the same input: (benchmark, name) -> its variant.
# The task's benchmark decides (``Task.benchmark``); a name without a variant is the same for all.
METRIC_VARIANTS: dict[tuple[str, str], Metric] = {}
GETTERS: dict[str, Getter] = {}
GETTER_FACTS: dict[str, GetterFacts] = {}


class EvaluatorError(ValueError):
    """An evaluator block names something that cannot run (unknown metric or getter)."""


class Unscorable(RuntimeError):
    """The task cannot be scored on this VM or build: its reward would not be the benchmark's score."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WindowsOnly(Unscorable):
    """A getter that only a Windows VM can answer was asked of another platform."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"getter {name!r} needs Windows: {why}")
        self.name = name
        self.why = why


def metric(name: str, benchmark: str | None = None) -> Callable[[Metric], Metric]:
    """Register a metric by the name task files use; ``benchmark`` ("waa", "osworld"): only for that
    benchmark's tasks, where its semantics differ from the shared one's."""

    def register(fn: Metric) -> Metric:
        if benchmark is None:
            METRICS[name] = fn
        else:
            METRIC_VARIANTS[(benchmark, name)] = fn
        return fn

    return register


def getter(name: str, *, platform: str | None = None, needs: str | None = None,
           why: str = "") -> Callable[[Getter], Getter]:
    """Register a getter; ``platform``/``needs``/``why`` are what :func:`getter_blocked` reports."""

    def register(fn: Getter) -> Getter:
        GETTERS[name] = fn
        if platform or needs:
            GETTER_FACTS[name] = GetterFacts(platform, needs, why)
        else:
            GETTER_FACTS.pop(name, None)
        return fn

    return register


def getter_facts(name: str) -> GetterFacts:
    _load_builtin()
    return GETTER_FACTS.get(name, GetterFacts())


def getter_blocked(name: str, vm_platform: str | None) -> str | None:
    """Why getter ``name`` cannot answer on ``vm_platform``; None when it can (or is unknown)."""
    return getter_facts(name).blocks(vm_platform)


def _unknown(kind: str, name: str, known: dict[str, Any]) -> EvaluatorError:
    near = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return EvaluatorError(
        f"unknown {kind} {name!r}{hint} (register your own with arena_gym.evaluators.{kind}({name!r}))"
    )


def get_metric(name: str, benchmark: str | None = None) -> Metric:
    """The metric ``name`` as ``benchmark``'s tasks are scored by it (its variant, else the shared one)."""
    _load_builtin()
    if benchmark is not None and (benchmark, name) in METRIC_VARIANTS:
        return METRIC_VARIANTS[(benchmark, name)]
    try:
        return METRICS[name]
    except KeyError:
        if benchmark is not None and any(n == name for _, n in METRIC_VARIANTS):
            raise EvaluatorError(f"metric {name!r} is only registered for other benchmarks than {benchmark!r}") from None
        raise _unknown("metric", name, METRICS) from None


def get_getter(name: str) -> Getter:
    _load_builtin()
    try:
        return GETTERS[name]
    except KeyError:
        raise _unknown("getter", name, GETTERS) from None


_loaded = False
_loading = threading.RLock()


def _load_builtin() -> None:
    """Register the built-in getters and metrics once. Envs on many threads (the collector's slots) look
    names up at once: the lock keeps any of them from seeing a half-filled registry."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if not _loaded:
            from . import getters, metrics  # noqa: F401 - importing registers them

            _loaded = True

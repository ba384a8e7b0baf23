"""Before an agent acts: can this task be set up and scored on this VM at all?

A task whose reward could not be the benchmark's score (an unknown metric, a getter this platform
cannot answer, a side channel that is not built) is found here, when tasks are loaded or at reset,
not when the agent says DONE.
"""

from __future__ import annotations

from ..tasks.models import GetterSpec, Task
from ..tasks.platform import windows_needs
from .registry import EvaluatorError, get_getter, get_metric, getter_blocked


def _getter_specs(task: Task) -> list[tuple[str, GetterSpec]]:
    ev = task.evaluator
    found = []
    for role, specs in (("result", ev.result), ("expected", ev.expected)):
        for spec in specs if isinstance(specs, list) else [specs]:
            if spec is not None:
                found.append((role, spec))
    return found


def scoring_blockers(task: Task, platform: str | None = None) -> list[str]:
    """Why ``task`` cannot be scored on a VM of ``platform`` ("windows", "linux", or None when not yet
    known: then only what no VM can do is reported). Empty when it can."""
    reasons: list[str] = []
    ev = task.evaluator
    if not ev.infeasible:
        for name in ev.metrics:
            try:
                get_metric(name, task.benchmark)
            except EvaluatorError as exc:
                reasons.append(str(exc))
        for role, spec in _getter_specs(task):
            try:
                get_getter(spec.type)
            except EvaluatorError as exc:
                reasons.append(f"{role}: {exc}")
                continue
            blocked = getter_blocked(spec.type, platform)
            if blocked:
                reasons.append(f"{role} getter {spec.type} {blocked}")
    return reasons


def blockers(task: Task, platform: str | None = None) -> list[str]:
    """Everything that stops ``task`` from giving a valid reward on ``platform``: what cannot be scored,
    and on Linux what needs Windows (apps, programs, getters)."""
    reasons = scoring_blockers(task, platform)
    if platform == "linux":
        # Windows-only getters are reported above already.
        reasons += [str(need) for need in windows_needs(task) if need.kind != "getter"]
    return reasons

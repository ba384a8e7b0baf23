"""WAA's scoring algorithm (``DesktopEnv.evaluate``, spec 3.4), with infrastructure faults kept apart.

A getter that fails because the VM is unreachable does not make a genuine 0: the outcome carries
``infra_error`` and ``reward_valid=False`` so a trainer never learns it as the agent's failure.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from ..protocol import TransportError
from ..tasks.models import GetterSpec, Task
from ..tasks.setup import SetupError, SetupExecutor
from .context import EvalContext
from .registry import EvaluatorError, get_getter, get_metric

log = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    score: float
    details: list[dict[str, Any]] = field(default_factory=list)
    infra_error: str | None = None
    reason: str = ""

    @property
    def reward_valid(self) -> bool:
        return self.infra_error is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reward_valid": self.reward_valid}


class _Infra(Exception):
    """Internal: a getter failed for an infrastructure reason."""


def _getter_value(ctx: EvalContext, spec: GetterSpec | None) -> Any:
    if spec is None:
        return None
    fn = get_getter(spec.type)
    try:
        return fn(ctx, {"type": spec.type, **spec.options()})
    except TransportError as exc:
        raise _Infra(f"getter {spec.type}: {exc}") from exc


def _as_score(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return 0.0  # a metric that answers something else than a number scores 0, as in WAA


def _check_names(task: Task) -> None:
    """Unknown metric or getter names are configuration errors: raise before touching the VM."""
    ev = task.evaluator
    if ev.infeasible:
        return
    for name in ev.metrics:
        get_metric(name)
    for specs in (ev.result, ev.expected):
        for spec in specs if isinstance(specs, list) else [specs]:
            if spec is not None:
                get_getter(spec.type)


def evaluate(task: Task, ctx: EvalContext, last_action: str | None, run_postconfig: bool = True) -> EvalOutcome:
    """Score the VM's state for ``task`` after an episode whose last action was ``last_action``."""
    _check_names(task)
    ev = task.evaluator
    if run_postconfig and ev.postconfig:
        executor = SetupExecutor(ctx.client, ctx.vm_platform(), ctx.fetcher, ctx.task_dir)
        try:
            executor.run(ev.postconfig, strict=False)
        except SetupError as exc:
            return EvalOutcome(0.0, infra_error=str(exc), reason="postconfig could not reach the VM")

    if ev.infeasible:
        score = 1.0 if last_action == "FAIL" else 0.0
        return EvalOutcome(score, reason="infeasible: scored by whether the agent answered FAIL")
    if last_action == "FAIL":
        return EvalOutcome(0.0, reason="the agent answered FAIL on a feasible task")

    options = ev.options
    try:
        if not isinstance(ev.func, list):
            return _single(ctx, ev.func, ev.result, ev.expected, options)
        return _combined(ctx, task)
    except _Infra as exc:
        return EvalOutcome(0.0, infra_error=str(exc), reason="a getter could not reach the VM")


def _call_metric(name: str, result: Any, expected: Any, has_expected: bool, options: Any) -> tuple[float, str]:
    fn = get_metric(name)
    kwargs = options if isinstance(options, dict) else {}
    try:
        value = fn(result, expected, **kwargs) if has_expected and expected is not None else fn(result, **kwargs)
    except EvaluatorError:
        raise
    except Exception as exc:  # a metric that raises scores 0 (its reason is kept)
        log.info("metric %s raised: %s", name, exc)
        return 0.0, f"{name} raised {type(exc).__name__}: {exc}"
    return _as_score(value), ""


def _single(ctx: EvalContext, name: str, result_spec: Any, expected_spec: Any, options: Any) -> EvalOutcome:
    try:
        result = _getter_value(ctx, result_spec)
    except _Infra:
        raise
    except Exception as exc:  # WAA: any getter failure scores 0
        return EvalOutcome(0.0, [{"metric": name, "score": 0.0, "error": f"result getter: {exc}"}],
                           reason=f"result getter failed: {exc}")
    try:
        expected = _getter_value(ctx, expected_spec)
    except _Infra:
        raise
    except Exception as exc:
        return EvalOutcome(0.0, [{"metric": name, "score": 0.0, "error": f"expected getter: {exc}"}],
                           reason=f"expected getter failed: {exc}")
    score, error = _call_metric(name, result, expected, expected_spec is not None, options)
    detail = {"metric": name, "score": score}
    if error:
        detail["error"] = error
    return EvalOutcome(score, [detail], reason=error or f"{name}: {score:.2f}")


def _combined(ctx: EvalContext, task: Task) -> EvalOutcome:
    ev = task.evaluator
    names = ev.metrics
    results = ev.result if isinstance(ev.result, list) else [ev.result] * len(names)
    expecteds = ev.expected if isinstance(ev.expected, list) else [ev.expected] * len(names)
    options = ev.options if isinstance(ev.options, list) else [ev.options or {}] * len(names)
    conj = ev.conj
    details: list[dict[str, Any]] = []
    scores: list[float] = []
    for i, name in enumerate(names):
        try:
            result = _getter_value(ctx, results[i])
        except _Infra:
            raise
        except Exception as exc:
            details.append({"metric": name, "score": 0.0, "error": f"result getter: {exc}"})
            if conj == "and":
                return EvalOutcome(0.0, details, reason=f"{name}: result getter failed")
            scores.append(0.0)
            continue
        expected_spec = expecteds[i]
        try:
            expected = _getter_value(ctx, expected_spec)
        except _Infra:
            raise
        except Exception as exc:
            details.append({"metric": name, "score": 0.0, "error": f"expected getter: {exc}"})
            if conj == "and":
                return EvalOutcome(0.0, details, reason=f"{name}: expected getter failed")
            scores.append(0.0)
            continue
        score, error = _call_metric(name, result, expected, expected_spec is not None, options[i])
        details.append({"metric": name, "score": score, **({"error": error} if error else {})})
        scores.append(score)
        if conj == "and" and score == 0.0:
            return EvalOutcome(0.0, details, reason=f"{name} scored 0")
        if conj == "or" and score == 1.0:
            return EvalOutcome(1.0, details, reason=f"{name} scored 1")
    final = sum(scores) / len(scores) if conj == "and" else max(scores, default=0.0)
    return EvalOutcome(final, details, reason=f"{conj} of {len(scores)} metrics")

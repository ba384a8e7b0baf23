"""WAA's scoring algorithm (``DesktopEnv.evaluate``, spec 3.4), where every outcome says what it is.

An outcome is one of three kinds, and only the first is a reward a trainer may learn from:
- ``valid``: the evaluator ran on the VM's real state; ``score`` is WAA's score.
- ``infra``: the VM, the transport or the token failed, so its state could not be read (``infra_error``).
- ``unscorable``: this VM or build cannot score the task (a Windows-only getter on Linux, a side
  channel not built, a metric that raised on the task's own rules): ``unscorable`` says why.

Where WAA's loop would raise out of ``evaluate`` (and WAA's runner then writes no result at all), the
outcome is ``unscorable``; where WAA scores a getter failure as 0 (a missing result file), it is a
valid 0. Differences kept on purpose are listed in the README's evaluator section.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from ..protocol import infra_failure
from ..tasks.models import GetterSpec, Task
from ..tasks.setup import FetchError, SetupError, SetupExecutor
from .context import EvalContext
from .registry import EvaluatorError, Unscorable, get_getter, get_metric

log = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    score: float
    details: list[dict[str, Any]] = field(default_factory=list)
    infra_error: str | None = None
    reason: str = ""
    unscorable: str | None = None

    @property
    def reward_valid(self) -> bool:
        return self.infra_error is None and self.unscorable is None

    @property
    def kind(self) -> str:
        if self.infra_error is not None:
            return "infra"
        return "unscorable" if self.unscorable is not None else "valid"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reward_valid": self.reward_valid, "kind": self.kind}

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> EvalOutcome:
        """Read an evaluate server's answer. A stock server sends no classification: its score is taken
        as valid, as it is all there is; ours always sends ``reward_valid`` with the reason."""
        infra = answer.get("infra_error")
        unscorable = answer.get("unscorable")
        if answer.get("reward_valid") is False and not infra and not unscorable:
            unscorable = str(answer.get("reason") or "the evaluate server marked the reward invalid")
        return cls(float(answer.get("score", 0.0) or 0.0), answer.get("details") or [], infra,
                   str(answer.get("reason", "")), unscorable)


class _Stop(Exception):
    """Internal: scoring ends here with this outcome (an infrastructure failure or an unscorable task)."""

    def __init__(self, outcome: EvalOutcome) -> None:
        super().__init__(outcome.infra_error or outcome.unscorable)
        self.outcome = outcome


def _stop_for(exc: BaseException, where: str, details: list[dict[str, Any]]) -> _Stop | None:
    """The outcome an exception forces, or None when it is an ordinary failure (WAA's rules decide)."""
    if infra_failure(exc) or isinstance(exc, FetchError):
        return _Stop(EvalOutcome(0.0, details, infra_error=f"{where}: {exc}",
                                 reason="the VM's state could not be read"))
    if isinstance(exc, (Unscorable, NotImplementedError, EvaluatorError)):
        reason = exc.reason if isinstance(exc, Unscorable) else str(exc)
        return _Stop(EvalOutcome(0.0, details, unscorable=f"{where}: {reason}", reason="cannot be scored here"))
    return None


def _getter_name(spec: Any) -> str:
    return str(getattr(spec, "type", "?"))


def _unscorable(where: str, exc: BaseException | str, details: list[dict[str, Any]]) -> _Stop:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return _Stop(EvalOutcome(0.0, details, unscorable=f"{where}: {text}", reason="cannot be scored here"))


def _get(ctx: EvalContext, spec: GetterSpec | None, role: str, details: list[dict[str, Any]]) -> Any:
    """Run one getter; infrastructure and unscorable failures stop scoring, other errors propagate."""
    if spec is None:
        return None
    fn = get_getter(spec.type)
    try:
        return fn(ctx, {"type": spec.type, **spec.options()})
    except Exception as exc:
        stop = _stop_for(exc, f"{role} getter {spec.type}", details)
        if stop is not None:
            raise stop from exc
        raise


def _number(value: Any) -> float | None:
    """A metric's answer as a float: numbers and bools as they are, numeric strings as WAA's
    ``float(metric)`` reads them; None for anything else."""
    if isinstance(value, (bool, numbers.Real)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _call_metric(task: Task, name: str, result: Any, expected: Any, options: Any,
                 details: list[dict[str, Any]]) -> float:
    fn = get_metric(name, task.benchmark)
    kwargs = options if isinstance(options, dict) else {}
    try:
        value = fn(result, expected, **kwargs) if expected is not None else fn(result, **kwargs)
    except Exception as exc:
        stop = _stop_for(exc, f"metric {name}", details)
        if stop is not None:
            raise stop from exc
        # WAA's evaluate raises here and its runner writes no result: no score exists.
        log.warning("metric %s raised: %s", name, exc)
        raise _unscorable(f"metric {name} raised", exc, details) from exc
    score = _number(value)
    if score is None:
        raise _unscorable(f"metric {name}", f"answered {type(value).__name__} {value!r:.80}, not a number", details)
    return score


def evaluate(task: Task, ctx: EvalContext, last_action: str | None, run_postconfig: bool = True) -> EvalOutcome:
    """Score the VM's state for ``task`` after an episode whose last action was ``last_action``."""
    details: list[dict[str, Any]] = []
    try:
        _check_names(task)
        _run_postconfig(task, ctx, details, run_postconfig)
        ev = task.evaluator
        if ev.infeasible:
            score = 1.0 if last_action == "FAIL" else 0.0
            return EvalOutcome(score, details, reason="infeasible: scored by whether the agent answered FAIL")
        if last_action == "FAIL":
            return EvalOutcome(0.0, details, reason="the agent answered FAIL on a feasible task")
        if not isinstance(ev.func, list):
            return _single(ctx, task, details)
        return _combined(ctx, task, details)
    except _Stop as stop:
        return stop.outcome


def _check_names(task: Task) -> None:
    """Unknown metric or getter names: the task cannot be scored (and was refused at load time)."""
    ev = task.evaluator
    if ev.infeasible:
        return
    try:
        for name in ev.metrics:
            get_metric(name, task.benchmark)
        for specs in (ev.result, ev.expected):
            for spec in specs if isinstance(specs, list) else [specs]:
                if spec is not None:
                    get_getter(spec.type)
    except EvaluatorError as exc:
        raise _unscorable("evaluator", str(exc), []) from exc


def _run_postconfig(task: Task, ctx: EvalContext, details: list[dict[str, Any]], run: bool) -> None:
    steps = task.evaluator.postconfig
    if not run or not steps:
        return
    executor = SetupExecutor(ctx.client, ctx.vm_platform(), ctx.fetcher, ctx.task_dir, ctx.cache_dir, ctx.browser)
    try:
        outcomes = executor.run(steps, strict=False)
    except SetupError as exc:  # raised when not strict only for an unreachable or refusing VM
        raise _Stop(EvalOutcome(0.0, details, infra_error=f"postconfig: {exc}",
                                reason="postconfig could not reach the VM")) from exc
    for o in outcomes:
        if o.status != "ok":
            # WAA's setup controller logs a failed postconfig step and goes on; so do we, on the record.
            details.append({"postconfig": o.type, "index": o.index, "error": o.error})


def _single(ctx: EvalContext, task: Task, details: list[dict[str, Any]]) -> EvalOutcome:
    ev = task.evaluator
    name = str(ev.func)
    try:
        result = _get(ctx, ev.result if not isinstance(ev.result, list) else None, "result", details)
    except _Stop:
        raise
    except Exception as exc:  # WAA: any result-getter failure scores 0 (e.g. no result file)
        details.append({"metric": name, "score": 0.0, "error": f"result getter: {exc}"})
        return EvalOutcome(0.0, details, reason=f"result getter failed: {exc}")
    expected_spec = ev.expected if not isinstance(ev.expected, list) else None
    try:
        expected = _get(ctx, expected_spec, "expected", details)
    except _Stop:
        raise
    except Exception as exc:  # WAA lets this raise out of evaluate: no score
        raise _unscorable(f"expected getter {expected_spec.type if expected_spec else '?'}", exc, details) from exc
    score = _call_metric(task, name, result, expected, ev.options, details)
    details.append({"metric": name, "score": score})
    return EvalOutcome(score, details, reason=f"{name}: {score:.2f}")


def _combined(ctx: EvalContext, task: Task, details: list[dict[str, Any]]) -> EvalOutcome:
    ev = task.evaluator
    names = ev.metrics
    results = ev.result if isinstance(ev.result, list) else [ev.result] * len(names)
    expecteds = ev.expected if isinstance(ev.expected, list) else [ev.expected] * len(names)
    options = ev.options if isinstance(ev.options, list) else [ev.options or {}] * len(names)
    conj = ev.conj
    scores: list[float] = []
    for i, name in enumerate(names):
        try:
            result = _get(ctx, results[i], "result", details)
        except _Stop:
            raise
        except FileNotFoundError as exc:
            details.append({"metric": name, "score": 0.0, "error": f"result getter: {exc}"})
            if conj == "and":
                return EvalOutcome(0.0, details, reason=f"{name}: result file not found")
            if not scores:
                # WAA then calls the metric on an unbound result and raises: no score.
                raise _unscorable(f"result getter {_getter_name(results[i])}", exc, details) from exc
            # WAA would reuse the previous metric's result here; we count this alternative as 0.
            scores.append(0.0)
            continue
        except Exception as exc:  # WAA lets any other getter failure raise out of evaluate
            raise _unscorable(f"result getter {_getter_name(results[i])}", exc, details) from exc
        expected_spec = expecteds[i]
        try:
            expected = _get(ctx, expected_spec, "expected", details)
        except _Stop:
            raise
        except Exception as exc:
            raise _unscorable(f"expected getter {expected_spec.type if expected_spec else '?'}", exc,
                              details) from exc
        score = _call_metric(task, name, result, expected, options[i] or {}, details)
        details.append({"metric": name, "score": score})
        scores.append(score)
        if conj == "and" and score == 0.0:
            return EvalOutcome(0.0, details, reason=f"{name} scored 0")
        if conj == "or" and score == 1.0:
            return EvalOutcome(1.0, details, reason=f"{name} scored 1")
    final = sum(scores) / len(scores) if conj == "and" else max(scores, default=0.0)
    return EvalOutcome(final, details, reason=f"{conj} of {len(scores)} metrics")

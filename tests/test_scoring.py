"""WAA's scoring algorithm (spec 3.4) with host-only getters, so no VM is needed here."""

from __future__ import annotations

import pytest

from arena_gym.evaluators import EvalContext, EvaluatorError, evaluate, getter, metric
from arena_gym.protocol import ArenaClient
from arena_gym.tasks.loader import parse_task

from .support.fault_server import refused_url


@pytest.fixture
def ctx(tmp_path):
    # Nothing here should touch the VM; a refused URL proves it (a call would raise Unreachable).
    with ArenaClient(refused_url(), dialect="waa") as client:
        yield EvalContext(client, tmp_path, platform="linux")


def task(evaluator: dict) -> object:
    return parse_task({"id": "t", "instruction": "i", "config": [], "evaluator": evaluator}, "t.json")


def rule(value):
    return {"type": "rule", "rules": {"expected": value}}


@metric("test_echo")
def _echo(result, expected=None, **options):
    return options.get("score", 1.0 if result == (expected or {}).get("expected", result) else 0.0)


@getter("test_value")
def _value(ctx, spec):
    if spec.get("raise"):
        raise FileNotFoundError("nothing there")
    return spec["value"]


def test_infeasible_scores_only_fail(ctx):
    t = task({"func": "infeasible"})
    assert evaluate(t, ctx, "FAIL").score == 1.0
    assert evaluate(t, ctx, "DONE").score == 0.0
    assert evaluate(t, ctx, None).score == 0.0


def test_fail_on_a_feasible_task_scores_zero(ctx):
    t = task({"func": "exact_match", "result": {"type": "test_value", "value": 1}, "expected": rule(1)})
    assert evaluate(t, ctx, "DONE").score == 1.0
    assert evaluate(t, ctx, "FAIL").score == 0.0


def test_options_reach_the_metric(ctx):
    t = task({"func": "test_echo", "result": {"type": "test_value", "value": 1}, "options": {"score": 0.25}})
    assert evaluate(t, ctx, "DONE").score == 0.25


def test_and_is_zero_if_any_zero_else_mean(ctx):
    def ev(scores, conj="and"):
        return task({"func": ["test_echo"] * len(scores), "conj": conj,
                     "result": [{"type": "test_value", "value": 0}] * len(scores),
                     "options": [{"score": s} for s in scores]})

    assert evaluate(ev([1.0, 0.5]), ctx, "DONE").score == 0.75
    assert evaluate(ev([1.0, 0.0, 1.0]), ctx, "DONE").score == 0.0
    assert evaluate(ev([0.0, 0.5], "or"), ctx, "DONE").score == 0.5
    out = evaluate(ev([0.2, 1.0, 0.0], "or"), ctx, "DONE")
    assert out.score == 1.0 and len(out.details) == 2  # stops at the first 1


def test_null_expected_entry_calls_metric_without_it(ctx):
    t = task({"func": ["exact_match", "test_echo"],
              "result": [{"type": "test_value", "value": "a"}, {"type": "test_value", "value": "b"}],
              "expected": [rule("a"), None]})
    out = evaluate(t, ctx, "DONE")
    assert out.score == 1.0 and [d["score"] for d in out.details] == [1.0, 1.0]


def test_getter_failure_scores_zero_for_and(ctx):
    t = task({"func": ["test_echo", "test_echo"],
              "result": [{"type": "test_value", "raise": True}, {"type": "test_value", "value": 1}]})
    out = evaluate(t, ctx, "DONE")
    assert out.score == 0.0 and out.reward_valid and "getter" in out.details[0]["error"]


def test_unreachable_vm_is_infra_not_zero(ctx):
    t = task({"func": "exact_match", "result": {"type": "vm_file", "path": "~/a.txt", "dest": "a.txt"},
              "expected": rule("x")})
    out = evaluate(t, ctx, "DONE")
    assert out.score == 0.0 and not out.reward_valid and "vm_file" in out.infra_error


def test_unknown_names_are_clear_errors(ctx):
    with pytest.raises(EvaluatorError, match="unknown metric 'exact_mach'.*exact_match"):
        evaluate(task({"func": "exact_mach", "result": rule(1)}), ctx, "DONE")
    with pytest.raises(EvaluatorError, match="unknown getter 'vm_fiel'"):
        evaluate(task({"func": "exact_match", "result": {"type": "vm_fiel"}}), ctx, "DONE")


def test_metric_that_raises_scores_zero_with_reason(ctx):
    t = task({"func": "compare_table", "result": {"type": "test_value", "value": "/no/such.xlsx"}})
    out = evaluate(t, ctx, "DONE")
    assert out.score == 0.0 and out.reward_valid

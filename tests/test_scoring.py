"""WAA's scoring algorithm (spec 3.4) with host-only getters, so no VM is needed here."""

from __future__ import annotations

import pytest

from arena_gym.evaluators import EvalContext, evaluate, getter, metric
from arena_gym.evaluators.preflight import scoring_blockers
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


def test_unknown_names_are_unscorable_and_found_before_acting(ctx):
    typo = task({"func": "exact_mach", "result": rule(1)})
    out = evaluate(typo, ctx, "DONE")
    assert not out.reward_valid and out.kind == "unscorable"
    assert "unknown metric 'exact_mach'" in out.unscorable and "exact_match" in out.unscorable
    assert any("unknown metric 'exact_mach'" in r for r in scoring_blockers(typo))
    bad_getter = task({"func": "exact_match", "result": {"type": "vm_fiel"}})
    assert "unknown getter 'vm_fiel'" in evaluate(bad_getter, ctx, "DONE").unscorable
    assert any("unknown getter 'vm_fiel'" in r for r in scoring_blockers(bad_getter))


def test_metric_that_raises_on_the_tasks_own_rules_is_unscorable_not_zero(ctx):
    t = task({"func": "compare_table", "result": {"type": "test_value", "value": "/no/such.xlsx"}})
    out = evaluate(t, ctx, "DONE")
    assert out.score == 0.0 and not out.reward_valid and "compare_table" in out.unscorable


@metric("test_answer")
def _answer(result, expected=None, **options):
    if options.get("raise"):
        raise KeyError("rules")
    return options["value"]


def _listed(conj, *items, getters=None):
    n = len(items)
    return task({"func": ["test_answer"] * n, "conj": conj,
                 "result": getters or [{"type": "test_value", "value": 0}] * n,
                 "options": [dict(item) for item in items]})


def test_or_coerces_a_numeric_string_as_waa_does(ctx):
    out = evaluate(_listed("or", {"value": "0.0"}, {"value": "1.0"}), ctx, "DONE")
    assert out.score == 1.0 and out.reward_valid
    out = evaluate(_listed("and", {"value": "1.0"}, {"value": 0.5}), ctx, "DONE")
    assert out.score == 0.75 and out.reward_valid


def test_a_metric_answering_no_number_is_unscorable(ctx):
    out = evaluate(_listed("or", {"value": "yes"}), ctx, "DONE")
    assert not out.reward_valid and "not a number" in out.unscorable
    single = task({"func": "test_answer", "result": {"type": "test_value", "value": 0}, "options": {"value": None}})
    assert not evaluate(single, ctx, "DONE").reward_valid


def test_or_with_a_first_metric_or_getter_that_raises_has_no_score_as_in_waa(ctx):
    out = evaluate(_listed("or", {"raise": True}, {"value": 1.0}), ctx, "DONE")
    assert not out.reward_valid and "test_answer raised" in out.unscorable
    missing_first = _listed("or", {"value": 1.0}, {"value": 1.0},
                            getters=[{"type": "test_value", "raise": True}, {"type": "test_value", "value": 0}])
    out = evaluate(missing_first, ctx, "DONE")
    assert not out.reward_valid and "test_value" in out.unscorable
    # A later alternative whose file is missing counts as 0 (WAA would reuse the previous result).
    missing_later = _listed("or", {"value": 0.5}, {"value": 1.0},
                            getters=[{"type": "test_value", "value": 0}, {"type": "test_value", "raise": True}])
    out = evaluate(missing_later, ctx, "DONE")
    assert out.reward_valid and out.score == 0.5


def test_getter_that_needs_another_platform_is_unscorable(ctx):
    t = task({"func": "exact_match", "result": {"type": "system_timezone"}, "expected": rule("UTC")})
    out = evaluate(t, ctx, "DONE")
    assert not out.reward_valid and "needs Windows" in out.unscorable
    assert any("needs Windows" in r for r in scoring_blockers(t, "linux"))
    assert scoring_blockers(t, "windows") == []


def test_getters_not_built_are_unscorable_on_every_platform(ctx):
    t = task({"func": "exact_match", "result": {"type": "night_light_state"},
              "expected": {"type": "rule", "rules": {"expected": "on"}}})
    out = evaluate(t, ctx, "DONE")
    assert not out.reward_valid and "not implemented yet" in out.unscorable
    for platform in ("linux", "windows", None):
        assert any("does not implement yet" in r for r in scoring_blockers(t, platform))


def test_a_browser_whose_devtools_port_does_not_answer_is_an_infrastructure_failure(ctx):
    """The stock VM double has no browser: reading its tabs cannot give a score, and says why."""
    t = task({"func": "is_expected_tabs", "result": {"type": "open_tabs_info"},
              "expected": {"type": "rule", "rules": {"type": "url", "urls": []}}})
    out = evaluate(t, ctx, "DONE")
    assert not out.reward_valid and out.infra_error and "tabs_info" in out.infra_error, out


def test_the_tasks_benchmark_decides_a_metric_whose_semantics_differ(ctx):
    """is_expected_bookmarks: WAA asks for at least the expected URLs on the bar, OSWorld for exactly them."""
    bar = {"bookmark_bar": {"children": [{"type": "url", "url": "https://a.org"}, {"type": "url", "url": "https://b.org"}]}}
    evaluator = {"func": "is_expected_bookmarks", "result": {"type": "test_value", "value": bar},
                 "expected": {"type": "rule", "rules": {"type": "bookmark_bar_websites_urls", "urls": ["https://a.org"]}}}

    def scored(task_id: str, **extra) -> float:
        t = parse_task({"id": task_id, "instruction": "i", "config": [], "evaluator": evaluator, **extra}, "t.json")
        return t.benchmark, evaluate(t, ctx, "DONE").score

    assert scored("7a5a7856-f1b6-42a4-ade9-1ca81ca0f263-wos") == ("waa", 1.0)
    assert scored("7a5a7856-f1b6-42a4-ade9-1ca81ca0f263") == ("osworld", 0.0)
    assert scored("my-own-task") == ("waa", 1.0)
    assert scored("my-own-task", benchmark="osworld") == ("osworld", 0.0)
    exact = {**bar, "bookmark_bar": {"children": bar["bookmark_bar"]["children"][:1]}}
    evaluator["result"] = {"type": "test_value", "value": exact}
    assert scored("7a5a7856-f1b6-42a4-ade9-1ca81ca0f263") == ("osworld", 1.0)

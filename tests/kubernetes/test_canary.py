"""Canary releases by replica ratio: the steps, the manifests per step and the verdict."""

from __future__ import annotations

import itertools
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tuskops.errors import KubernetesError, KubernetesSpecError
from tuskops.kubernetes.bluegreen import TRACK_LABEL, ScaleTo
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.workload import deployment
from tuskops.kubernetes.canary import (
    DEFAULT_STEPS,
    StepResult,
    analysis_verdict,
    canary_steps,
    canary_weight,
    plan_canary,
    plan_rollback,
    total_replicas,
)
from tuskops.kubernetes.spec import AppSpec, parse_app_spec


def make_spec(**keys: Any) -> AppSpec:
    base: dict[str, Any] = {
        "name": "shop",
        "namespace": "shop",
        "image": "ghcr.io/acme/shop:2.0.0",
        "replicas": 10,
        "port": 8080,
    }
    return parse_app_spec({**base, **keys})


def valid(manifest: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(manifest, "1.33", strict=True)
    except kubernetes_validate.ValidationError as err:  # pragma: no cover - shown on failure
        pytest.fail(f"{manifest['kind']} invalid at 1.33: {err.message}")


def stable_live(spec: AppSpec) -> dict[str, Any]:
    """The stable Deployment as it runs: the previous image."""
    live = deployment(parse_app_spec({"name": spec.name, "namespace": spec.namespace,
                                      "image": "ghcr.io/acme/shop:1.9.0", "port": 8080,
                                      "replicas": spec.replicas}))  # fmt: skip
    live["metadata"]["uid"] = "1234"
    live["status"] = {"replicas": spec.replicas}
    return live


# --- the steps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, [(1, 1), (1, 1), (1, 1), (0, 1), (1, 0)]),
        (2, [(1, 1), (1, 1), (1, 1), (0, 2), (2, 0)]),
        (3, [(2, 1), (2, 1), (2, 1), (0, 3), (3, 0)]),
        (10, [(9, 1), (8, 2), (5, 5), (0, 10), (10, 0)]),
        (100, [(90, 10), (75, 25), (50, 50), (0, 100), (100, 0)]),
    ],
)
def test_canary_steps(total: int, expected: list[tuple[int, int]]) -> None:
    assert canary_steps(total) == expected


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 10, 33, 100, 250])
@pytest.mark.parametrize("steps", [DEFAULT_STEPS, (1, 5, 50), (33, 66, 99), (100,), (50,)])
def test_step_invariants(total: int, steps: tuple[int, ...]) -> None:
    pairs = canary_steps(total, steps)
    assert len(pairs) == len(steps) + 1
    assert pairs[0][1] >= 1, "the first step runs a canary"
    assert pairs[-1] == (total, 0), "promote: the stable takes over"
    for (stable, canary), pct in zip(pairs, steps, strict=False):
        assert stable + canary >= total, "capacity never below the total"
        if pct < 100:
            assert stable >= 1, "the stable keeps serving until 100 percent"
            assert canary <= max(1, total * pct // 100), "rounding never over-exposes"
        else:
            assert (stable, canary) == (0, total)
    body = pairs[:-1]
    for (s1, c1), (s2, c2) in itertools.pairwise(body):
        assert c2 >= c1, "the canary never shrinks between steps"
        assert s2 <= s1, "the stable never grows between steps"


def test_custom_steps() -> None:
    assert canary_steps(20, (5, 50)) == [(19, 1), (10, 10), (20, 0)]
    assert canary_steps(4, (99,)) == [(1, 3), (4, 0)]


@pytest.mark.parametrize(
    ("total", "steps", "field"),
    [
        (0, DEFAULT_STEPS, "canary.replicas"),
        (3, (), "canary.steps"),
        (3, (0, 50), "canary.steps[0]"),
        (3, (50, 101), "canary.steps[1]"),
        (3, (50, 25), "canary.steps[1]"),
        (3, (50, 50), "canary.steps[1]"),
        (3, (True,), "canary.steps[0]"),
    ],
)
def test_bad_steps(total: int, steps: tuple[int, ...], field: str) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        canary_steps(total, steps)
    assert err.value.field == field


def test_weight() -> None:
    assert canary_weight(9, 1) == 10.0
    assert canary_weight(1, 1) == 50.0
    assert canary_weight(0, 0) == 0.0


def test_total_follows_the_autoscalers_minimum() -> None:
    assert total_replicas(make_spec(replicas=2)) == 2
    assert total_replicas(make_spec(replicas=2, autoscaling={"min": 5, "max": 9, "cpu": 60})) == 5


# --- the manifests ------------------------------------------------------------------------------


def test_a_step_grows_the_canary_then_shrinks_the_stable() -> None:
    spec = make_spec()
    plan = plan_canary(spec, 1, stable_live(spec))
    assert (plan.kind, plan.percent, plan.stable_replicas, plan.canary_replicas) == (
        "step", 25, 8, 2,
    )  # fmt: skip
    assert plan.weight == 20.0
    (canary,) = plan.grow.apply
    valid(canary)
    assert canary["metadata"]["name"] == "shop-canary"
    assert canary["spec"]["replicas"] == 2
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")
    assert plan.grow.scale == ()
    assert plan.wait_available == ("shop-canary",)
    assert plan.shrink.apply == ()
    assert plan.shrink.scale == (ScaleTo("shop", "shop", 8),), "the stable's template is kept"


def test_selectors_send_the_service_to_both_tracks() -> None:
    spec = make_spec()
    last = len(canary_steps(total_replicas(spec))) - 1
    promote = plan_canary(spec, last, stable_live(spec))
    stable, svc = promote.grow.apply
    (canary,) = promote.shrink.apply
    assert svc["kind"] == "Service"
    assert svc["spec"]["selector"] == selector_labels(spec)
    assert canary["spec"]["selector"]["matchLabels"] == {
        **selector_labels(spec), TRACK_LABEL: "canary",
    }  # fmt: skip
    assert stable["spec"]["selector"]["matchLabels"] == selector_labels(spec)
    for dep in (stable, canary):
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert TRACK_LABEL not in stable["spec"]["template"]["metadata"]["labels"]
    for manifest in (stable, svc, canary):
        valid(manifest)


def test_promote() -> None:
    spec = make_spec()
    plan = plan_canary(spec, 4, stable_live(spec))
    assert (plan.kind, plan.percent, plan.stable_replicas, plan.canary_replicas) == (
        "promote", None, 10, 0,
    )  # fmt: skip
    stable = plan.grow.apply[0]
    assert stable["metadata"]["name"] == "shop"
    assert stable["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")
    assert plan.grow.scale == (ScaleTo("shop", "shop", 10),)
    assert plan.wait_available == ("shop",)
    (canary,) = plan.shrink.apply
    assert canary["spec"]["replicas"] == 0


def test_promote_with_an_autoscaler_scales_the_stable_back_up() -> None:
    spec = make_spec(replicas=2, autoscaling={"min": 4, "max": 9, "cpu": 60})
    plan = plan_canary(spec, 4, stable_live(spec))
    assert "replicas" not in plan.grow.apply[0]["spec"], "the HPA owns the stable's replicas"
    assert plan.grow.scale == (ScaleTo("shop", "shop", 4),)


def test_the_100_percent_step_empties_the_stable() -> None:
    spec = make_spec(replicas=3)
    plan = plan_canary(spec, 3, stable_live(spec))
    assert (plan.stable_replicas, plan.canary_replicas, plan.weight) == (0, 3, 100.0)
    assert plan.shrink.scale == (ScaleTo("shop", "shop", 0),)


def test_an_app_without_ports_has_no_service_to_apply() -> None:
    spec = parse_app_spec({"name": "worker", "image": "w:2", "replicas": 2})
    live = deployment(spec)
    plan = plan_canary(spec, 4, live)
    assert [m["kind"] for m in plan.grow.apply] == ["Deployment"]


def test_plan_refuses_without_a_stable() -> None:
    with pytest.raises(KubernetesError, match="deploy it normally first"):
        plan_canary(make_spec(), 0, None)


def test_plan_refuses_a_stable_that_is_not_the_apps() -> None:
    spec = make_spec()
    live = stable_live(spec)
    live["spec"]["selector"]["matchLabels"][TRACK_LABEL] = "blue"
    with pytest.raises(KubernetesSpecError) as err:
        plan_canary(spec, 0, live)
    assert err.value.field == "Deployment/shop/shop: spec.selector.matchLabels"


@pytest.mark.parametrize("index", [-1, 5])
def test_plan_refuses_unknown_steps(index: int) -> None:
    spec = make_spec()
    with pytest.raises(KubernetesSpecError, match="steps run 0 to 4"):
        plan_canary(spec, index, stable_live(spec))
    with pytest.raises(KubernetesSpecError, match="steps run 0 to 4"):
        plan_rollback(spec, index)


# --- rollback -----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_rollback_restores_the_stable_first(index: int) -> None:
    plan = plan_rollback(make_spec(), index)
    assert plan.kind == "rollback"
    assert plan.grow.scale == (ScaleTo("shop", "shop", 10),)
    assert plan.grow.apply == (), "the stable's old template is not replaced"
    assert plan.wait_available == ("shop",)
    assert plan.shrink.scale == (ScaleTo("shop-canary", "shop", 0),)
    assert (plan.stable_replicas, plan.canary_replicas, plan.weight) == (10, 0, 0.0)


def test_rollback_is_refused_once_promoted() -> None:
    with pytest.raises(KubernetesError, match="previous revision"):
        plan_rollback(make_spec(), 4)


# --- the verdict --------------------------------------------------------------------------------

COUNT = len(DEFAULT_STEPS) + 1


def ok(step: int, reason: str = "") -> StepResult:
    return StepResult(step, rollout=True, healthy=True, reason=reason)


def test_passed_steps_continue_then_promote_then_finish() -> None:
    results = [ok(0), ok(1), ok(2), ok(3, "p99 fine"), ok(4)]
    first = analysis_verdict(0, results[:1], step_count=COUNT)
    assert (first.decision, first.next_step) == ("continue", 1)
    third = analysis_verdict(2, results[:3], step_count=COUNT)
    assert (third.decision, third.next_step) == ("continue", 3)
    last = analysis_verdict(3, results[:4], step_count=COUNT)
    assert (last.decision, last.next_step) == ("promote", 4)
    assert "p99 fine" in last.reason
    done = analysis_verdict(4, results, step_count=COUNT)
    assert (done.decision, done.next_step) == ("done", None)


@pytest.mark.parametrize(
    "results",
    [
        [],
        [ok(0)],
        [StepResult(1, rollout=None, healthy=None, reason="metrics unavailable")],
        [StepResult(1, rollout=True, healthy=None)],
        [StepResult(1, rollout=None, healthy=True)],
    ],
)
def test_unknowns_wait_and_never_pass(results: list[StepResult]) -> None:
    verdict = analysis_verdict(1, results, step_count=COUNT)
    assert (verdict.decision, verdict.next_step) == ("wait", 1)


def test_unknown_reason_is_shown() -> None:
    results = [StepResult(1, rollout=True, healthy=None, reason="metrics unavailable")]
    assert "metrics unavailable" in analysis_verdict(1, results, step_count=COUNT).reason


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (StepResult(1, rollout=False, healthy=None, reason="CrashLoopBackOff"), "did not roll out"),
        (StepResult(1, rollout=True, healthy=False, reason="5xx at 4%"), "unhealthy: 5xx at 4%"),
    ],
)
def test_a_failure_rolls_back(result: StepResult, words: str) -> None:
    verdict = analysis_verdict(1, [ok(0), ok(1), result], step_count=COUNT)
    assert verdict.decision == "rollback"
    assert verdict.next_step is None
    assert words in verdict.reason


def test_an_earlier_failure_still_rolls_back_and_later_results_do_not_count() -> None:
    bad = StepResult(0, rollout=True, healthy=False, reason="latency")
    assert analysis_verdict(2, [bad, ok(1), ok(2)], step_count=COUNT).decision == "rollback"
    future_bad = StepResult(3, rollout=False, healthy=False)
    assert analysis_verdict(1, [ok(1), future_bad], step_count=COUNT).decision == "continue"


def test_a_failed_promote_says_how_to_undo() -> None:
    bad = StepResult(4, rollout=False, healthy=None, reason="deadline")
    verdict = analysis_verdict(4, [bad], step_count=COUNT)
    assert verdict.decision == "rollback"
    assert "undo its rollout" in verdict.reason


def test_verdict_refuses_bad_indexes() -> None:
    with pytest.raises(KubernetesSpecError):
        analysis_verdict(0, [], step_count=1)
    with pytest.raises(KubernetesSpecError):
        analysis_verdict(5, [], step_count=COUNT)

"""Blue-green releases: the plan, the Service switch, verification and the state machine."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tuskops.errors import KubernetesError, KubernetesSpecError
from tuskops.kubernetes.bluegreen import (
    SWITCHED_AT_ANNOTATION,
    TRACK_LABEL,
    Actions,
    BlueGreenPlan,
    BlueGreenStep,
    ObjectRef,
    Observed,
    ScaleTo,
    abort,
    advance,
    current_colour,
    deployment_verdict,
    plan_release,
    preview_service,
    should_scale_down,
    switch_back,
    switch_patch,
    switch_service,
    switched_at,
    verification_job,
    verification_result,
)
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.networking import service
from tuskops.kubernetes.spec import AppSpec, parse_app_spec

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_spec(**keys: Any) -> AppSpec:
    base: dict[str, Any] = {
        "name": "shop",
        "namespace": "shop",
        "image": "ghcr.io/acme/shop:1.4.2",
        "replicas": 3,
        "ports": [
            {"name": "http", "port": 8080, "service_port": 80},
            {"name": "admin", "port": 9000},
        ],
        "probes": {"readiness": {"http": "/ready", "port": "http"}},
    }
    return parse_app_spec({**base, **keys})


def valid(manifest: dict[str, Any] | None) -> None:
    assert manifest is not None
    try:
        kubernetes_validate.validate(manifest, "1.33", strict=True)
    except kubernetes_validate.ValidationError as err:  # pragma: no cover - shown on failure
        pytest.fail(f"{manifest['kind']} invalid at 1.33: {err.message}")


def live_service(spec: AppSpec, colour: str | None) -> dict[str, Any]:
    """The Service as the API server returns it: server fields and status included."""
    extra = {TRACK_LABEL: colour} if colour else None
    svc = service(spec, extra_selector=extra)
    assert svc is not None
    svc["metadata"].update(
        uid="0b6c", resourceVersion="42", creationTimestamp="2026-01-01T00:00:00Z",
        managedFields=[{"manager": "tuskops", "operation": "Apply"}],
    )  # fmt: skip
    svc["spec"]["clusterIP"] = "10.0.0.7"
    svc["status"] = {"loadBalancer": {}}
    return svc


def live_deployment(name: str, want: int, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "generation": 2},
        "spec": {"replicas": want},
        "status": {"observedGeneration": 2, **status},
    }


def rolled_out(manifest: dict[str, Any]) -> dict[str, Any]:
    dep = copy.deepcopy(manifest)
    n = dep["spec"]["replicas"]
    dep["metadata"]["generation"] = 1
    dep["status"] = {
        "observedGeneration": 1, "replicas": n, "updatedReplicas": n, "readyReplicas": n,
        "availableReplicas": n,
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    }  # fmt: skip
    return dep


def finished_job(job: dict[str, Any], ok: bool) -> dict[str, Any]:
    done = copy.deepcopy(job)
    if ok:
        done["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    else:
        done["status"] = {
            "failed": 1,
            "conditions": [
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit"},
            ],
        }  # fmt: skip
    return done


# --- colours and the Service --------------------------------------------------------------------


def test_current_colour() -> None:
    spec = make_spec()
    assert current_colour(None) is None
    assert current_colour(live_service(spec, None)) is None
    assert current_colour(live_service(spec, "green")) == "green"
    with pytest.raises(KubernetesSpecError) as err:
        current_colour(live_service(spec, "purple"))
    assert err.value.field == f"Service/shop/shop: spec.selector.{TRACK_LABEL}"


def test_switching_changes_only_the_selectors_track() -> None:
    plan = plan_release(make_spec(), live_service(make_spec(), "blue"), [])
    assert plan.service is not None
    switched = switch_service(plan.service, "green")
    expected = copy.deepcopy(plan.service)
    expected["spec"]["selector"][TRACK_LABEL] = "green"
    assert switched == expected
    assert plan.switched == expected
    assert plan.service["spec"]["selector"][TRACK_LABEL] == "blue", "the input is not changed"
    assert switch_patch("green") == {"spec": {"selector": {TRACK_LABEL: "green"}}}


def test_switching_a_live_service_drops_server_fields_and_stamps_the_time() -> None:
    live = live_service(make_spec(), "blue")
    switched = switch_service(live, "green", at=NOW)
    assert "status" not in switched
    assert not {"uid", "resourceVersion", "managedFields", "creationTimestamp"} & set(
        switched["metadata"]
    )
    assert switched["metadata"]["annotations"][SWITCHED_AT_ANNOTATION] == "2026-03-01T12:00:00Z"
    assert switched_at(switched) == NOW
    assert switched["spec"]["selector"] == {**selector_labels(make_spec()), TRACK_LABEL: "green"}
    valid(switched)


def test_switching_refuses_bad_input() -> None:
    live = live_service(make_spec(), "blue")
    with pytest.raises(KubernetesSpecError):
        switch_service(live, "purple")  # type: ignore[arg-type]
    with pytest.raises(KubernetesError, match="timezone-aware"):
        switch_service(live, "green", at=datetime(2026, 1, 1))
    no_selector = copy.deepcopy(live)
    del no_selector["spec"]["selector"]
    with pytest.raises(KubernetesSpecError, match="needs a selector"):
        switch_service(no_selector, "green")


def test_switched_at_unknown_or_unreadable() -> None:
    live = live_service(make_spec(), "blue")
    assert switched_at(None) is None
    assert switched_at(live) is None
    live["metadata"]["annotations"] = {SWITCHED_AT_ANNOTATION: "yesterday"}
    with pytest.raises(KubernetesSpecError, match="not a timestamp"):
        switched_at(live)
    live["metadata"]["annotations"] = {SWITCHED_AT_ANNOTATION: "2026-03-01T12:00:00"}
    with pytest.raises(KubernetesSpecError, match="no time zone"):
        switched_at(live)


# --- the plan -------------------------------------------------------------------------------------


def test_first_release_goes_to_blue() -> None:
    spec = make_spec()
    plan = plan_release(spec, None, [])
    assert (plan.active, plan.idle, plan.previous, plan.service) == (None, "blue", None, None)
    assert plan.deployment["metadata"]["name"] == "shop-blue"
    assert plan.deployment["spec"]["replicas"] == 3
    assert plan.switched["spec"]["selector"][TRACK_LABEL] == "blue"
    assert switch_back(plan) is None
    for manifest in (plan.deployment, plan.preview, plan.switched, plan.job):
        valid(manifest)


def test_release_goes_to_the_idle_colour_and_leaves_the_service() -> None:
    spec = make_spec()
    live = [live_deployment("shop-blue", 3), live_deployment("other", 1)]
    plan = plan_release(spec, live_service(spec, "blue"), live)
    assert (plan.active, plan.idle, plan.previous) == ("blue", "green", "shop-blue")
    dep = plan.deployment
    assert dep["metadata"]["name"] == "shop-green"
    assert dep["spec"]["selector"]["matchLabels"] == {**selector_labels(spec), TRACK_LABEL: "green"}
    assert dep["spec"]["template"]["metadata"]["labels"][TRACK_LABEL] == "green"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/shop:1.4.2"
    assert plan.service is not None
    assert plan.service["spec"]["selector"][TRACK_LABEL] == "blue"
    assert plan.preview["metadata"]["name"] == "shop-green-preview"
    assert plan.preview["spec"]["selector"] == {**selector_labels(spec), TRACK_LABEL: "green"}
    back = switch_back(plan)
    assert back is not None
    assert back["spec"]["selector"][TRACK_LABEL] == "blue"
    for manifest in (dep, plan.preview, plan.service, plan.switched, plan.job, back):
        valid(manifest)


def test_release_matches_a_scaled_up_active_colour() -> None:
    spec = make_spec()
    plan = plan_release(spec, live_service(spec, "green"), [live_deployment("shop-green", 7)])
    assert plan.idle == "blue"
    assert plan.replicas == 7
    assert plan.deployment["spec"]["replicas"] == 7
    assert any("7 replicas" in note for note in plan.notes)


def test_release_starts_at_the_autoscalers_minimum() -> None:
    spec = make_spec(replicas=2, autoscaling={"min": 4, "max": 10, "cpu": 70})
    plan = plan_release(spec, None, [])
    assert plan.deployment["spec"]["replicas"] == 4


def test_active_colour_without_a_deployment() -> None:
    spec = make_spec()
    plan = plan_release(spec, live_service(spec, "blue"), [])
    assert plan.previous is None
    assert any("does not exist" in note for note in plan.notes)


def test_a_plain_service_is_refused() -> None:
    spec = make_spec()
    with pytest.raises(KubernetesSpecError) as err:
        plan_release(spec, live_service(spec, None), [])
    assert err.value.field == "Service/shop/shop: spec.selector"
    assert "before verification" in err.value.message


def test_an_app_without_ports_cannot_switch() -> None:
    spec = parse_app_spec({"name": "worker", "image": "w:1"})
    with pytest.raises(KubernetesSpecError) as err:
        plan_release(spec, None, [])
    assert err.value.field == "app.ports"
    with pytest.raises(KubernetesSpecError):
        preview_service(spec, "blue")


def test_the_preview_is_cluster_internal() -> None:
    spec = make_spec(service={"type": "LoadBalancer", "annotations": {"lb": "internet"}})
    preview = preview_service(spec, "green")
    assert preview["spec"]["type"] == "ClusterIP"
    assert "lb" not in preview["metadata"].get("annotations", {})
    assert preview["spec"]["ports"][0] == {
        "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP",
    }  # fmt: skip
    valid(preview)


# --- verification -------------------------------------------------------------------------------


def test_verification_job() -> None:
    spec = make_spec()
    job = verification_job(spec, "green", "/ready", "http", timeout=20, ttl=600)
    valid(job)
    body = job["spec"]
    assert body["backoffLimit"] == 0
    assert body["ttlSecondsAfterFinished"] == 600
    assert body["activeDeadlineSeconds"] == 100
    pod = body["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]
    assert container["image"] == "curlimages/curl:8.10.1"
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }  # fmt: skip
    assert container["command"] == ["curl"]
    assert container["args"][-1] == "http://shop-green-preview.shop.svc:80/ready"
    assert "--fail" in container["args"]
    labels = body["template"]["metadata"]["labels"]
    assert labels[TRACK_LABEL] == "green"
    assert not selector_labels(spec).items() <= labels.items(), "no app Service may select it"
    assert len(job["metadata"]["name"]) <= 63


def test_verification_job_names() -> None:
    spec = make_spec()
    one = verification_job(spec, "green", "/ready", "http")
    assert (
        verification_job(spec, "green", "/ready", 8080)["metadata"]["name"]
        == (one["metadata"]["name"])
    ), "port 8080 (the container's) is the port named http"
    assert verification_job(spec, "green", "/ready", 80) == one
    other = {
        verification_job(spec, "blue", "/ready", "http")["metadata"]["name"],
        verification_job(make_spec(image="shop:2"), "green", "/ready", "http")["metadata"]["name"],
        one["metadata"]["name"],
    }
    assert len(other) == 3
    long = make_spec(name="a" * 47)
    assert len(verification_job(long, "green", "/", "http")["metadata"]["name"]) <= 63


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("ready", "http"), "blue_green.verify.path"),
        (("/ready", "nope"), "blue_green.verify.port"),
        (("/ready", 1234), "blue_green.verify.port"),
    ],
)
def test_verification_job_refuses(args: tuple[str, str | int], field: str) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        verification_job(make_spec(), "green", *args)
    assert err.value.field == field


def test_verification_job_refuses_bad_times() -> None:
    with pytest.raises(KubernetesSpecError, match="at least 1"):
        verification_job(make_spec(), "green", "/", "http", timeout=0)
    with pytest.raises(KubernetesSpecError, match="negative"):
        verification_job(make_spec(), "green", "/", "http", ttl=-1)


def test_verification_results() -> None:
    job = verification_job(make_spec(), "green", "/ready", "http")
    assert verification_result(None, None).pending
    running = {**job, "status": {"active": 1}}
    assert verification_result(running, None).pending
    assert verification_result(job, None).pending, "no status yet"
    ok = verification_result(finished_job(job, True), "HTTP 200 in 0.01s\n")
    assert ok.succeeded
    assert "HTTP 200" in ok.reason
    bad = verification_result(finished_job(job, False), "curl: (22) error: 503\n")
    assert bad.failed
    assert "BackoffLimitExceeded" in bad.reason
    assert "503" in bad.reason


def test_verification_result_before_the_terminal_condition() -> None:
    job = verification_job(make_spec(), "green", "/ready", "http")
    failing = {**job, "status": {"conditions": [{"type": "FailureTarget", "status": "True"}]}}
    assert verification_result(failing, None).failed
    pod_failed = {**job, "status": {"failed": 1}}
    assert verification_result(pod_failed, None).failed
    pod_succeeded = {**job, "status": {"succeeded": 1}}
    assert verification_result(pod_succeeded, None).succeeded
    not_true = {**job, "status": {"conditions": [{"type": "Failed", "status": "False"}]}}
    assert verification_result(not_true, None).pending


def test_long_logs_are_cut() -> None:
    job = finished_job(verification_job(make_spec(), "green", "/", "http"), False)
    reason = verification_result(job, "x" * 5000 + "THE END").reason
    assert reason.endswith("THE END")
    assert len(reason) < 600


def test_deployment_verdict() -> None:
    plan = plan_release(make_spec(), None, [])
    assert deployment_verdict(None).pending
    assert deployment_verdict(rolled_out(plan.deployment)).succeeded
    starting = live_deployment("shop-blue", 3, replicas=3, updatedReplicas=3, availableReplicas=1)
    assert deployment_verdict(starting).pending
    stuck = live_deployment(
        "shop-blue", 3,
        conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                     "message": 'ReplicaSet "shop-blue-abc" has timed out progressing.'}],
    )  # fmt: skip
    verdict = deployment_verdict(stuck)
    assert verdict.failed
    assert "progress deadline" in verdict.reason


# --- the scale-down delay -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "delay", "expected"),
    [
        (timedelta(minutes=4, seconds=59), timedelta(minutes=5), False),
        (timedelta(minutes=5), timedelta(minutes=5), True),
        (timedelta(hours=1), timedelta(minutes=5), True),
        (timedelta(seconds=29), 30, False),
        (timedelta(seconds=30), 30.0, True),
        (timedelta(0), 0, True),
        (timedelta(seconds=-10), 0, False),
    ],
)
def test_should_scale_down(elapsed: timedelta, delay: timedelta | float, expected: bool) -> None:
    assert should_scale_down(NOW, NOW + elapsed, delay) is expected


def test_should_scale_down_refuses_naive_times_and_negative_delays() -> None:
    naive = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(KubernetesError, match="timezone-aware"):
        should_scale_down(naive, NOW, 60)
    with pytest.raises(KubernetesSpecError, match="negative"):
        should_scale_down(NOW, NOW, timedelta(seconds=-1))


def test_offset_times_compare_as_instants() -> None:
    from datetime import timezone

    switched = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))  # = 12:00 UTC
    assert should_scale_down(switched, NOW + timedelta(minutes=5), timedelta(minutes=5))


# --- the state machine --------------------------------------------------------------------------


def release_plan() -> BlueGreenPlan:
    spec = make_spec()
    return plan_release(spec, live_service(spec, "blue"), [live_deployment("shop-blue", 3)])


def test_a_release_from_start_to_end() -> None:
    plan = release_plan()
    step = BlueGreenStep.DEPLOY_IDLE
    t = advance(plan, step, Observed(NOW))
    assert t.actions.apply == (plan.deployment, plan.preview)
    assert t.step is BlueGreenStep.WAIT_AVAILABLE

    t = advance(plan, t.step, Observed(NOW, idle_deployment=None))
    assert (t.step, t.wait, t.actions) == (BlueGreenStep.WAIT_AVAILABLE, True, Actions())
    t = advance(plan, t.step, Observed(NOW, idle_deployment=rolled_out(plan.deployment)))
    assert (t.step, t.wait) == (BlueGreenStep.VERIFY, False)

    t = advance(plan, t.step, Observed(NOW))
    assert plan.job is not None
    assert (t.step, t.wait, t.actions.apply) == (BlueGreenStep.VERIFY, True, (plan.job,))
    t = advance(plan, t.step, Observed(NOW, job={**plan.job, "status": {"active": 1}}))
    assert (t.step, t.wait, t.actions) == (BlueGreenStep.VERIFY, True, Actions())
    t = advance(plan, t.step, Observed(NOW, job=finished_job(plan.job, True)))
    assert (t.step, t.abort) == (BlueGreenStep.SWITCH, None)

    t = advance(plan, t.step, Observed(NOW))
    assert t.step is BlueGreenStep.SCALE_DOWN
    (applied,) = t.actions.apply
    assert applied["spec"]["selector"][TRACK_LABEL] == "green"
    assert switched_at(applied) == NOW
    assert not t.actions.scale, "the old colour keeps its pods for now"

    later = NOW + timedelta(minutes=3)
    t = advance(plan, t.step, Observed(later, switched_at=NOW), scale_down_delay=300)
    assert (t.step, t.wait, t.actions) == (BlueGreenStep.SCALE_DOWN, True, Actions())
    t = advance(plan, t.step, Observed(later, switched_at=None), scale_down_delay=0)
    assert t.wait, "an unknown switch time never scales the old colour down"
    t = advance(plan, t.step, Observed(NOW + timedelta(minutes=5), switched_at=NOW),
                scale_down_delay=timedelta(minutes=5))  # fmt: skip
    assert t.step is BlueGreenStep.DONE
    assert t.actions.scale == (ScaleTo("shop-blue", "shop", 0),)
    assert t.actions.scale[0].patch() == {"spec": {"replicas": 0}}
    assert t.actions.delete == (ObjectRef("v1", "Service", "shop", "shop-green-preview"),)
    t = advance(plan, t.step, Observed(NOW))
    assert (t.step, t.actions) == (BlueGreenStep.DONE, Actions())


def test_first_release_has_nothing_to_scale_down() -> None:
    plan = plan_release(make_spec(), None, [])
    t = advance(plan, BlueGreenStep.SCALE_DOWN, Observed(NOW))
    assert t.step is BlueGreenStep.DONE
    assert not t.actions.scale
    assert t.actions.delete


def test_without_a_path_verification_is_skipped_and_says_so() -> None:
    spec = make_spec(probes={"readiness": {"tcp": True}})
    plan = plan_release(spec, None, [])
    assert plan.job is None
    assert any("no verification" in note for note in plan.notes)
    t = advance(plan, BlueGreenStep.VERIFY, Observed(NOW))
    assert t.step is BlueGreenStep.SWITCH
    assert "skipped" in t.reason
    given = plan_release(spec, None, [], verify_path="/healthz", verify_port="admin")
    assert given.job is not None
    assert given.job["spec"]["template"]["spec"]["containers"][0]["args"][-1] == (
        "http://shop-blue-preview.shop.svc:9000/healthz"
    )


def test_failed_verification_aborts_without_touching_the_service() -> None:
    plan = release_plan()
    assert plan.job is not None
    t = advance(plan, BlueGreenStep.VERIFY, Observed(NOW, job=finished_job(plan.job, False)))
    assert t.abort is not None
    assert t.abort.service is None
    assert t.abort.restore == ()
    assert t.abort.cleanup.scale == (ScaleTo("shop-green", "shop", 0),)
    assert "BackoffLimitExceeded" in t.abort.reason


def test_a_stuck_rollout_aborts() -> None:
    plan = release_plan()
    stuck = live_deployment(
        "shop-green", 3,
        conditions=[
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
        ],
    )  # fmt: skip
    t = advance(plan, BlueGreenStep.WAIT_AVAILABLE, Observed(NOW, idle_deployment=stuck))
    assert t.abort is not None
    assert t.abort.service is None


@pytest.mark.parametrize("step", [BlueGreenStep.SWITCH, BlueGreenStep.SCALE_DOWN])
def test_abort_after_the_switch_switches_back(step: BlueGreenStep) -> None:
    plan = release_plan()
    undo = abort(plan, step, "error rate")
    assert undo.service is not None
    assert plan.service is not None
    assert undo.service == plan.service
    assert undo.service["spec"]["selector"][TRACK_LABEL] == "blue"
    assert (undo.restore, undo.wait_available) == ((), None), "blue still has its pods"
    assert undo.cleanup.scale == (ScaleTo("shop-green", "shop", 0),)
    assert "switching back to blue" in undo.reason


def test_abort_after_done_brings_the_old_colour_back_first() -> None:
    plan = release_plan()
    undo = abort(plan, BlueGreenStep.DONE)
    assert undo.restore == (ScaleTo("shop-blue", "shop", 3),)
    assert undo.wait_available == "shop-blue"
    assert undo.service is not None
    assert undo.service["spec"]["selector"][TRACK_LABEL] == "blue"


@pytest.mark.parametrize(
    "step", [BlueGreenStep.DEPLOY_IDLE, BlueGreenStep.WAIT_AVAILABLE, BlueGreenStep.VERIFY]
)
def test_abort_before_the_switch_only_cleans_up(step: BlueGreenStep) -> None:
    undo = abort(release_plan(), step)
    assert (undo.service, undo.restore) == (None, ())
    assert undo.cleanup.delete == (ObjectRef("v1", "Service", "shop", "shop-green-preview"),)


def test_abort_of_a_first_release_has_nothing_to_switch_back_to() -> None:
    plan = plan_release(make_spec(), None, [])
    undo = abort(plan, BlueGreenStep.SCALE_DOWN)
    assert undo.service is None
    assert undo.cleanup.scale == (ScaleTo("shop-blue", "shop", 0),)
    assert "nothing to switch back to" in undo.reason


def test_a_given_path_defaults_to_the_first_port() -> None:
    spec = make_spec(probes={"readiness": {"tcp": True, "port": "admin"}})
    plan = plan_release(spec, None, [], verify_path="/healthz")
    assert plan.job is not None
    assert plan.job["spec"]["template"]["spec"]["containers"][0]["args"][-1] == (
        "http://shop-blue-preview.shop.svc:80/healthz"
    )


def test_actions_are_false_when_empty() -> None:
    assert not Actions()
    assert Actions(scale=(ScaleTo("shop-blue", "shop", 0),))
    with pytest.raises(KubernetesSpecError):
        switch_patch("purple")  # type: ignore[arg-type]

"""Pod health from API-shaped Pods and Events, and the auto-restart state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.health import (
    AutoRestartPolicy,
    PodProblem,
    RestartHistory,
    group_by_workload,
    pod_events,
    unhealthy_pods,
    workload_of,
)

NS = "shop"
NOW = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
RUNNING = {"running": {"startedAt": "2024-05-01T10:00:05Z"}}


def container(
    name: str = "web",
    *,
    ready: bool = True,
    restarts: int = 0,
    state: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "started": ready,
        "restartCount": restarts,
        "image": "ghcr.io/acme/web:1.5.0",
        "imageID": "ghcr.io/acme/web@sha256:0f3e",
        "containerID": "containerd://1c2d",
        "state": state if state is not None else RUNNING,
        "lastState": {"terminated": last} if last else {},
    }


def pod(
    name: str = "web-7d9f8b6c5d-aaaaa",
    *,
    phase: str = "Running",
    ready: bool = True,
    containers: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    created: str = "2024-05-01T10:00:00Z",
    ready_since: str = "2024-05-01T10:00:20Z",
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d9f8b6c5d"),
    extra_status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ready_text = "True" if ready else "False"
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "creationTimestamp": created,
        "labels": {"app.kubernetes.io/name": "web", "pod-template-hash": "7d9f8b6c5d"},
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": "rs-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "web",
                    "image": "ghcr.io/acme/web:1.5.0",
                    "resources": {"limits": {"memory": "256Mi"}},
                }
            ],
        },
        "status": {
            "phase": phase,
            "conditions": conditions
            if conditions is not None
            else [
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastTransitionTime": "2024-05-01T10:00:00Z",
                },
                {"type": "Ready", "status": ready_text, "lastTransitionTime": ready_since},
            ],
            "containerStatuses": containers if containers is not None else [container()],
            **(extra_status or {}),
        },
    }


def event(
    pod_name: str,
    reason: str,
    message: str,
    *,
    count: int = 1,
    last: str = "2024-05-01T10:20:00Z",
    type_: str = "Warning",
    field_path: str | None = "spec.containers{web}",
) -> dict[str, Any]:
    involved: dict[str, Any] = {
        "kind": "Pod",
        "namespace": NS,
        "name": pod_name,
        "uid": f"uid-{pod_name}",
        "apiVersion": "v1",
    }
    if field_path:
        involved["fieldPath"] = field_path
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{pod_name}.{reason}", "namespace": NS},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:10Z",
        "lastTimestamp": last,
        "count": count,
        "type": type_,
    }


CRASHLOOP_STATE = {
    "waiting": {
        "reason": "CrashLoopBackOff",
        "message": "back-off 5m0s restarting failed container=web pod=web-7d9f8b6c5d-aaaaa",
    }
}
OOM = {
    "exitCode": 137,
    "reason": "OOMKilled",
    "startedAt": "2024-05-01T10:24:00Z",
    "finishedAt": "2024-05-01T10:25:00Z",
}


def only(problems: list[PodProblem]) -> PodProblem:
    assert len(problems) == 1, problems
    return problems[0]


# --- unhealthy_pods ---------------------------------------------------------------------------


def test_healthy_and_finished_pods_are_left_out() -> None:
    done = pod(
        "job-x",
        phase="Succeeded",
        ready=False,
        owner=("Job", "migrate"),
        containers=[
            container(ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed"}})
        ],
    )
    assert unhealthy_pods([pod(), done], [], now=NOW) == []


def test_crashloop_with_oomkill_and_events() -> None:
    crashing = pod(
        ready=False,
        containers=[container(ready=False, restarts=6, state=CRASHLOOP_STATE, last=OOM)],
    )
    events = [
        event(
            "web-7d9f8b6c5d-aaaaa",
            "BackOff",
            "Back-off restarting failed container web in pod web-7d9f8b6c5d-aaaaa_shop",
            count=20,
            last="2024-05-01T10:29:00Z",
        ),
        event("web-7d9f8b6c5d-aaaaa", "Pulled", "Container image already present", type_="Normal"),
        event(
            "web-7d9f8b6c5d-aaaaa",
            "BackOff",
            "Back-off restarting failed container web in pod web-7d9f8b6c5d-aaaaa_shop",
            count=4,
            last="2024-05-01T10:10:00Z",
        ),
        event("web-7d9f8b6c5d-bbbbb", "BackOff", "another pod's"),
    ]
    problem = only(unhealthy_pods([crashing], events, now=NOW))
    assert problem.reason == "OOMKilled"
    assert problem.crash_looping
    assert problem.cause == (
        "container web: CrashLoopBackOff (restarted 6 times; last exit: OOMKilled, exit code 137, "
        "memory limit 256Mi)"
    )
    assert problem.workload == "shop/Deployment/web"
    assert problem.container == "web"
    assert problem.restart_count == 6
    [web] = problem.containers
    assert web.last_terminated is not None
    assert web.last_terminated.exit_code == 137
    assert web.last_terminated.finished_at == datetime(2024, 5, 1, 10, 25, tzinfo=UTC)
    # Warning events only, merged with their counts, newest first
    [backoff] = problem.events
    assert (backoff.reason, backoff.count, backoff.container) == ("BackOff", 24, "web")
    assert backoff.last_seen == datetime(2024, 5, 1, 10, 29, tzinfo=UTC)


def test_crashloop_with_an_error_exit() -> None:
    last = {**OOM, "exitCode": 1, "reason": "Error"}
    crashing = pod(
        ready=False,
        containers=[container(ready=False, restarts=1, state=CRASHLOOP_STATE, last=last)],
    )
    problem = only(unhealthy_pods([crashing], now=NOW))
    assert problem.reason == "CrashLoopBackOff"
    assert problem.cause == (
        "container web: CrashLoopBackOff (restarted 1 time; last exit: Error, exit code 1)"
    )


def test_image_pull_backoff() -> None:
    state = {
        "waiting": {
            "reason": "ImagePullBackOff",
            "message": 'Back-off pulling image "ghcr.io/acme/web:9.9"',
        }
    }
    pending = pod(
        phase="Pending",
        ready=False,
        created="2024-05-01T10:29:00Z",
        containers=[container(ready=False, state=state)],
    )
    problem = only(unhealthy_pods([pending], now=NOW))
    assert problem.reason == "ImagePullBackOff"
    assert problem.phase == "Pending"
    assert problem.cause == (
        'container web: ImagePullBackOff: Back-off pulling image "ghcr.io/acme/web:9.9"'
    )


def test_failed_init_container() -> None:
    init = container(
        "migrate", ready=False, state={"terminated": {"exitCode": 2, "reason": "Error"}}
    )
    p = pod(
        phase="Pending",
        ready=False,
        containers=[container(ready=False, state={"waiting": {"reason": "PodInitializing"}})],
        extra_status={"initContainerStatuses": [init]},
    )
    problem = only(unhealthy_pods([p], now=NOW))
    assert problem.cause == "init container migrate terminated: Error, exit code 2"
    assert problem.container == "migrate"
    assert [c.init for c in problem.containers] == [True, False]


def test_unschedulable() -> None:
    p = pod(
        phase="Pending",
        ready=False,
        containers=[],
        created="2024-05-01T10:29:50Z",
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory.",
            }
        ],
    )
    problem = only(unhealthy_pods([p], now=NOW))
    assert problem.reason == "Unschedulable"
    assert problem.cause == "cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory."


def test_evicted() -> None:
    p = pod(
        phase="Failed",
        ready=False,
        extra_status={"reason": "Evicted", "message": "The node was low on resource: memory."},
    )
    problem = only(unhealthy_pods([p], now=NOW))
    assert problem.reason == "Evicted"
    assert problem.cause == "pod failed: Evicted: The node was low on resource: memory."


def test_pending_too_long_and_not_yet() -> None:
    creating = container(ready=False, state={"waiting": {"reason": "ContainerCreating"}})
    old = pod(
        "web-old",
        phase="Pending",
        ready=False,
        created="2024-05-01T10:20:00Z",
        containers=[creating],
    )
    young = pod(
        "web-young",
        phase="Pending",
        ready=False,
        created="2024-05-01T10:28:00Z",
        containers=[creating],
    )
    problem = only(unhealthy_pods([old, young], now=NOW))
    assert problem.name == "web-old"
    assert problem.reason == "PendingTooLong"
    assert problem.cause == "Pending for 10m (ContainerCreating)"
    assert unhealthy_pods([old], now=NOW, grace=timedelta(minutes=15)) == []


def test_recent_oomkill_of_a_running_container() -> None:
    p = pod(containers=[container(restarts=1, last=OOM)])
    problem = only(unhealthy_pods([p], now=NOW))
    assert problem.reason == "OOMKilled"
    assert problem.cause == (
        "container web restarted 5m ago (restart count 1; last exit: OOMKilled, exit code 137, "
        "memory limit 256Mi)"
    )
    # an hour later the restart is history
    assert unhealthy_pods([p], now=NOW + timedelta(hours=1)) == []


def test_not_ready_with_failing_probe() -> None:
    p = pod(ready=False, ready_since="2024-05-01T10:10:00Z", containers=[container(ready=False)])
    events = [
        event(
            "web-7d9f8b6c5d-aaaaa",
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            count=120,
        ),
    ]
    problem = only(unhealthy_pods([p], events, now=NOW))
    assert problem.reason == "Unhealthy"
    assert problem.cause == (
        "container web not ready: Readiness probe failed: HTTP probe failed with statuscode: 503"
    )
    # without an event it is just not ready
    problem = only(unhealthy_pods([p], [], now=NOW))
    assert (problem.reason, problem.cause) == ("NotReady", "container web not ready for 20m")
    # not ready for less than the grace: starting up, not a problem
    fresh = pod(
        ready=False, ready_since="2024-05-01T10:29:00Z", containers=[container(ready=False)]
    )
    assert unhealthy_pods([fresh], events, now=NOW) == []


def test_terminating_pods_are_left_out() -> None:
    p = pod(ready=False, containers=[container(ready=False, state=CRASHLOOP_STATE)])
    p["metadata"]["deletionTimestamp"] = "2024-05-01T10:29:00Z"
    assert unhealthy_pods([p], now=NOW) == []


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        unhealthy_pods([pod()], now=datetime(2024, 5, 1, 10, 30))


def test_events_k8s_io_v1_shape() -> None:
    new_style = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "x", "namespace": NS, "creationTimestamp": "2024-05-01T10:00:00Z"},
        "regarding": {
            "kind": "Pod",
            "namespace": NS,
            "name": "web-7d9f8b6c5d-aaaaa",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Unhealthy",
        "note": 'Liveness probe failed: Get "http://10.0.0.7:8080/healthz": context deadline',
        "type": "Warning",
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "series": {"count": 7, "lastObservedTime": "2024-05-01T10:05:00.123456Z"},
    }
    [e] = pod_events(pod(), [new_style])
    assert (e.reason, e.count, e.container) == ("Unhealthy", 7, "web")
    assert e.message.startswith("Liveness probe failed")
    assert e.last_seen == datetime(2024, 5, 1, 10, 5, 0, 123456, tzinfo=UTC)


def test_workload_of() -> None:
    assert workload_of(pod()) == "shop/Deployment/web"
    assert workload_of(pod(owner=("StatefulSet", "db"))) == "shop/StatefulSet/db"
    assert workload_of(pod(owner=None)) is None


def test_group_by_workload() -> None:
    crash = container(ready=False, state=CRASHLOOP_STATE)
    problems = unhealthy_pods(
        [
            pod("web-7d9f8b6c5d-a", ready=False, containers=[crash]),
            pod("web-7d9f8b6c5d-b", ready=False, containers=[crash]),
            pod("lonely", ready=False, containers=[crash], owner=None),
        ],
        now=NOW,
    )
    groups = group_by_workload(problems)
    assert {k: [p.name for p in v] for k, v in groups.items()} == {
        "shop/Deployment/web": ["web-7d9f8b6c5d-a", "web-7d9f8b6c5d-b"],
        "shop/Pod/lonely": ["lonely"],
    }


# --- the auto-restart state machine ------------------------------------------------------------

KEY = "shop/Deployment/web"


def crashlooping() -> list[PodProblem]:
    p = pod(
        ready=False,
        containers=[
            container(
                ready=False,
                restarts=4,
                state=CRASHLOOP_STATE,
                last={**OOM, "reason": "Error", "exitCode": 1},
            )
        ],
    )
    return unhealthy_pods([p], now=NOW)


POLICY = AutoRestartPolicy(
    max_restarts=3,
    window=timedelta(hours=1),
    backoff_base=timedelta(minutes=2),
    backoff_max=timedelta(minutes=5),
)


def test_nothing_to_do_without_a_crash_loop() -> None:
    pending = unhealthy_pods(
        [
            pod(
                phase="Pending",
                ready=False,
                created="2024-05-01T10:00:00Z",
                containers=[
                    container(ready=False, state={"waiting": {"reason": "ContainerCreating"}})
                ],
            )
        ],
        now=NOW,
    )
    assert pending  # a problem, but not one a restart fixes
    decision = POLICY.decide(KEY, pending, RestartHistory(), NOW)
    assert decision.action == "none"
    assert POLICY.decide(KEY, [], RestartHistory(), NOW).action == "none"


def test_the_full_cycle_restart_wait_restart_give_up() -> None:
    problems = crashlooping()
    history = RestartHistory()

    first = POLICY.decide(KEY, problems, history, NOW)
    assert (first.action, first.attempt) == ("restart", 1)
    assert first.message.startswith(f"{KEY}: restart: restart 1 of 3: 1 pod failing;")
    history = history.record(KEY, NOW)

    # one minute later: back off for 2 minutes after the first restart
    wait = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=1))
    assert wait.action == "wait"
    assert wait.until == NOW + timedelta(minutes=2)

    second = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=2))
    assert (second.action, second.attempt) == ("restart", 2)
    history = history.record(KEY, NOW + timedelta(minutes=2))

    # after the second restart the wait doubles to 4 minutes
    wait = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=5))
    assert (wait.action, wait.until) == ("wait", NOW + timedelta(minutes=6))
    third = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=6))
    assert (third.action, third.attempt) == ("restart", 3)
    history = history.record(KEY, NOW + timedelta(minutes=6))

    gave_up = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=30))
    assert gave_up.action == "give_up"
    assert gave_up.reason.startswith("restarted 3 times in the last 60m (limit 3) and still")
    assert "CrashLoopBackOff" in gave_up.reason
    assert gave_up.problems == tuple(problems)

    # once the first restart leaves the window, one more is allowed
    later = POLICY.decide(KEY, problems, history, NOW + timedelta(minutes=61))
    assert (later.action, later.attempt) == ("restart", 3)


def test_backoff_is_capped_and_other_workloads_are_independent() -> None:
    policy = AutoRestartPolicy(
        max_restarts=10, backoff_base=timedelta(minutes=1), backoff_max=timedelta(minutes=5)
    )
    assert [policy.backoff(n).total_seconds() / 60 for n in range(6)] == [0, 1, 2, 4, 5, 5]
    history = RestartHistory().record("shop/Deployment/other", NOW)
    assert policy.decide(KEY, crashlooping(), history, NOW).action == "restart"


def test_history_prune() -> None:
    history = RestartHistory().record(KEY, NOW - timedelta(hours=2)).record(KEY, NOW)
    assert history.prune(NOW - timedelta(hours=1)).restarts == {KEY: (NOW,)}
    assert history.prune(NOW).restarts == {}


def test_zero_restarts_gives_up_at_once() -> None:
    decision = AutoRestartPolicy(max_restarts=0).decide(KEY, crashlooping(), RestartHistory(), NOW)
    assert decision.action == "give_up"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_restarts": -1}, "auto_restart.max_restarts"),
        ({"window": timedelta(0)}, "auto_restart.window"),
        ({"backoff_base": timedelta(seconds=-1)}, "auto_restart.backoff_base"),
        (
            {"backoff_base": timedelta(hours=1), "backoff_max": timedelta(minutes=1)},
            "auto_restart.backoff_max",
        ),
    ],
)
def test_policy_is_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(KubernetesSpecError) as info:
        AutoRestartPolicy(**kwargs)
    assert info.value.field == field

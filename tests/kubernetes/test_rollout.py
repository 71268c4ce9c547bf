"""Rollout status, history, rollback and restart against API-shaped objects."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tuskops.errors import KubernetesError
from tuskops.kubernetes.rollout import (
    RESTARTED_AT,
    RevisionNotFoundError,
    new_replica_set,
    pods_of,
    restart_patch,
    revisions,
    rollback_manifest,
    rollback_patch,
    rollback_target,
    rollout_status,
)

NS = "shop"
DEPLOY_UID = "5f1c2d3e-0000-4000-8000-000000000001"


def template(image: str, *, cause_env: str = "info") -> dict[str, Any]:
    """A pod template as the API server returns it after defaulting."""
    return {
        "metadata": {
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"},
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": image,
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "LOG_LEVEL", "value": cause_env}],
                    "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}},
                    "readinessProbe": {
                        "httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 1,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        },
    }


def deployment(
    image: str,
    *,
    revision: int,
    generation: int = 3,
    observed: int = 3,
    replicas: int = 3,
    updated: int = 3,
    ready: int = 3,
    available: int = 3,
    total: int = 3,
    progressing: tuple[str, str, str] = (
        "True",
        "NewReplicaSetAvailable",
        'ReplicaSet "web-7d9f8b6c5d" has successfully progressed.',
    ),
    annotations: dict[str, str] | None = None,
    paused: bool = False,
) -> dict[str, Any]:
    status, reason, message = progressing
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {
            "matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
        },
        "template": template(image),
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": NS,
            "uid": DEPLOY_UID,
            "resourceVersion": "48211",
            "generation": generation,
            "creationTimestamp": "2024-05-01T09:00:00Z",
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "tuskops"},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                **(annotations or {}),
            },
        },
        "spec": spec,
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": "2024-05-01T09:00:30Z",
                    "lastTransitionTime": "2024-05-01T09:00:30Z",
                },
                {
                    "type": "Progressing",
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastUpdateTime": "2024-05-01T10:00:30Z",
                    "lastTransitionTime": "2024-05-01T09:00:00Z",
                },
            ],
        },
    }


def replica_set(
    name_hash: str,
    image: str,
    *,
    revision: int,
    replicas: int,
    created: str,
    cause: str | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    tpl = template(image)
    tpl["metadata"]["labels"]["pod-template-hash"] = name_hash
    annotations = {
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
        "deployment.kubernetes.io/revision": str(revision),
    }
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"web-{name_hash}",
            "namespace": NS,
            "uid": uid or f"rs-{name_hash}",
            "creationTimestamp": created,
            "labels": {**tpl["metadata"]["labels"]},
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "web",
                    "uid": DEPLOY_UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {**tpl["metadata"]["labels"]}},
            "template": tpl,
        },
        "status": {"replicas": replicas, "observedGeneration": 1},
    }


def pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    ready: bool = True,
    container_status: dict[str, Any] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    rs_name = rs["metadata"]["name"]
    status = {
        "name": "web",
        "ready": ready,
        "started": ready,
        "restartCount": 0,
        "image": rs["spec"]["template"]["spec"]["containers"][0]["image"],
        "imageID": "",
        "containerID": "containerd://abc",
        "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}},
        "lastState": {},
        **(container_status or {}),
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs_name}-{suffix}",
            "namespace": NS,
            "uid": f"pod-{suffix}",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {**rs["metadata"]["labels"]},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": rs["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": copy.deepcopy(rs["spec"]["template"]["spec"]) | {"nodeName": "node-1"},
        "status": {
            "phase": phase,
            "conditions": conditions
            if conditions is not None
            else [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "True"},
                {"type": "ContainersReady", "status": "True" if ready else "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
            "containerStatuses": [status],
            "startTime": "2024-05-01T10:00:00Z",
        },
    }


OLD = replica_set(
    "6b7c8d9e0f",
    "ghcr.io/acme/web:1.3.0",
    revision=1,
    replicas=0,
    created="2024-04-20T08:00:00Z",
    cause="initial release",
)
MID = replica_set(
    "5c4d3e2f1a",
    "ghcr.io/acme/web:1.4.0",
    revision=2,
    replicas=3,
    created="2024-04-28T08:00:00Z",
    cause="bump to 1.4.0",
)
NEW = replica_set(
    "7d9f8b6c5d",
    "ghcr.io/acme/web:1.5.0",
    revision=3,
    replicas=3,
    created="2024-05-01T10:00:00Z",
    cause="bump to 1.5.0",
)
RS_ALL = [NEW, OLD, MID]


def rolling(**overrides: Any) -> dict[str, Any]:
    """The Deployment moved to 1.5.0, its rollout half-way."""
    values: dict[str, Any] = {
        "revision": 3,
        "updated": 3,
        "ready": 3,
        "available": 3,
        "total": 3,
        "progressing": ("True", "ReplicaSetUpdated", 'ReplicaSet "web-7d9f8b6c5d" is progressing.'),
    }
    values.update(overrides)
    return deployment("ghcr.io/acme/web:1.5.0", **values)


# --- status ----------------------------------------------------------------------------------


def test_complete_rollout() -> None:
    dep = deployment("ghcr.io/acme/web:1.5.0", revision=3)
    pods = [pod(NEW, s) for s in ("aaaaa", "bbbbb", "ccccc")]
    status = rollout_status(dep, RS_ALL, pods)
    assert status.state == "complete"
    assert status.done
    assert status.message == 'deployment "web" successfully rolled out'
    assert (status.desired, status.updated, status.ready, status.available) == (3, 3, 3, 3)
    assert status.new_replica_set == "web-7d9f8b6c5d"
    assert status.revision == 3
    assert status.failures == ()


def test_observed_generation_behind_is_unknown() -> None:
    dep = deployment("ghcr.io/acme/web:1.5.0", revision=2, generation=4, observed=3)
    status = rollout_status(dep, RS_ALL, [])
    assert status.state == "unknown"
    assert not status.done
    assert status.message == "Waiting for deployment spec update to be observed..."


def test_missing_observed_generation_is_unknown() -> None:
    dep = deployment("ghcr.io/acme/web:1.5.0", revision=3)
    del dep["status"]["observedGeneration"]
    assert rollout_status(dep, RS_ALL, []).state == "unknown"


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (
            {"updated": 1, "ready": 3, "available": 3, "total": 4},
            'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been '
            "updated...",
        ),
        (
            {"updated": 3, "ready": 3, "available": 3, "total": 4},
            'Waiting for deployment "web" rollout to finish: 1 old replicas are pending '
            "termination...",
        ),
        (
            {"updated": 3, "ready": 2, "available": 2, "total": 3},
            'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are '
            "available...",
        ),
    ],
)
def test_progressing_like_kubectl(counts: dict[str, int], message: str) -> None:
    status = rollout_status(rolling(**counts), RS_ALL, [pod(NEW, "aaaaa")])
    assert status.state == "progressing"
    assert status.message == message
    assert status.updated == counts["updated"]
    assert status.total == counts["total"]


def test_paused_rollout_says_so() -> None:
    status = rollout_status(rolling(updated=1, total=4, paused=True), RS_ALL, [])
    assert status.state == "progressing"
    assert status.paused
    assert status.message.endswith("(the deployment is paused: resume it to continue)")


def test_progress_deadline_exceeded_fails() -> None:
    dep = rolling(
        updated=1,
        available=2,
        total=4,
        progressing=(
            "False",
            "ProgressDeadlineExceeded",
            'ReplicaSet "web-7d9f8b6c5d" has timed out progressing.',
        ),
    )
    status = rollout_status(dep, RS_ALL, [])
    assert status.state == "failed"
    assert status.message == 'deployment "web" exceeded its progress deadline'
    assert status.reasons == ("ProgressDeadlineExceeded",)
    assert status.failures[0].message == 'ReplicaSet "web-7d9f8b6c5d" has timed out progressing.'


CRASHLOOP = {
    "ready": False,
    "restartCount": 5,
    "state": {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 2m40s restarting failed container=web pod=web-7d9f8b6c5d-aaaaa",
        }
    },
    "lastState": {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": "2024-05-01T10:04:00Z",
            "finishedAt": "2024-05-01T10:04:02Z",
            "containerID": "containerd://def",
        }
    },
}


def test_crashloop_in_new_replica_set_fails_at_once() -> None:
    pods = [pod(NEW, "aaaaa", ready=False, container_status=CRASHLOOP), pod(MID, "zzzzz")]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, pods)
    assert status.state == "failed"
    [failure] = status.failures
    assert (failure.reason, failure.pod, failure.container, failure.fatal) == (
        "CrashLoopBackOff",
        "web-7d9f8b6c5d-aaaaa",
        "web",
        True,
    )
    assert "restarted 5 times; last exit: Error, exit code 1" in failure.message
    assert status.message.startswith('deployment "web" rollout failed: pod web-7d9f8b6c5d-aaaaa')


def test_crashloop_can_be_left_to_the_deadline() -> None:
    pods = [pod(NEW, "aaaaa", ready=False, container_status=CRASHLOOP)]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, pods, fail_on=frozenset())
    assert status.state == "progressing"
    assert status.reasons == ("CrashLoopBackOff",)
    assert not status.failures[0].fatal


def test_crashloop_in_old_replica_set_is_not_the_rollouts_problem() -> None:
    pods = [pod(MID, "zzzzz", ready=False, container_status=CRASHLOOP), pod(NEW, "aaaaa")]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, pods)
    assert status.state == "progressing"
    assert status.failures == ()


def test_oomkilled_crashloop() -> None:
    oom = copy.deepcopy(CRASHLOOP)
    oom["lastState"]["terminated"].update(exitCode=137, reason="OOMKilled")
    status = rollout_status(
        rolling(available=2), RS_ALL, [pod(NEW, "aaaaa", ready=False, container_status=oom)]
    )
    assert status.state == "failed"
    [failure] = status.failures
    assert failure.reason == "OOMKilled"
    assert "memory limit (memory limit 256Mi)" in failure.message
    assert "CrashLoopBackOff (restarted 5 times)" in failure.message


def test_oomkilled_then_running_again_is_reported_not_fatal() -> None:
    running = {
        "restartCount": 1,
        "lastState": {
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "finishedAt": "2024-05-01T10:03:00Z",
            }
        },
    }
    status = rollout_status(
        rolling(available=2), RS_ALL, [pod(NEW, "aaaaa", container_status=running)]
    )
    assert status.state == "progressing"
    assert status.reasons == ("OOMKilled",)
    assert "was earlier killed for exceeding its memory limit" in status.failures[0].message


@pytest.mark.parametrize(
    ("reason", "message", "fatal"),
    [
        ("ImagePullBackOff", 'Back-off pulling image "ghcr.io/acme/web:1.5.0"', True),
        (
            "ErrImagePull",
            'failed to pull and unpack image "ghcr.io/acme/web:1.5.0": not found',
            False,
        ),
        ("InvalidImageName", 'Failed to apply default image tag "ghcr.io/Acme/web"', True),
        ("CreateContainerConfigError", 'secret "web-db" not found', True),
    ],
)
def test_waiting_reasons(reason: str, message: str, fatal: bool) -> None:
    waiting = {
        "ready": False,
        "started": False,
        "state": {"waiting": {"reason": reason, "message": message}},
        "containerID": None,
    }
    pods = [pod(NEW, "aaaaa", ready=False, container_status=waiting, phase="Pending")]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, pods)
    [failure] = status.failures
    assert failure.reason == reason
    assert failure.fatal is fatal
    assert failure.message == f"pod web-7d9f8b6c5d-aaaaa container web: {reason}: {message}"
    assert status.state == ("failed" if fatal else "progressing")


def probe_event(pod_name: str, uid: str, count: int, last: str, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{pod_name}.17c9a", "namespace": NS},
        "involvedObject": {
            "kind": "Pod",
            "namespace": NS,
            "name": pod_name,
            "uid": uid,
            "apiVersion": "v1",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Unhealthy",
        "message": message,
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:10Z",
        "lastTimestamp": last,
        "count": count,
        "type": "Warning",
    }


def test_failing_readiness_probe_is_reported() -> None:
    not_ready = pod(NEW, "aaaaa", ready=False, container_status={"ready": False})
    ready = pod(NEW, "bbbbb")
    events = [
        probe_event(
            "web-7d9f8b6c5d-aaaaa",
            "pod-aaaaa",
            3,
            "2024-05-01T10:01:00Z",
            "Readiness probe failed: HTTP probe failed with statuscode: 500",
        ),
        probe_event(
            "web-7d9f8b6c5d-aaaaa",
            "pod-aaaaa",
            9,
            "2024-05-01T10:03:00Z",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
        ),
        # a ready pod's old probe failure is not a problem
        probe_event(
            "web-7d9f8b6c5d-bbbbb",
            "pod-bbbbb",
            1,
            "2024-05-01T10:00:20Z",
            "Readiness probe failed: connection refused",
        ),
        # an earlier pod of the same name (other uid)
        probe_event(
            "web-7d9f8b6c5d-aaaaa",
            "pod-older",
            1,
            "2024-05-01T10:05:00Z",
            "Readiness probe failed: old",
        ),
    ]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, [not_ready, ready], events)
    assert status.state == "progressing"
    [failure] = status.failures
    assert failure.reason == "Unhealthy"
    assert failure.container == "web"
    assert not failure.fatal
    assert failure.message == (
        "pod web-7d9f8b6c5d-aaaaa container web: Readiness probe failed: "
        "HTTP probe failed with statuscode: 503 (9 times)"
    )


def test_unschedulable_pod() -> None:
    pending = pod(
        NEW,
        "aaaaa",
        phase="Pending",
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes "
                "are available: 3 No preemption victims found for incoming pod.",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
    )
    del pending["status"]["containerStatuses"]
    status = rollout_status(rolling(available=2, ready=2), RS_ALL, [pending])
    [failure] = status.failures
    assert failure.reason == "Unschedulable"
    assert failure.container is None
    assert failure.message.startswith("pod web-7d9f8b6c5d-aaaaa cannot be scheduled: 0/3 nodes")
    assert status.state == "progressing"


def test_replica_failure_condition() -> None:
    dep = rolling(updated=0, total=3)
    dep["status"]["conditions"].append(
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": 'pods "web-7d9f8b6c5d-x" is forbidden: exceeded quota: compute',
        }
    )
    status = rollout_status(dep, RS_ALL, [])
    assert status.reasons == ("FailedCreate",)
    assert "exceeded quota" in status.failures[0].message
    assert status.state == "progressing"


def test_new_replica_set_and_its_pods() -> None:
    dep = rolling()
    assert new_replica_set(dep, RS_ALL) is NEW
    mine, other = pod(NEW, "aaaaa"), pod(MID, "zzzzz")
    assert pods_of(NEW, [mine, other]) == [mine]
    # a template change not yet observed: no ReplicaSet has the new template
    assert (
        new_replica_set(deployment("ghcr.io/acme/web:2.0.0", revision=3, generation=4), RS_ALL)
        is None
    )


def test_foreign_replica_sets_are_ignored() -> None:
    stranger = replica_set(
        "1111111111",
        "ghcr.io/acme/web:1.5.0",
        revision=9,
        replicas=1,
        created="2024-05-01T10:00:00Z",
    )
    stranger["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    assert new_replica_set(rolling(), [stranger]) is None
    assert revisions([stranger], rolling()) == []


# --- history -------------------------------------------------------------------------------


def test_history_is_ordered_by_revision() -> None:
    history = revisions(RS_ALL, rolling())
    assert [r.number for r in history] == [1, 2, 3]
    assert [r.replica_set for r in history] == [
        "web-6b7c8d9e0f",
        "web-5c4d3e2f1a",
        "web-7d9f8b6c5d",
    ]
    assert [r.images for r in history] == [
        ("ghcr.io/acme/web:1.3.0",),
        ("ghcr.io/acme/web:1.4.0",),
        ("ghcr.io/acme/web:1.5.0",),
    ]
    assert [r.change_cause for r in history] == [
        "initial release",
        "bump to 1.4.0",
        "bump to 1.5.0",
    ]
    assert [r.current for r in history] == [False, False, True]
    assert history[0].created == datetime(2024, 4, 20, 8, tzinfo=UTC)
    assert "pod-template-hash" not in history[0].template["metadata"]["labels"]


def test_history_sorts_numerically() -> None:
    tenth = replica_set(
        "aaaaaaaaaa",
        "ghcr.io/acme/web:2.0.0",
        revision=10,
        replicas=0,
        created="2024-05-02T08:00:00Z",
    )
    assert [r.number for r in revisions([tenth, *RS_ALL], rolling())] == [1, 2, 3, 10]


# --- rollback --------------------------------------------------------------------------------


def test_rollback_to_previous_revision() -> None:
    dep = rolling(annotations={"kubernetes.io/change-cause": "bump to 1.5.0", "team": "shop"})
    assert rollback_target(dep, RS_ALL).number == 2
    patch = rollback_patch(dep, RS_ALL)
    assert patch["metadata"]["resourceVersion"] == "48211"
    assert patch["spec"]["template"] == {
        "spec": {"containers": [MID["spec"]["template"]["spec"]["containers"][0]]}
    }
    # the annotations become the ReplicaSet's, except the controller's own
    assert patch["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "bump to 1.4.0",
        "team": None,
    }
    assert_merge_patch_gives(dep, patch, MID)


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 applied, as the API server does for application/merge-patch+json."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def assert_merge_patch_gives(
    dep: dict[str, Any], patch: dict[str, Any], rs: dict[str, Any]
) -> None:
    patched = merge(dep, patch)
    wanted = copy.deepcopy(rs["spec"]["template"])
    del wanted["metadata"]["labels"]["pod-template-hash"]
    assert patched["spec"]["template"] == wanted
    assert patched["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_rollback_to_a_given_revision_removes_later_additions() -> None:
    dep = rolling()
    # later changes on the template: an annotation from a restart and an extra label
    dep["spec"]["template"]["metadata"]["annotations"] = {RESTARTED_AT: "2024-05-01T11:00:00Z"}
    dep["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    patch = rollback_patch(dep, RS_ALL, to_revision=1)
    tpl_meta = patch["spec"]["template"]["metadata"]
    assert tpl_meta == {"annotations": None, "labels": {"tier": None}}
    assert patch["metadata"]["annotations"]["kubernetes.io/change-cause"] == "initial release"
    assert_merge_patch_gives(dep, patch, OLD)


def test_rollback_to_the_current_template_is_empty() -> None:
    assert rollback_patch(rolling(), RS_ALL, to_revision=3) == {}


@pytest.mark.parametrize(
    ("replica_sets", "to_revision", "message"),
    [
        (
            [NEW],
            None,
            "no rollout history found for deployment 'web': no revision before revision 3",
        ),
        ([], None, "no rollout history found for deployment 'web'"),
        (
            RS_ALL,
            7,
            "unable to find specified revision 7 in history of deployment 'web' "
            "(revisions: 1, 2, 3)",
        ),
        (RS_ALL, -1, "unable to find specified revision -1 in history"),
    ],
)
def test_rollback_errors(
    replica_sets: list[dict[str, Any]], to_revision: int | None, message: str
) -> None:
    with pytest.raises(
        RevisionNotFoundError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        rollback_patch(rolling(), replica_sets, to_revision)


def test_rollback_of_paused_deployment_is_refused() -> None:
    with pytest.raises(KubernetesError, match="paused"):
        rollback_patch(rolling(paused=True), RS_ALL)
    with pytest.raises(KubernetesError, match="paused"):
        rollback_manifest(rolling(paused=True), RS_ALL)


def test_rollback_manifest_keeps_what_tuskops_applied() -> None:
    dep = rolling(annotations={"team": "shop"})
    dep["metadata"]["managedFields"] = [
        {
            "manager": "tuskops",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:labels": {
                        "f:app.kubernetes.io/name": {},
                        "f:app.kubernetes.io/managed-by": {},
                    },
                    "f:annotations": {"f:team": {}},
                },
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:strategy": {"f:type": {}},
                    "f:template": {"f:spec": {"f:containers": {}}},
                },
            },
        },
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "subresource": "status",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"f:replicas": {}}},
        },
        {
            "manager": "kubectl-rollout",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:revisionHistoryLimit": {}}},
        },
    ]
    manifest = rollback_manifest(dep, RS_ALL)
    assert manifest["apiVersion"] == "apps/v1"
    assert manifest["kind"] == "Deployment"
    assert manifest["metadata"] == {
        "name": "web",
        "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "tuskops", "app.kubernetes.io/name": "web"},
        "annotations": {"team": "shop", "kubernetes.io/change-cause": "bump to 1.4.0"},
    }
    assert set(manifest["spec"]) == {"replicas", "selector", "strategy", "template"}
    assert manifest["spec"]["replicas"] == 3
    assert (
        manifest["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/web:1.4.0"
    )
    assert "pod-template-hash" not in manifest["spec"]["template"]["metadata"]["labels"]


def test_rollback_manifest_without_tuskops_ownership_holds_only_the_template() -> None:
    manifest = rollback_manifest(rolling(), RS_ALL, to_revision=1, manager="tuskops")
    assert set(manifest["spec"]) == {"template"}
    assert manifest["metadata"]["annotations"] == {"kubernetes.io/change-cause": "initial release"}


# --- restart -------------------------------------------------------------------------------


def test_restart_patch_in_utc() -> None:
    patch = restart_patch(datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC))
    assert patch == {
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2024-05-01T12:30:15Z"}}}}
    }


def test_restart_patch_keeps_the_offset() -> None:
    now = datetime(2024, 5, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=2)))
    annotations = restart_patch(now)["spec"]["template"]["metadata"]["annotations"]
    assert annotations[RESTARTED_AT] == "2024-05-01T14:30:15+02:00"


def test_restart_patch_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        restart_patch(datetime(2024, 5, 1, 12, 30))


def test_new_replica_set_by_revision_when_templates_differ_in_defaults() -> None:
    dep = rolling()
    dep["spec"]["template"]["spec"].pop("schedulerName")  # not defaulted as the RS's was
    assert new_replica_set(dep, RS_ALL) is NEW
    # not before the controller has seen the spec
    dep["metadata"]["generation"] = 4
    assert new_replica_set(dep, RS_ALL) is None


def test_pods_without_owner_references_match_by_hash_label() -> None:
    orphan = pod(NEW, "aaaaa")
    del orphan["metadata"]["ownerReferences"]
    other = pod(MID, "zzzzz")
    del other["metadata"]["ownerReferences"]
    assert pods_of(NEW, [orphan, other]) == [orphan]

"""Rollouts of a Deployment: status, history, rollback and restart, as pure decisions.

These functions take the objects a client fetched — the Deployment, its ReplicaSets, their
Pods and Events, as the API returns them (dicts) — and return what ``kubectl rollout`` would
decide or send. The loop that polls the cluster, and the requests, live elsewhere.

Status (:func:`rollout_status`) follows ``kubectl rollout status`` (kubectl's
``DeploymentStatusViewer``) and the Deployment status documentation
(https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status):

1. ``status.observedGeneration < metadata.generation``: the controller has not seen the spec
   yet — state ``unknown`` ("Waiting for deployment spec update to be observed").
2. the ``Progressing`` condition has reason ``ProgressDeadlineExceeded`` — ``failed``.
3. ``updatedReplicas < spec.replicas``, ``replicas > updatedReplicas`` (old pods still
   terminating) or ``availableReplicas < updatedReplicas`` — ``progressing``.
4. otherwise ``complete`` (the controller sets ``Progressing`` to ``NewReplicaSetAvailable``
   in the same status update).

Deviation: kubectl waits until the progress deadline (600 s by default) before it calls a
rollout failed. Here the pods of the *new* ReplicaSet are also examined, and a container
waiting in ``CrashLoopBackOff``, ``ImagePullBackOff``, ``InvalidImageName``,
``CreateContainerConfigError`` or ``ErrImageNeverPull`` fails the rollout at once (the
``fail_on`` argument changes the set): none of these clears without a change. Other findings
are reported but do not fail it — ``ErrImagePull`` (the kubelet retries; a registry hiccup),
an ``OOMKilled`` container that is running again, failing probes (``Unhealthy`` events, normal
while an app starts), ``Unschedulable`` (a cluster autoscaler may add a node) and
``ReplicaFailure``/``FailedCreate`` (quota may free up) — until the deadline does.

The new ReplicaSet is found as the controller finds it: the one owned by the Deployment whose
pod template equals the Deployment's, ignoring the ``pod-template-hash`` label; its pods are
those it owns (``ownerReferences``), or that carry its ``pod-template-hash`` label.

History (:func:`revisions`) is ``kubectl rollout history``: one entry per ReplicaSet with a
``deployment.kubernetes.io/revision`` annotation, oldest first.

Rollback (:func:`rollback_patch`) is ``kubectl rollout undo``: the target ReplicaSet's pod
template without ``pod-template-hash`` replaces ``spec.template``, and the Deployment's
annotations become the ReplicaSet's (so its ``kubernetes.io/change-cause`` comes back) except
the controller's own (``deployment.kubernetes.io/*``) and ``last-applied-configuration``, which
keep the Deployment's values. The default target is the second-highest revision, as kubectl's.
kubectl sends a JSON Patch replacing both; here the same result is a JSON merge patch
(RFC 7386, ``application/merge-patch+json``) that sets every field of the target and nulls
every field the target lacks, with the Deployment's ``resourceVersion`` so a concurrent change
fails with 409 Conflict instead of being overwritten. Do not send it as a strategic merge
patch: that merges container and env lists by name and would keep entries the old revision
lacks. Like kubectl, a paused Deployment is refused, and a target that already matches gives
an empty patch (nothing to do).

:func:`rollback_manifest` is the server-side apply alternative, see its docstring for the
choice. Restart (:func:`restart_patch`) is ``kubectl rollout restart``: the pod template
annotation ``kubectl.kubernetes.io/restartedAt``, which changes the template and so starts a
rollout that replaces every pod.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tuskops.errors import KubernetesError
from tuskops.kubernetes.health import (
    POD_TEMPLATE_HASH,
    ContainerHealth,
    container_health,
    parse_time,
    pod_events,
)

__all__ = [
    "CHANGE_CAUSE",
    "DEFAULT_FAIL_ON",
    "RESTARTED_AT",
    "REVISION",
    "Revision",
    "RevisionNotFoundError",
    "RolloutFailure",
    "RolloutStatus",
    "new_replica_set",
    "pods_of",
    "restart_patch",
    "revisions",
    "rollback_manifest",
    "rollback_patch",
    "rollback_target",
    "rollout_status",
]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: Annotations ``kubectl rollout undo`` keeps from the Deployment instead of the ReplicaSet.
ROLLBACK_SKIPPED_ANNOTATIONS = frozenset(
    {
        LAST_APPLIED,
        REVISION,
        REVISION_HISTORY,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
#: Waiting reasons that fail a rollout at once (see the module docstring).
DEFAULT_FAIL_ON = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "ErrImageNeverPull",
    }
)
#: Waiting reasons reported as rollout failures (fatal or not).
_BAD_WAITING = DEFAULT_FAIL_ON | {"ErrImagePull", "CreateContainerError", "RunContainerError"}

Json = Mapping[str, Any]


class RevisionNotFoundError(KubernetesError):
    """The revision to roll back to does not exist, or there is no earlier one."""


# --- helpers -------------------------------------------------------------------------------------


def _map(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _meta(obj: Json) -> Json:
    return _map(obj.get("metadata"))


def _name(obj: Json) -> str:
    name = _meta(obj).get("name")
    return name if isinstance(name, str) else "?"


def _owned_by(obj: Json, owner: Json, kind: str) -> bool:
    """``obj`` names ``owner`` in its ownerReferences (by uid when both have one, else name)."""
    owner_uid = _meta(owner).get("uid")
    for ref in _meta(obj).get("ownerReferences") or ():
        if not isinstance(ref, Mapping) or ref.get("kind") != kind:
            continue
        if owner_uid and ref.get("uid"):
            if ref.get("uid") == owner_uid:
                return True
        elif ref.get("name") == _name(owner):
            return True
    return False


def _template_without_hash(template: object) -> dict[str, Any]:
    result = copy.deepcopy(dict(_map(template)))
    meta = dict(_map(result.get("metadata")))
    labels = dict(_map(meta.get("labels")))
    labels.pop(POD_TEMPLATE_HASH, None)
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    result["metadata"] = meta
    return result


def _same_template(a: object, b: object) -> bool:
    return _template_without_hash(a) == _template_without_hash(b)


def _revision_number(rs: Json) -> int | None:
    value = _map(_meta(rs).get("annotations")).get(REVISION)
    try:
        return int(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _owned_replica_sets(deployment: Json, replica_sets: Iterable[Json]) -> list[Json]:
    return [rs for rs in replica_sets if _owned_by(rs, deployment, "Deployment")]


def new_replica_set(deployment: Json, replica_sets: Iterable[Json]) -> Json | None:
    """The Deployment's current ReplicaSet: same pod template, ignoring ``pod-template-hash``.

    When no template matches (built by hand, or defaulted differently) and the controller has
    seen the spec, the one whose revision is the Deployment's revision annotation.
    """
    owned = _owned_replica_sets(deployment, replica_sets)
    template = _map(deployment.get("spec")).get("template")
    for rs in owned:
        if _same_template(_map(rs.get("spec")).get("template"), template):
            return rs
    generation = _int(_meta(deployment).get("generation"))
    observed = _int(_map(deployment.get("status")).get("observedGeneration"))
    wanted = _map(_meta(deployment).get("annotations")).get(REVISION)
    if wanted and generation is not None and observed is not None and observed >= generation:
        for rs in owned:
            if _map(_meta(rs).get("annotations")).get(REVISION) == wanted:
                return rs
    return None


def pods_of(replica_set: Json, pods: Iterable[Json]) -> list[Json]:
    """The pods ``replica_set`` owns, or that carry its ``pod-template-hash`` label."""
    rs_hash = _map(_meta(replica_set).get("labels")).get(POD_TEMPLATE_HASH)
    namespace = _meta(replica_set).get("namespace")
    result = []
    for pod in pods:
        meta = _meta(pod)
        if namespace and meta.get("namespace") not in (None, namespace):
            continue
        if _owned_by(pod, replica_set, "ReplicaSet") or (
            rs_hash
            and not meta.get("ownerReferences")
            and _map(meta.get("labels")).get(POD_TEMPLATE_HASH) == rs_hash
        ):
            result.append(pod)
    return result


# --- status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutFailure:
    """One reason a rollout is failing or stuck.

    ``reason`` is the API's word: ``ProgressDeadlineExceeded``, ``CrashLoopBackOff``,
    ``OOMKilled``, ``ImagePullBackOff``, ``ErrImagePull``, ``InvalidImageName``,
    ``CreateContainerConfigError``, ``Unhealthy`` (a failing probe), ``Unschedulable``,
    ``FailedCreate``... ``fatal`` failures fail the rollout now; the others explain a rollout
    that is slow, and fail it only when the progress deadline passes.
    """

    reason: str
    message: str
    pod: str | None = None
    container: str | None = None
    fatal: bool = False


@dataclass(frozen=True)
class RolloutStatus:
    """Where a Deployment's rollout stands, with counts for a progress display."""

    name: str
    namespace: str
    state: Literal["progressing", "complete", "failed", "unknown"]
    #: A line like kubectl's ("Waiting for deployment "web" rollout to finish: ...").
    message: str
    desired: int
    updated: int
    ready: int
    available: int
    #: ``status.replicas``: pods of every ReplicaSet, old ones included.
    total: int
    revision: int | None = None
    new_replica_set: str | None = None
    paused: bool = False
    failures: tuple[RolloutFailure, ...] = ()

    @property
    def done(self) -> bool:
        """The rollout will not change state by itself (complete or failed)."""
        return self.state in ("complete", "failed")

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.reason for f in self.failures))


def _container_failure(
    pod: str, c: ContainerHealth, fail_on: frozenset[str]
) -> RolloutFailure | None:
    who = f"init container {c.name}" if c.init else f"container {c.name}"
    waiting = c.waiting_reason
    last = c.last_terminated
    oom_limit = f" (memory limit {c.memory_limit})" if c.memory_limit else ""
    if waiting == "CrashLoopBackOff":
        restarts = f"restarted {c.restart_count} time{'s' if c.restart_count != 1 else ''}"
        if last is not None and last.reason == "OOMKilled":
            message = (
                f"pod {pod} {who} was killed for exceeding its memory limit{oom_limit} and is "
                f"in CrashLoopBackOff ({restarts})"
            )
            return RolloutFailure("OOMKilled", message, pod, c.name, waiting in fail_on)
        exit_ = f"; last exit: {last.describe()}" if last else ""
        message = f"pod {pod} {who} is in CrashLoopBackOff ({restarts}{exit_})"
        return RolloutFailure(waiting, message, pod, c.name, waiting in fail_on)
    if waiting in _BAD_WAITING:
        detail = f": {c.waiting_message}" if c.waiting_message else ""
        message = f"pod {pod} {who}: {waiting}{detail}"
        return RolloutFailure(waiting, message, pod, c.name, waiting in fail_on)
    for term, when in ((c.terminated, "was"), (last, "was earlier")):
        if term is not None and term.reason == "OOMKilled":
            message = f"pod {pod} {who} {when} killed for exceeding its memory limit{oom_limit}"
            return RolloutFailure("OOMKilled", message, pod, c.name, "OOMKilled" in fail_on)
    return None


def _pod_failures(
    pod: Json, events: Sequence[Json], fail_on: frozenset[str]
) -> list[RolloutFailure]:
    name = _name(pod)
    failures: list[RolloutFailure] = []
    for cond in _map(pod.get("status")).get("conditions") or ():
        if (
            isinstance(cond, Mapping)
            and cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            detail = cond.get("message") or "no node fits"
            failures.append(
                RolloutFailure(
                    "Unschedulable",
                    f"pod {name} cannot be scheduled: {detail}",
                    name,
                    None,
                    "Unschedulable" in fail_on,
                )
            )
    containers = container_health(pod)
    for c in containers:
        failure = _container_failure(name, c, fail_on)
        if failure is not None:
            failures.append(failure)
    ready = any(
        isinstance(cond, Mapping) and cond.get("type") == "Ready" and cond.get("status") == "True"
        for cond in _map(pod.get("status")).get("conditions") or ()
    )
    if not ready:
        seen: set[str | None] = set()
        for event in pod_events(pod, events):  # newest first: keep the latest per container
            if event.reason != "Unhealthy" or event.container in seen:
                continue
            seen.add(event.container)
            who = f" container {event.container}" if event.container else ""
            times = f" ({event.count} times)" if event.count > 1 else ""
            failures.append(
                RolloutFailure(
                    "Unhealthy",
                    f"pod {name}{who}: {event.message}{times}",
                    name,
                    event.container,
                    "Unhealthy" in fail_on,
                )
            )
    return failures


def rollout_status(
    deployment: Json,
    replica_sets: Iterable[Json],
    pods: Iterable[Json],
    events: Iterable[Json] = (),
    *,
    fail_on: frozenset[str] = DEFAULT_FAIL_ON,
) -> RolloutStatus:
    """The rollout's state as ``kubectl rollout status`` decides it, and why it is failing.

    ``fail_on`` is the set of failure reasons that fail the rollout before its deadline;
    ``frozenset()`` gives kubectl's behaviour exactly.
    """
    meta, spec, status = (
        _meta(deployment),
        _map(deployment.get("spec")),
        _map(deployment.get("status")),
    )
    name = _name(deployment)
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else "default"
    replicas = _int(spec.get("replicas"))
    desired = 1 if replicas is None else replicas
    updated = _int(status.get("updatedReplicas")) or 0
    total = _int(status.get("replicas")) or 0
    available = _int(status.get("availableReplicas")) or 0
    revision_text = _map(meta.get("annotations")).get(REVISION)
    base: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "desired": desired,
        "updated": updated,
        "ready": _int(status.get("readyReplicas")) or 0,
        "available": available,
        "total": total,
        "revision": int(revision_text)
        if isinstance(revision_text, str) and revision_text.isdigit()
        else None,
        "paused": spec.get("paused") is True,
    }
    generation = _int(meta.get("generation"))
    observed = _int(status.get("observedGeneration"))
    if generation is None or observed is None or observed < generation:
        return RolloutStatus(
            state="unknown", message="Waiting for deployment spec update to be observed...", **base
        )

    rs_list = list(replica_sets)
    new_rs = new_replica_set(deployment, rs_list)
    base["new_replica_set"] = _name(new_rs) if new_rs is not None else None
    failures: list[RolloutFailure] = []
    conditions = [c for c in status.get("conditions") or () if isinstance(c, Mapping)]
    progressing = next((c for c in conditions if c.get("type") == "Progressing"), None)
    deadline = progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded"
    if deadline and progressing is not None:
        failures.append(
            RolloutFailure(
                "ProgressDeadlineExceeded",
                str(progressing.get("message") or f"deployment {name!r} exceeded its deadline"),
                fatal=True,
            )
        )
    replica_failure = [
        c
        for c in (
            *conditions,
            *(_map(new_rs.get("status")).get("conditions") or () if new_rs else ()),
        )
        if isinstance(c, Mapping)
        and c.get("type") == "ReplicaFailure"
        and c.get("status") == "True"
    ]
    if replica_failure:
        cond = replica_failure[0]
        reason = str(cond.get("reason") or "FailedCreate")
        failures.append(
            RolloutFailure(reason, str(cond.get("message") or reason), fatal=reason in fail_on)
        )
    if new_rs is not None:
        event_list = list(events)
        for pod in pods_of(new_rs, pods):
            if not _meta(pod).get("deletionTimestamp"):
                failures.extend(_pod_failures(pod, event_list, fail_on))

    quoted = f'deployment "{name}"'
    if deadline:
        state: Literal["progressing", "complete", "failed"] = "failed"
        message = f"{quoted} exceeded its progress deadline"
    elif replicas is not None and updated < replicas:
        state, message = (
            "progressing",
            f"Waiting for {quoted} rollout to finish: {updated} out of {replicas} new "
            "replicas have been updated...",
        )
    elif total > updated:
        state, message = (
            "progressing",
            f"Waiting for {quoted} rollout to finish: {total - updated} old replicas are "
            "pending termination...",
        )
    elif available < updated:
        state, message = (
            "progressing",
            f"Waiting for {quoted} rollout to finish: {available} of {updated} updated "
            "replicas are available...",
        )
    else:
        state, message = "complete", f"{quoted} successfully rolled out"
    if state == "progressing":
        fatal = next((f for f in failures if f.fatal), None)
        if fatal is not None:
            state, message = "failed", f"{quoted} rollout failed: {fatal.message}"
        elif base["paused"]:
            message += " (the deployment is paused: resume it to continue)"
    return RolloutStatus(state=state, message=message, failures=tuple(failures), **base)


# --- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """One entry of ``kubectl rollout history``."""

    number: int
    replica_set: str
    images: tuple[str, ...]
    change_cause: str | None
    created: datetime | None
    #: Pods the ReplicaSet has now (``status.replicas``).
    replicas: int
    #: The Deployment's current template.
    current: bool
    #: The pod template, without ``pod-template-hash``.
    template: Mapping[str, Any]


def revisions(replica_sets: Iterable[Json], deployment: Json) -> list[Revision]:
    """The Deployment's revisions, oldest first, from its ReplicaSets' revision annotations.

    ReplicaSets the Deployment does not own, or without a revision, are left out (as kubectl).
    """
    rs_list = _owned_replica_sets(deployment, replica_sets)
    current = new_replica_set(deployment, rs_list)
    result = []
    for rs in rs_list:
        number = _revision_number(rs)
        if number is None:
            continue
        template = _template_without_hash(_map(rs.get("spec")).get("template"))
        pod_spec = _map(template.get("spec"))
        images = tuple(
            str(c.get("image"))
            for key in ("initContainers", "containers")
            for c in pod_spec.get(key) or ()
            if isinstance(c, Mapping) and c.get("image")
        )
        cause = _map(_meta(rs).get("annotations")).get(CHANGE_CAUSE)
        result.append(
            Revision(
                number=number,
                replica_set=_name(rs),
                images=images,
                change_cause=cause if isinstance(cause, str) else None,
                created=parse_time(_meta(rs).get("creationTimestamp")),
                replicas=_int(_map(rs.get("status")).get("replicas")) or 0,
                current=rs is current,
                template=template,
            )
        )
    return sorted(result, key=lambda r: r.number)


# --- rollback ------------------------------------------------------------------------------------


def rollback_target(
    deployment: Json, replica_sets: Iterable[Json], to_revision: int | None = None
) -> Revision:
    """The revision ``kubectl rollout undo [--to-revision=N]`` goes back to.

    By default the second-highest revision (kubectl's "previous"), which is not always the one
    before the current template. Raises :class:`RevisionNotFoundError` when there is none.
    """
    name = _name(deployment)
    if to_revision is not None and to_revision < 0:
        raise RevisionNotFoundError(f"unable to find specified revision {to_revision} in history")
    history = revisions(replica_sets, deployment)
    if to_revision:
        for rev in history:
            if rev.number == to_revision:
                return rev
        known = ", ".join(str(r.number) for r in history) or "none"
        raise RevisionNotFoundError(
            f"unable to find specified revision {to_revision} in history of deployment "
            f"{name!r} (revisions: {known})"
        )
    if len(history) < 2:
        raise RevisionNotFoundError(
            f"no rollout history found for deployment {name!r}: no revision before "
            + (f"revision {history[0].number}" if history else "the current one")
        )
    return history[-2]


def _merge_diff(current: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7386) that turns ``current`` into ``target``."""
    patch: dict[str, Any] = {key: None for key in current if key not in target}
    for key, value in target.items():
        old = current.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            sub = _merge_diff(old, value)
            if sub:
                patch[key] = sub
        elif key not in current or old != value:
            patch[key] = copy.deepcopy(value)
    return patch


def _rollback_annotations(deployment: Json, rs_annotations: Mapping[str, Any]) -> dict[str, Any]:
    current = _map(_meta(deployment).get("annotations"))
    kept = {k: v for k, v in current.items() if k in ROLLBACK_SKIPPED_ANNOTATIONS}
    copied = {k: v for k, v in rs_annotations.items() if k not in ROLLBACK_SKIPPED_ANNOTATIONS}
    return {**kept, **copied}


def _target_replica_set(replica_sets: Iterable[Json], deployment: Json, target: Revision) -> Json:
    for rs in _owned_replica_sets(deployment, replica_sets):
        if _name(rs) == target.replica_set:
            return rs
    raise RevisionNotFoundError(f"replica set {target.replica_set!r} is gone")  # pragma: no cover


def _check_not_paused(deployment: Json) -> None:
    if _map(deployment.get("spec")).get("paused") is True:
        raise KubernetesError(
            f"deployment {_name(deployment)!r} is paused: you cannot roll back a paused "
            "deployment; resume it first and try again"
        )


def rollback_patch(
    deployment: Json, replica_sets: Iterable[Json], to_revision: int | None = None
) -> dict[str, Any]:
    """A JSON merge patch that rolls the Deployment back, as ``kubectl rollout undo`` does.

    Send it with content type ``application/merge-patch+json`` (lightkube:
    ``PatchType.MERGE``). Empty when the Deployment's template already is the target's
    (kubectl: "skipped rollback"). Raises :class:`RevisionNotFoundError` when the revision does
    not exist or there is no previous one, :class:`~tuskops.errors.KubernetesError` when the
    Deployment is paused.
    """
    _check_not_paused(deployment)
    rs_list = list(replica_sets)
    target = rollback_target(deployment, rs_list, to_revision)
    current_template = _map(deployment.get("spec")).get("template")
    if _same_template(current_template, target.template):
        return {}
    rs = _target_replica_set(rs_list, deployment, target)
    current_annotations = _map(_meta(deployment).get("annotations"))
    annotations = _rollback_annotations(deployment, _map(_meta(rs).get("annotations")))
    metadata: dict[str, Any] = {}
    resource_version = _meta(deployment).get("resourceVersion")
    if resource_version:
        metadata["resourceVersion"] = resource_version
    annotation_patch = _merge_diff(current_annotations, annotations)
    if annotation_patch:
        metadata["annotations"] = annotation_patch
    patch: dict[str, Any] = {
        "spec": {"template": _merge_diff(_map(current_template), target.template)}
    }
    if metadata:
        patch["metadata"] = metadata
    return patch


def _owned_fields(deployment: Json, manager: str) -> dict[str, set[str]]:
    """Fields ``manager`` owns by server-side apply: top-level spec keys, label and
    annotation keys, read from ``metadata.managedFields`` (FieldsV1)."""
    owned: dict[str, set[str]] = {"spec": set(), "labels": set(), "annotations": set()}
    for entry in _meta(deployment).get("managedFields") or ():
        if not isinstance(entry, Mapping):
            continue
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        fields = _map(entry.get("fieldsV1"))
        owned["spec"] |= {k[2:] for k in _map(fields.get("f:spec")) if k.startswith("f:")}
        meta = _map(fields.get("f:metadata"))
        for key in ("labels", "annotations"):
            owned[key] |= {k[2:] for k in _map(meta.get(f"f:{key}")) if k.startswith("f:")}
    return owned


def rollback_manifest(
    deployment: Json,
    replica_sets: Iterable[Json],
    to_revision: int | None = None,
    *,
    manager: str = "tuskops",
) -> dict[str, Any]:
    """A Deployment manifest that rolls back when server-side applied by ``manager``.

    Patch or apply? :func:`rollback_patch` is what kubectl does: the template becomes exactly
    the old one, whoever set its fields, but the change is an imperative Update — tuskops'
    applied configuration still holds the bad template, and the next ``tuskops apply`` of the
    same ``.tsk`` puts it back. This manifest instead becomes ``manager``'s applied
    configuration: apply it with ``fieldManager=manager`` and ``force=true`` (the user asked
    for the rollback, so conflicts with another manager's template fields are taken over).

    What it holds: ``spec.template`` is the target revision's (without ``pod-template-hash``);
    the other top-level ``spec`` fields, labels and annotations that ``manager`` owned by apply
    (from ``metadata.managedFields``) keep their current values — leaving them out would make
    the API server delete them (``replicas`` would fall back to 1); and the target
    ReplicaSet's annotations (such as ``kubernetes.io/change-cause``) as kubectl copies them.

    Deviation from the patch: template fields only other managers own and the target lacks
    stay (for example ``kubectl.kubernetes.io/restartedAt`` from ``kubectl rollout restart``),
    so the result can be a new revision with the old containers rather than the old
    ReplicaSet scaled back up. Unlike :func:`rollback_patch`, it is returned even when the
    template already matches: applying it is harmless and records ownership.
    """
    _check_not_paused(deployment)
    rs_list = list(replica_sets)
    target = rollback_target(deployment, rs_list, to_revision)
    rs = _target_replica_set(rs_list, deployment, target)
    meta, spec = _meta(deployment), _map(deployment.get("spec"))
    owned = _owned_fields(deployment, manager)

    metadata: dict[str, Any] = {"name": _name(deployment)}
    if isinstance(meta.get("namespace"), str):
        metadata["namespace"] = meta["namespace"]
    labels = _map(meta.get("labels"))
    kept_labels = {k: labels[k] for k in sorted(owned["labels"]) if k in labels}
    if kept_labels:
        metadata["labels"] = kept_labels
    current_annotations = _map(meta.get("annotations"))
    annotations = {
        k: current_annotations[k]
        for k in sorted(owned["annotations"])
        if k in current_annotations and k not in ROLLBACK_SKIPPED_ANNOTATIONS
    }
    annotations.update(
        (k, v)
        for k, v in _map(_meta(rs).get("annotations")).items()
        if k not in ROLLBACK_SKIPPED_ANNOTATIONS
    )
    if annotations:
        metadata["annotations"] = annotations

    new_spec: dict[str, Any] = {
        key: copy.deepcopy(spec[key]) for key in sorted(owned["spec"]) if key in spec
    }
    new_spec["template"] = copy.deepcopy(dict(target.template))
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": new_spec}


# --- restart -------------------------------------------------------------------------------------


def restart_patch(now: datetime) -> dict[str, Any]:
    """The patch ``kubectl rollout restart`` sends: ``restartedAt`` on the pod template.

    The time is RFC 3339 to the second, as kubectl writes it (Go's ``time.RFC3339``: ``Z``
    for UTC, else the offset). It is a valid JSON merge patch and strategic merge patch alike.
    kubectl refuses to restart a paused Deployment (the new template would not roll out);
    check ``spec.paused`` before sending it.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    stamp = now.replace(microsecond=0)
    text = (
        stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if stamp.utcoffset() == timedelta(0)
        else stamp.isoformat()
    )
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: text}}}}}

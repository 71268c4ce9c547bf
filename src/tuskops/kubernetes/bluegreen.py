"""Blue-green releases without a service mesh: the plan and the state machine, no I/O.

The model: two Deployments of the app, ``<name>-blue`` and ``<name>-green``, whose selectors and
pod labels carry ``tuskops.dev/track: <colour>``, and one Service ``<name>`` whose selector
names the *active* colour. A release puts the new template on the *idle* colour at full
capacity, waits for it to be Available, probes it through a per-colour ClusterIP Service
(``<name>-<colour>-preview``) with a one-shot Job, then switches the Service's selector to the
idle colour, and after ``scale_down_delay`` scales the old colour to zero. Until then the old
colour keeps its pods, so switching back is one selector change. This is the pattern the
Kubernetes documentation describes for label-based traffic switching ("Using labels
effectively", https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/ and
https://kubernetes.io/docs/concepts/cluster-administration/manage-deployment/): a Service
routes to whatever pods its selector matches, and changing the selector moves new connections
at once (existing connections are not cut: kube-proxy does not reset them).

Everything here is a pure function. The caller fetches the live objects, calls
:func:`plan_release` once, then loops: observe, :func:`advance`, perform the returned
:class:`Actions`, until :attr:`BlueGreenStep.DONE` or an abort. Manifests are meant for
server-side apply (field manager ``tuskops``, ``force=True``); replica changes of a Deployment
whose *template we do not own in this release* (the old colour) are :class:`ScaleTo` requests
for the ``scale`` subresource, because applying a partial Deployment with server-side apply
would drop the fields the manager applied before.

Deviations and choices:

* A live Service whose selector has no ``tuskops.dev/track`` (the app was deployed as a plain
  Deployment) is refused: its selector would match the new colour's pods as soon as they are
  ready, sending traffic to them before verification. Migrate by hand (delete the Service).
* The idle colour gets ``max(spec replicas, autoscaling min, the active Deployment's live
  replicas)``, so a switch never lowers capacity an autoscaler had raised.
* The verification Job's name carries a hash of the release (the spec and the probe), so
  re-running the loop finds the same Job instead of creating a second one, and a new release
  never collides with the old, TTL-pending Job.
* No verification path (none given and no HTTP readiness probe) skips the check, and the step
  says so; it never reports a skipped check as passed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal

from tuskops.errors import KubernetesError, KubernetesSpecError
from tuskops.kubernetes.builders.common import MANAGED_BY, metadata, selector_labels
from tuskops.kubernetes.builders.networking import service as build_service
from tuskops.kubernetes.builders.workload import deployment as build_deployment
from tuskops.kubernetes.rollout import rollout_status
from tuskops.kubernetes.spec import AppSpec, Port

__all__ = [
    "COLOURS",
    "SWITCHED_AT_ANNOTATION",
    "TRACK_LABEL",
    "AbortPlan",
    "Actions",
    "BlueGreenPlan",
    "BlueGreenStep",
    "Colour",
    "ObjectRef",
    "Observed",
    "ScaleTo",
    "Transition",
    "Verdict",
    "abort",
    "advance",
    "colour_name",
    "current_colour",
    "deployment_verdict",
    "other_colour",
    "plan_release",
    "preview_service",
    "should_scale_down",
    "strip_server_fields",
    "switch_back",
    "switch_patch",
    "switch_service",
    "switched_at",
    "verification_job",
    "verification_result",
]

#: The label that tells the colours (and the canary) apart; in selectors and pod labels.
TRACK_LABEL = "tuskops.dev/track"
#: When the Service was last switched (RFC 3339, UTC), so a restarted loop knows the delay.
SWITCHED_AT_ANNOTATION = "tuskops.dev/switched-at"

Colour = Literal["blue", "green"]
COLOURS: tuple[Colour, Colour] = ("blue", "green")

#: The curl image's own user (``curl_user``); numeric so ``runAsNonRoot`` can be checked.
VERIFY_UID = 100
VERIFY_GID = 101
#: Seconds a verification Job may spend being scheduled and pulling its image, on top of the
#: probe's own time.
JOB_START_ALLOWANCE = 60

#: Server-populated metadata that must not be sent back with server-side apply.
_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
)


# --- results and requests -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``succeeded``, ``failed`` or ``pending`` (not decided yet)."""

    state: Literal["succeeded", "failed", "pending"]
    reason: str

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def pending(self) -> bool:
        return self.state == "pending"


@dataclass(frozen=True)
class ScaleTo:
    """Set a Deployment's replicas through its ``scale`` subresource (the template is kept)."""

    name: str
    namespace: str
    replicas: int

    def patch(self) -> dict[str, Any]:
        """The merge patch for ``deployments/<name>/scale``."""
        return {"spec": {"replicas": self.replicas}}


@dataclass(frozen=True)
class ObjectRef:
    """An object to delete."""

    api_version: str
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True)
class Actions:
    """What to do now, in this order: apply, scale, delete."""

    #: Manifests for server-side apply, in order.
    apply: tuple[dict[str, Any], ...] = ()
    scale: tuple[ScaleTo, ...] = ()
    delete: tuple[ObjectRef, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.apply or self.scale or self.delete)


# --- colours and the Service ----------------------------------------------------------------


def other_colour(colour: Colour) -> Colour:
    """``green`` for ``blue`` and back."""
    return "green" if colour == "blue" else "blue"


def colour_name(spec: AppSpec, colour: Colour) -> str:
    """The Deployment of one colour: ``<name>-<colour>``."""
    return f"{spec.name}-{colour}"


def _where(obj: Mapping[str, Any], path: str) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', '?')}/{meta.get('namespace', '?')}/{meta.get('name', '?')}: {path}"


def current_colour(service: Mapping[str, Any] | None) -> Colour | None:
    """The colour the Service routes to, or None when there is no Service or no track label.

    A track label that is neither colour cannot be reasoned about, so it is an error.
    """
    if service is None:
        return None
    selector = (service.get("spec") or {}).get("selector") or {}
    track = selector.get(TRACK_LABEL)
    if track is None:
        return None
    if track not in COLOURS:
        raise KubernetesSpecError(
            _where(service, f"spec.selector.{TRACK_LABEL}"),
            f"expected 'blue' or 'green', got {track!r}",
        )
    colour: Colour = track
    return colour


def strip_server_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy without ``status`` and server-populated metadata, fit for server-side apply."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_METADATA:
            meta.pop(key, None)
    return out


def switch_service(
    service: Mapping[str, Any], to_colour: Colour, *, at: datetime | None = None
) -> dict[str, Any]:
    """The Service with its selector's track set to ``to_colour``; nothing else changes.

    Give it the manifest that was applied (:attr:`BlueGreenPlan.service`); a live object is
    accepted and its server-populated fields are dropped. ``at`` records the switch time in
    the ``tuskops.dev/switched-at`` annotation (see :func:`should_scale_down`).
    """
    if to_colour not in COLOURS:
        raise KubernetesSpecError(
            "blue_green.colour", f"expected 'blue' or 'green', got {to_colour!r}"
        )
    out = strip_server_fields(service)
    spec = out.setdefault("spec", {})
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector:
        raise KubernetesSpecError(
            _where(out, "spec.selector"), "a blue-green Service needs a selector"
        )
    selector[TRACK_LABEL] = to_colour
    if at is not None:
        meta = out.setdefault("metadata", {})
        meta.setdefault("annotations", {})[SWITCHED_AT_ANNOTATION] = _timestamp(at)
    return out


def switch_patch(to_colour: Colour) -> dict[str, Any]:
    """The merge patch that switches a live Service, for callers that patch instead of apply."""
    if to_colour not in COLOURS:
        raise KubernetesSpecError(
            "blue_green.colour", f"expected 'blue' or 'green', got {to_colour!r}"
        )
    return {"spec": {"selector": {TRACK_LABEL: to_colour}}}


def switch_back(plan: BlueGreenPlan, *, at: datetime | None = None) -> dict[str, Any] | None:
    """The Service pointing at the colour that was active before the release.

    None on a first release: there is nothing to switch back to.
    """
    if plan.active is None or plan.service is None:
        return None
    return switch_service(plan.service, plan.active, at=at)


def switched_at(service: Mapping[str, Any] | None) -> datetime | None:
    """When the Service was last switched, from its annotation; None when unknown."""
    if service is None:
        return None
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(SWITCHED_AT_ANNOTATION)
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise KubernetesSpecError(
            _where(service, f"metadata.annotations.{SWITCHED_AT_ANNOTATION}"),
            f"not a timestamp: {text!r}",
        ) from err
    if when.tzinfo is None:
        raise KubernetesSpecError(
            _where(service, f"metadata.annotations.{SWITCHED_AT_ANNOTATION}"),
            f"no time zone in {text!r}",
        )
    return when


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise KubernetesError("the switch time must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def should_scale_down(switched_at: datetime, now: datetime, delay: timedelta | float) -> bool:
    """True once ``delay`` (a timedelta or seconds) has passed since the switch.

    Both times must be timezone-aware: a naive time could be off by the local UTC offset.
    """
    if switched_at.tzinfo is None or now.tzinfo is None:
        raise KubernetesError("switched_at and now must be timezone-aware datetimes")
    wait = delay if isinstance(delay, timedelta) else timedelta(seconds=delay)
    if wait < timedelta(0):
        raise KubernetesSpecError("blue_green.scale_down_delay", "must not be negative")
    return now - switched_at >= wait


# --- manifests --------------------------------------------------------------------------------


def _service_port(port: Port) -> int:
    return port.service_port or port.port


def preview_service(spec: AppSpec, colour: Colour) -> dict[str, Any]:
    """A ClusterIP Service ``<name>-<colour>-preview`` reaching only that colour's pods.

    Always ClusterIP and without the app's Service annotations (a LoadBalancer's annotations
    would be meaningless here): it exists for the verification Job, inside the cluster.
    """
    if not spec.ports:
        raise KubernetesSpecError("app.ports", "a preview Service needs the app to declare a port")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, f"{spec.name}-{colour}-preview", component="preview"),
        "spec": {
            "type": "ClusterIP",
            "selector": {**selector_labels(spec), TRACK_LABEL: colour},
            "ports": [
                {
                    "name": p.name,
                    "port": _service_port(p),
                    "targetPort": p.name,
                    "protocol": p.protocol,
                }
                for p in spec.ports
            ],
        },
    }


def _resolve_port(spec: AppSpec, port: str | int) -> Port:
    for p in spec.ports:
        if isinstance(port, str) and p.name == port:
            return p
        if isinstance(port, int) and port in (p.port, p.service_port):
            return p
    raise KubernetesSpecError("blue_green.verify.port", f"the app declares no port {port!r}")


def _release_hash(spec: AppSpec, *parts: object) -> str:
    text = json.dumps([dataclasses.asdict(spec), *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def verification_job(
    spec: AppSpec,
    colour: Colour,
    path: str,
    port: str | int,
    *,
    image: str = "curlimages/curl:8.10.1",
    timeout: int = 30,
    ttl: int = 3600,
) -> dict[str, Any]:
    """A batch/v1 Job that GETs ``path`` on the idle colour through its preview Service.

    curl fails on an HTTP status of 400 or more (``--fail``), retries connection errors and
    such statuses for up to ``timeout`` seconds (endpoints can lag the pods' readiness by a
    moment), and each attempt is cut at ``timeout`` seconds. ``backoffLimit: 0``: one failed
    pod fails the Job, so the verdict is not blurred by retries of the whole pod;
    ``activeDeadlineSeconds`` is twice ``timeout`` plus :data:`JOB_START_ALLOWANCE`;
    ``ttlSecondsAfterFinished`` removes it after ``ttl`` seconds (read the verdict before).

    The pod runs as a non-root numeric user, read-only, all capabilities dropped, with the
    RuntimeDefault seccomp profile and no service account token. Its labels do not include
    the app's selector labels, so no Service of the app routes to it. Note: a default-deny
    NetworkPolicy must allow it (``app.kubernetes.io/component: verify``) to reach the app.
    """
    if not path.startswith("/"):
        raise KubernetesSpecError("blue_green.verify.path", "an HTTP path starts with '/'")
    if timeout < 1:
        raise KubernetesSpecError("blue_green.verify.timeout", "must be at least 1 second")
    if ttl < 0:
        raise KubernetesSpecError("blue_green.verify.ttl", "must not be negative")
    target = _resolve_port(spec, port)
    release = _release_hash(spec, colour, path, target.name, image, timeout)
    name = f"{spec.name}-verify-{release}"
    url = f"http://{spec.name}-{colour}-preview.{spec.namespace}.svc:{_service_port(target)}{path}"
    meta = metadata(spec, name, component="verify")
    meta["labels"][TRACK_LABEL] = colour
    pod_labels = {
        "app.kubernetes.io/instance": spec.name,
        "app.kubernetes.io/component": "verify",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        TRACK_LABEL: colour,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 2 * timeout + JOB_START_ALLOWANCE,
            "ttlSecondsAfterFinished": ttl,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": VERIFY_UID,
                        "runAsGroup": VERIFY_GID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "verify",
                            "image": image,
                            "command": ["curl"],
                            "args": [
                                "--fail",
                                "--silent",
                                "--show-error",
                                "--output",
                                "/dev/null",
                                "--write-out",
                                "HTTP %{http_code} in %{time_total}s\\n",
                                "--max-time",
                                str(timeout),
                                "--retry",
                                "5",
                                "--retry-all-errors",
                                "--retry-delay",
                                "2",
                                "--retry-max-time",
                                str(timeout),
                                "--user-agent",
                                "tuskops-verify",
                                url,
                            ],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "16Mi"},
                                "limits": {"memory": "32Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }


def _conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    status = obj.get("status") or {}
    return {str(c.get("type")): c for c in status.get("conditions") or [] if isinstance(c, Mapping)}


def _true(cond: Mapping[str, Any] | None) -> bool:
    return cond is not None and cond.get("status") == "True"


def _tail(logs: str | None, limit: int = 400) -> str:
    if not logs or not logs.strip():
        return ""
    text = logs.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def verification_result(job: Mapping[str, Any] | None, pod_logs: str | None) -> Verdict:
    """The verdict of a verification Job from its status (and its pod's logs, for the reason).

    Failed when the Job has a ``Failed`` (or, from Kubernetes 1.31, ``FailureTarget``)
    condition or more failed pods than its ``backoffLimit``; succeeded on ``Complete`` (or
    ``SuccessCriteriaMet``) or a succeeded pod; otherwise pending. A missing Job is pending,
    never a pass. See https://kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions.
    """
    if job is None:
        return Verdict("pending", "the verification Job does not exist yet")
    logs = _tail(pod_logs)
    said = f"; the probe said: {logs}" if logs else ""
    conds = _conditions(job)
    for kind in ("Failed", "FailureTarget"):
        cond = conds.get(kind)
        if _true(cond):
            assert cond is not None
            why = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
            return Verdict("failed", f"verification failed ({why or kind}){said}")
    status = job.get("status") or {}
    backoff = (job.get("spec") or {}).get("backoffLimit", 0)
    if int(status.get("failed") or 0) > int(backoff or 0):
        return Verdict("failed", f"the verification pod failed{said}")
    if any(_true(conds.get(kind)) for kind in ("Complete", "SuccessCriteriaMet")) or int(
        status.get("succeeded") or 0
    ) >= int((job.get("spec") or {}).get("completions") or 1):
        return Verdict("succeeded", f"verification passed{said}")
    active = int(status.get("active") or 0)
    return Verdict("pending", f"the verification Job is running ({active} active pod(s))")


def deployment_verdict(
    deployment: Mapping[str, Any] | None,
    replica_sets: Iterable[Mapping[str, Any]] = (),
    pods: Iterable[Mapping[str, Any]] = (),
) -> Verdict:
    """Whether a Deployment has rolled out, as :func:`tuskops.kubernetes.rollout.rollout_status`
    (``kubectl rollout status``) decides it: complete is succeeded, failed (the progress
    deadline, or a crash-looping or unpullable new pod when its ReplicaSets and pods are given)
    is failed, anything else pending. A missing Deployment is pending.
    """
    if deployment is None:
        return Verdict("pending", "the Deployment does not exist yet")
    status = rollout_status(
        dict(deployment), [dict(r) for r in replica_sets], [dict(p) for p in pods]
    )
    if status.state == "complete":
        return Verdict("succeeded", status.message)
    if status.state == "failed":
        return Verdict("failed", status.message)
    return Verdict("pending", status.message)


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlueGreenPlan:
    """One release: what goes where. Built by :func:`plan_release`."""

    name: str
    namespace: str
    #: The colour serving now; None on a first release.
    active: Colour | None
    #: The colour that gets the release.
    idle: Colour
    replicas: int
    #: The idle colour's Deployment: the new template, full replicas.
    deployment: dict[str, Any]
    preview: dict[str, Any]
    #: The Service as it should stay until the switch (selector at the active colour); None
    #: on a first release.
    service: dict[str, Any] | None
    #: The Service after the switch (selector at the idle colour).
    switched: dict[str, Any]
    #: The verification Job; None when no path was given and there is no HTTP readiness probe.
    job: dict[str, Any] | None
    #: The active colour's Deployment when it exists live (what is scaled down, or restored).
    previous: str | None
    notes: tuple[str, ...] = field(default=())


def _live_by_name(live_deployments: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in live_deployments:
        name = (item.get("metadata") or {}).get("name")
        if isinstance(name, str):
            out[name] = item
    return out


def _base_replicas(spec: AppSpec) -> int:
    if spec.autoscaling is not None:
        return max(spec.replicas, spec.autoscaling.min)
    return spec.replicas


def plan_release(
    spec: AppSpec,
    live_service: Mapping[str, Any] | None,
    live_deployments: Iterable[Mapping[str, Any]],
    *,
    verify_path: str | None = None,
    verify_port: str | int | None = None,
    verify_timeout: int = 30,
    verify_image: str = "curlimages/curl:8.10.1",
) -> BlueGreenPlan:
    """Plan releasing ``spec`` onto the idle colour.

    ``live_service`` is the live Service ``<name>`` (None when absent); ``live_deployments``
    the live Deployments of the namespace (at least the app's colours). The verification
    probe defaults to the readiness probe's HTTP path and port.
    """
    base = build_service(spec, extra_selector={TRACK_LABEL: "blue"})
    if base is None:
        raise KubernetesSpecError(
            "app.ports", "blue-green switches a Service: the app must declare a port"
        )
    if live_service is not None and current_colour(live_service) is None:
        raise KubernetesSpecError(
            _where(live_service, "spec.selector"),
            f"has no {TRACK_LABEL} label: not a blue-green Service; its selector would send "
            "traffic to the new colour before verification (delete it to migrate)",
        )
    active = current_colour(live_service)
    idle: Colour = "blue" if active is None else other_colour(active)
    live = _live_by_name(live_deployments)
    notes: list[str] = []
    replicas = _base_replicas(spec)
    previous: str | None = None
    if active is not None:
        previous = colour_name(spec, active)
        if previous in live:
            live_replicas = (live[previous].get("spec") or {}).get("replicas")
            if isinstance(live_replicas, int) and live_replicas > replicas:
                replicas = live_replicas
                notes.append(f"{previous} runs {live_replicas} replicas: the release matches it")
        else:
            notes.append(f"the Service points at {active}, but {previous} does not exist")
            previous = None
    else:
        notes.append("first release: no colour is active")
    manifest = build_deployment(
        spec, name=colour_name(spec, idle), replicas=replicas, extra_labels={TRACK_LABEL: idle}
    )
    job: dict[str, Any] | None = None
    path = verify_path or (spec.readiness.http if spec.readiness else None)
    if path is not None:
        port = verify_port
        if port is None and spec.readiness is not None and spec.readiness.http is not None:
            port = spec.readiness.port
        if port is None:
            port = spec.ports[0].name
        job = verification_job(spec, idle, path, port, image=verify_image, timeout=verify_timeout)
    else:
        notes.append("no verification: give verify_path or an HTTP readiness probe")
    return BlueGreenPlan(
        name=spec.name,
        namespace=spec.namespace,
        active=active,
        idle=idle,
        replicas=replicas,
        deployment=manifest,
        preview=preview_service(spec, idle),
        service=switch_service(base, active) if active is not None else None,
        switched=switch_service(base, idle),
        job=job,
        previous=previous,
        notes=tuple(notes),
    )


# --- the state machine -------------------------------------------------------------------------


class BlueGreenStep(Enum):
    """The steps of a release, in order."""

    DEPLOY_IDLE = "deploy-idle"
    WAIT_AVAILABLE = "wait-available"
    VERIFY = "verify"
    SWITCH = "switch"
    SCALE_DOWN = "scale-down"
    DONE = "done"


@dataclass(frozen=True)
class Observed:
    """What the caller saw just before calling :func:`advance`."""

    now: datetime
    #: The idle colour's live Deployment (for WAIT_AVAILABLE), and optionally its ReplicaSets
    #: and pods, which let a crash-looping release fail before its progress deadline.
    idle_deployment: Mapping[str, Any] | None = None
    idle_replica_sets: tuple[Mapping[str, Any], ...] = ()
    idle_pods: tuple[Mapping[str, Any], ...] = ()
    #: The live verification Job (for VERIFY); None when it does not exist.
    job: Mapping[str, Any] | None = None
    #: The logs of the Job's pod, for the verdict's reason.
    job_logs: str | None = None
    #: :func:`switched_at` of the live Service (for SCALE_DOWN).
    switched_at: datetime | None = None


@dataclass(frozen=True)
class AbortPlan:
    """Undo a release, in this order: ``restore`` (scale the old colour back up), wait until
    ``wait_available`` is Available, apply ``service`` (the switch back), then ``cleanup``."""

    restore: tuple[ScaleTo, ...]
    wait_available: str | None
    service: dict[str, Any] | None
    cleanup: Actions
    reason: str


@dataclass(frozen=True)
class Transition:
    """The result of one :func:`advance`: perform ``actions``, then go to ``step``; when
    ``wait`` is set, poll again later; when ``abort`` is set, carry it out and stop."""

    step: BlueGreenStep
    actions: Actions
    reason: str
    wait: bool = False
    abort: AbortPlan | None = None


def _preview_ref(plan: BlueGreenPlan) -> ObjectRef:
    return ObjectRef("v1", "Service", plan.namespace, f"{plan.name}-{plan.idle}-preview")


def abort(plan: BlueGreenPlan, step: BlueGreenStep, reason: str = "aborted") -> AbortPlan:
    """What undoes the release when it stops at ``step`` (whether or not that step's own
    actions were carried out, so aborting a step twice is harmless).

    Before the switch the Service was never touched: the idle colour is scaled to zero. From
    SWITCH on, the Service goes back to the old colour, which still has its pods until
    SCALE_DOWN has run; after DONE the old colour is scaled back up first and the switch back
    waits until it is Available. A first release has nothing to switch back to: its Service is
    left, pointing at a colour with no pods.
    """
    idle_down = ScaleTo(f"{plan.name}-{plan.idle}", plan.namespace, 0)
    cleanup = Actions(scale=(idle_down,), delete=(_preview_ref(plan),))
    before_switch = step in (
        BlueGreenStep.DEPLOY_IDLE,
        BlueGreenStep.WAIT_AVAILABLE,
        BlueGreenStep.VERIFY,
    )
    if before_switch:
        return AbortPlan((), None, None, cleanup, f"{reason}: the Service was not switched")
    back = switch_back(plan)
    if back is None:
        return AbortPlan(
            (), None, None, cleanup, f"{reason}: first release, nothing to switch back to"
        )
    restore: tuple[ScaleTo, ...] = ()
    wait: str | None = None
    if step is BlueGreenStep.DONE and plan.previous is not None:
        restore = (ScaleTo(plan.previous, plan.namespace, plan.replicas),)
        wait = plan.previous
    return AbortPlan(restore, wait, back, cleanup, f"{reason}: switching back to {plan.active}")


def advance(
    plan: BlueGreenPlan,
    step: BlueGreenStep,
    observed: Observed,
    *,
    scale_down_delay: timedelta | float = timedelta(minutes=5),
) -> Transition:
    """One step of the release: given what was observed, what to do and where to go next.

    * DEPLOY_IDLE: apply the idle Deployment and the preview Service; go to WAIT_AVAILABLE.
    * WAIT_AVAILABLE: wait until the idle Deployment has rolled out (:func:`deployment_verdict`
      of ``observed.idle_deployment``); go to VERIFY, or abort when the rollout failed.
    * VERIFY: with no Job observed, apply it and wait; then wait for its verdict
      (:func:`verification_result`); go to SWITCH, or abort when it failed. Without a
      verification Job in the plan, go to SWITCH and say the check was skipped.
    * SWITCH: apply the switched Service, stamped with ``observed.now``; go to SCALE_DOWN.
    * SCALE_DOWN: once ``scale_down_delay`` has passed since ``observed.switched_at``, scale
      the old colour to 0 and delete the preview Service; go to DONE. An unknown switch time
      waits: the old colour is the way back, so it is never scaled down on a guess.
    * DONE: nothing.

    The verification Job is left to its ``ttlSecondsAfterFinished``, so its logs can be read.
    """
    if step is BlueGreenStep.DEPLOY_IDLE:
        return Transition(
            BlueGreenStep.WAIT_AVAILABLE,
            Actions(apply=(plan.deployment, plan.preview)),
            f"deploying the release to {plan.idle}",
        )
    if step is BlueGreenStep.WAIT_AVAILABLE:
        verdict = deployment_verdict(
            observed.idle_deployment, observed.idle_replica_sets, observed.idle_pods
        )
        if verdict.failed:
            why = f"{plan.idle} did not become available: {verdict.reason}"
            return Transition(step, Actions(), why, abort=abort(plan, step, why))
        if verdict.pending:
            return Transition(step, Actions(), verdict.reason, wait=True)
        return Transition(BlueGreenStep.VERIFY, Actions(), verdict.reason)
    if step is BlueGreenStep.VERIFY:
        if plan.job is None:
            return Transition(
                BlueGreenStep.SWITCH, Actions(), "verification skipped: no path to probe"
            )
        if observed.job is None:
            return Transition(
                step, Actions(apply=(plan.job,)), "starting the verification Job", wait=True
            )
        result = verification_result(observed.job, observed.job_logs)
        if result.failed:
            return Transition(
                step, Actions(), result.reason, abort=abort(plan, step, result.reason)
            )
        if result.pending:
            return Transition(step, Actions(), result.reason, wait=True)
        return Transition(BlueGreenStep.SWITCH, Actions(), result.reason)
    if step is BlueGreenStep.SWITCH:
        return Transition(
            BlueGreenStep.SCALE_DOWN,
            Actions(apply=(switch_service(plan.switched, plan.idle, at=observed.now),)),
            f"switching the Service to {plan.idle}",
        )
    if step is BlueGreenStep.SCALE_DOWN:
        cleanup_preview = (_preview_ref(plan),)
        if plan.previous is None:
            return Transition(
                BlueGreenStep.DONE,
                Actions(delete=cleanup_preview),
                "no old colour to scale down",
            )
        if observed.switched_at is None:
            return Transition(
                step,
                Actions(),
                "the switch time is unknown: not scaling down the old colour",
                wait=True,
            )
        if not should_scale_down(observed.switched_at, observed.now, scale_down_delay):
            return Transition(step, Actions(), "waiting out the scale-down delay", wait=True)
        return Transition(
            BlueGreenStep.DONE,
            Actions(scale=(ScaleTo(plan.previous, plan.namespace, 0),), delete=cleanup_preview),
            f"scaling down {plan.previous}",
        )
    return Transition(BlueGreenStep.DONE, Actions(), "done")

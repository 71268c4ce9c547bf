"""Pod health, and when to restart a crash-looping workload: pure decisions, no I/O.

:func:`unhealthy_pods` takes Pods and Events as the API returns them (dicts, ``core/v1``;
``events.k8s.io/v1`` events are read too) and returns one :class:`PodProblem` per pod that is
not healthy: the cause in one line (``container web: CrashLoopBackOff (restarted 5 times; last
exit: OOMKilled, exit code 137)``) and the details behind it — every container's state, restart
count, last termination, and the pod's Warning events, newest first, deduplicated with counts.

What counts as unhealthy follows the pod lifecycle
(https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/):

* phase ``Failed`` (including ``Evicted``); ``Succeeded`` pods are healthy (a finished Job);
* ``PodScheduled=False`` with reason ``Unschedulable``;
* a container ``waiting`` for a reason other than the normal start-up ones
  (``ContainerCreating``, ``PodInitializing``): ``CrashLoopBackOff``, ``ImagePullBackOff``,
  ``ErrImagePull``, ``InvalidImageName``, ``CreateContainerConfigError``, ...;
* a container currently ``terminated`` with a non-zero exit code in a pod that is not done;
* a container that terminated within ``grace`` before ``now`` (a recent restart, such as an
  ``OOMKilled`` container that is running again);
* ``Pending`` for longer than ``grace`` since creation, or ``Running`` but not ``Ready`` for
  longer than ``grace`` (with the failing probe's event as the cause when there is one).

Deviations and choices: pods being deleted (``metadata.deletionTimestamp``) are left out — a
rolling update terminates pods all the time. ``now`` is a required argument (no clock is read
here); without it "pending too long" could not be decided, and leaving such pods out would
report health that was never checked.

:class:`AutoRestartPolicy` is a small state machine for a watch loop: given one workload's
problems and the restarts already done (:class:`RestartHistory`), :meth:`AutoRestartPolicy.decide`
says restart now, wait until a time (exponential backoff), or give up after ``max_restarts``
within ``window``. Restarting means applying
:func:`tuskops.kubernetes.rollout.restart_patch`, as ``kubectl rollout restart`` does: a new
ReplicaSet replaces the pods, which also resets the kubelet's crash back-off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tuskops.errors import KubernetesSpecError

__all__ = [
    "AutoRestartPolicy",
    "ContainerHealth",
    "Decision",
    "PodEvent",
    "PodProblem",
    "RestartHistory",
    "Termination",
    "container_health",
    "group_by_workload",
    "parse_time",
    "pod_events",
    "unhealthy_pods",
    "workload_of",
]

#: Waiting reasons that are part of a normal start.
STARTING_REASONS = frozenset({"ContainerCreating", "PodInitializing"})
#: The label the Deployment controller puts on a ReplicaSet's pods.
POD_TEMPLATE_HASH = "pod-template-hash"

Json = Mapping[str, Any]


# --- reading API objects -------------------------------------------------------------------------


def parse_time(value: object) -> datetime | None:
    """An API timestamp (RFC 3339, ``Z`` or offset, optional fraction) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _map(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Json]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _condition(obj: Json, kind: str) -> Json | None:
    for cond in _list(_map(obj.get("status")).get("conditions")):
        if cond.get("type") == kind:
            return cond
    return None


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60}m"


def _require_aware(now: datetime, what: str = "now") -> None:
    if now.tzinfo is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


# --- containers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Termination:
    """A container's ``state.terminated`` or ``lastState.terminated``."""

    exit_code: int | None
    reason: str | None
    message: str | None = None
    signal: int | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_api(cls, data: Json) -> Termination:
        return cls(
            exit_code=_int(data.get("exitCode")),
            reason=_str(data.get("reason")),
            message=_str(data.get("message")),
            signal=_int(data.get("signal")),
            finished_at=parse_time(data.get("finishedAt")),
        )

    def describe(self) -> str:
        """``OOMKilled, exit code 137`` / ``exit code 1``."""
        parts = [self.reason] if self.reason else []
        if self.exit_code is not None:
            parts.append(f"exit code {self.exit_code}")
        if self.signal is not None:
            parts.append(f"signal {self.signal}")
        return ", ".join(parts) or "unknown"


@dataclass(frozen=True)
class ContainerHealth:
    """One container's status, flattened from ``status.containerStatuses``."""

    name: str
    init: bool
    ready: bool
    restart_count: int
    state: Literal["waiting", "running", "terminated", "unknown"]
    waiting_reason: str | None = None
    waiting_message: str | None = None
    terminated: Termination | None = None
    last_terminated: Termination | None = None
    image: str | None = None
    memory_limit: str | None = None

    @property
    def crash_looping(self) -> bool:
        return self.waiting_reason == "CrashLoopBackOff"


def container_health(pod: Json) -> list[ContainerHealth]:
    """Every container of ``pod`` (init containers first), from its status.

    A container the spec names but the status does not (not started yet) is ``unknown``.
    """
    spec = _map(pod.get("spec"))
    status = _map(pod.get("status"))
    result: list[ContainerHealth] = []
    for init, spec_key, status_key in (
        (True, "initContainers", "initContainerStatuses"),
        (False, "containers", "containerStatuses"),
    ):
        limits = {
            _str(c.get("name")): _str(_map(_map(c.get("resources")).get("limits")).get("memory"))
            for c in _list(spec.get(spec_key))
        }
        statuses = {_str(s.get("name")): s for s in _list(status.get(status_key))}
        names = [n for n in limits if n] + [n for n in statuses if n and n not in limits]
        for name in names:
            st = statuses.get(name, {})
            state = _map(st.get("state"))
            waiting = _map(state.get("waiting"))
            terminated = state.get("terminated")
            last = _map(st.get("lastState")).get("terminated")
            kind: Literal["waiting", "running", "terminated", "unknown"]
            if "waiting" in state:
                kind = "waiting"
            elif "running" in state:
                kind = "running"
            elif "terminated" in state:
                kind = "terminated"
            else:
                kind = "unknown"
            result.append(
                ContainerHealth(
                    name=name,
                    init=init,
                    ready=st.get("ready") is True,
                    restart_count=_int(st.get("restartCount")) or 0,
                    state=kind,
                    waiting_reason=_str(waiting.get("reason")),
                    waiting_message=_str(waiting.get("message")),
                    terminated=Termination.from_api(terminated)
                    if isinstance(terminated, Mapping)
                    else None,
                    last_terminated=Termination.from_api(last)
                    if isinstance(last, Mapping)
                    else None,
                    image=_str(st.get("image")),
                    memory_limit=limits.get(name),
                )
            )
    return result


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodEvent:
    """Warning events about one pod with the same reason, message and container, merged."""

    reason: str
    message: str
    count: int
    last_seen: datetime | None
    container: str | None = None
    type: str = "Warning"


def _event_container(field_path: object) -> str | None:
    # "spec.containers{web}" / "spec.initContainers{migrate}"
    text = _str(field_path)
    if text and "{" in text and text.endswith("}"):
        return text[text.index("{") + 1 : -1] or None
    return None


def pod_events(pod: Json, events: Iterable[Json], *, warnings_only: bool = True) -> list[PodEvent]:
    """The events about ``pod``, newest first, merged by (reason, message, container).

    Matches ``involvedObject`` (``core/v1``) or ``regarding`` (``events.k8s.io/v1``) by kind,
    namespace, name and, when both sides have one, uid — so an event about an earlier pod of
    the same name is not taken.
    """
    meta = _map(pod.get("metadata"))
    name, namespace, uid = meta.get("name"), meta.get("namespace"), _str(meta.get("uid"))
    merged: dict[tuple[str, str, str | None], PodEvent] = {}
    for event in events:
        obj = _map(event.get("involvedObject") or event.get("regarding"))
        if obj.get("kind", "Pod") != "Pod" or obj.get("name") != name:
            continue
        if namespace and obj.get("namespace") not in (None, namespace):
            continue
        if uid and _str(obj.get("uid")) not in (None, uid):
            continue
        etype = _str(event.get("type")) or "Normal"
        if warnings_only and etype != "Warning":
            continue
        series = _map(event.get("series"))
        count = (
            _int(series.get("count"))
            or _int(event.get("count"))
            or _int(event.get("deprecatedCount"))
            or 1
        )
        seen = (
            parse_time(series.get("lastObservedTime"))
            or parse_time(event.get("lastTimestamp"))
            or parse_time(event.get("deprecatedLastTimestamp"))
            or parse_time(event.get("eventTime"))
            or parse_time(_map(event.get("metadata")).get("creationTimestamp"))
        )
        reason = _str(event.get("reason")) or "Unknown"
        message = (_str(event.get("message")) or _str(event.get("note")) or "").strip()
        container = _event_container(obj.get("fieldPath"))
        key = (reason, message, container)
        previous = merged.get(key)
        if previous is not None:
            times = [t for t in (previous.last_seen, seen) if t is not None]
            seen = max(times) if times else None
            count += previous.count
        merged[key] = PodEvent(reason, message, count, seen, container, etype)
    # Aware datetimes compare across offsets; events with no time at all go last.
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(merged.values(), key=lambda e: e.last_seen or oldest, reverse=True)


# --- pods ---------------------------------------------------------------------------------------


def workload_of(pod: Json) -> str | None:
    """``namespace/Kind/name`` of the workload that owns ``pod``, or None for a bare pod.

    A pod owned by a ReplicaSet whose name is ``<deployment>-<pod-template-hash>`` belongs to
    that Deployment (the Deployment controller names ReplicaSets so); other owners are
    reported as they are (``StatefulSet``, ``DaemonSet``, ``Job``, a standalone
    ``ReplicaSet``).
    """
    meta = _map(pod.get("metadata"))
    namespace = _str(meta.get("namespace")) or "default"
    owners = _list(meta.get("ownerReferences"))
    owner = next((o for o in owners if o.get("controller") is True), owners[0] if owners else None)
    if owner is None:
        return None
    kind, name = _str(owner.get("kind")), _str(owner.get("name"))
    if kind is None or name is None:
        return None
    hash_ = _str(_map(meta.get("labels")).get(POD_TEMPLATE_HASH))
    if kind == "ReplicaSet" and hash_ and name.endswith(f"-{hash_}"):
        return f"{namespace}/Deployment/{name[: -len(hash_) - 1]}"
    return f"{namespace}/{kind}/{name}"


@dataclass(frozen=True)
class PodProblem:
    """Why one pod is not healthy: ``cause`` in one line, the details in the other fields.

    ``reason`` is a short key: an API reason (``CrashLoopBackOff``, ``OOMKilled``,
    ``ImagePullBackOff``, ``Unschedulable``, ``Evicted``, ``Unhealthy`` for a failing probe, a
    container's non-zero ``Error``...) or one of ``Failed``, ``Restarted``, ``PendingTooLong``,
    ``NotReady``.
    """

    namespace: str
    name: str
    workload: str | None
    phase: str
    ready: bool
    reason: str
    cause: str
    container: str | None
    containers: tuple[ContainerHealth, ...]
    events: tuple[PodEvent, ...] = ()
    node: str | None = None
    created: datetime | None = None

    @property
    def restart_count(self) -> int:
        return sum(c.restart_count for c in self.containers)

    @property
    def crash_looping(self) -> bool:
        return any(c.crash_looping for c in self.containers)


def _container_label(c: ContainerHealth) -> str:
    return f"init container {c.name}" if c.init else f"container {c.name}"


def _container_cause(c: ContainerHealth) -> tuple[str, str] | None:
    """(reason, one-line cause) for a container in a bad waiting or terminated state."""
    last = c.last_terminated
    if c.waiting_reason and c.waiting_reason not in STARTING_REASONS:
        if c.crash_looping:
            restarts = f"restarted {c.restart_count} time{'s' if c.restart_count != 1 else ''}"
            detail = f"{restarts}; last exit: {last.describe()}" if last else restarts
            reason = "OOMKilled" if last and last.reason == "OOMKilled" else "CrashLoopBackOff"
            limit = (
                f", memory limit {c.memory_limit}"
                if reason == "OOMKilled" and c.memory_limit
                else ""
            )
            return reason, f"{_container_label(c)}: CrashLoopBackOff ({detail}{limit})"
        message = f": {c.waiting_message}" if c.waiting_message else ""
        return c.waiting_reason, f"{_container_label(c)}: {c.waiting_reason}{message}"
    term = c.terminated
    if term is not None and (term.exit_code or 0) != 0:
        return term.reason or "Error", f"{_container_label(c)} terminated: {term.describe()}"
    return None


def _diagnose(
    pod: Json, events: Sequence[Json], now: datetime, grace: timedelta
) -> PodProblem | None:
    meta = _map(pod.get("metadata"))
    if meta.get("deletionTimestamp"):
        return None
    status = _map(pod.get("status"))
    phase = _str(status.get("phase")) or "Unknown"
    if phase == "Succeeded":
        return None
    containers = tuple(container_health(pod))
    ready_cond = _condition(pod, "Ready")
    ready = ready_cond is not None and ready_cond.get("status") == "True"
    warnings = tuple(pod_events(pod, events))
    created = parse_time(meta.get("creationTimestamp"))
    found: tuple[str, str, str | None] | None = None  # reason, cause, container

    if phase == "Failed":
        reason = _str(status.get("reason")) or "Failed"
        message = _str(status.get("message"))
        found = (reason, f"pod failed: {reason}" + (f": {message}" if message else ""), None)
    if found is None:
        sched = _condition(pod, "PodScheduled")
        if (
            sched is not None
            and sched.get("status") == "False"
            and sched.get("reason") == "Unschedulable"
        ):
            message = _str(sched.get("message")) or "no node fits"
            found = ("Unschedulable", f"cannot be scheduled: {message}", None)
    if found is None:
        for c in containers:
            hit = _container_cause(c)
            if hit is not None:
                found = (hit[0], hit[1], c.name)
                break
    if found is None:
        for c in containers:
            last = c.last_terminated
            if last and last.finished_at and now - last.finished_at <= grace:
                ago = _duration(now - last.finished_at)
                limit = (
                    f", memory limit {c.memory_limit}"
                    if last.reason == "OOMKilled" and c.memory_limit
                    else ""
                )
                found = (
                    last.reason if last.reason == "OOMKilled" else "Restarted",
                    f"{_container_label(c)} restarted {ago} ago (restart count "
                    f"{c.restart_count}; last exit: {last.describe()}{limit})",
                    c.name,
                )
                break
    if found is None and phase == "Pending" and created and now - created > grace:
        waiting = next((c.waiting_reason for c in containers if c.waiting_reason), None)
        detail = f" ({waiting})" if waiting else ""
        found = ("PendingTooLong", f"Pending for {_duration(now - created)}{detail}", None)
    if found is None and phase == "Running" and not ready:
        since = parse_time(ready_cond.get("lastTransitionTime")) if ready_cond else None
        since = since or created
        if since is not None and now - since > grace:
            probe = next((e for e in warnings if e.reason == "Unhealthy"), None)
            not_ready = next((c for c in containers if not c.ready and not c.init), None)
            if probe is not None:
                who = f"container {probe.container}" if probe.container else "pod"
                found = ("Unhealthy", f"{who} not ready: {probe.message}", probe.container)
            else:
                who = _container_label(not_ready) if not_ready else "pod"
                found = (
                    "NotReady",
                    f"{who} not ready for {_duration(now - since)}",
                    not_ready.name if not_ready else None,
                )
    if found is None:
        return None
    return PodProblem(
        namespace=_str(meta.get("namespace")) or "default",
        name=_str(meta.get("name")) or "?",
        workload=workload_of(pod),
        phase=phase,
        ready=ready,
        reason=found[0],
        cause=found[1],
        container=found[2],
        containers=containers,
        events=warnings,
        node=_str(_map(pod.get("spec")).get("nodeName")),
        created=created,
    )


def unhealthy_pods(
    pods: Iterable[Json],
    events: Iterable[Json] = (),
    *,
    now: datetime,
    grace: timedelta = timedelta(minutes=5),
) -> list[PodProblem]:
    """The pods that are not healthy, each with its cause; healthy pods are left out.

    ``grace`` is how long a pod may be Pending, or Running but not Ready, before it is
    reported, and how long ago a restart still counts as recent.
    """
    _require_aware(now)
    event_list = list(events)
    problems = (_diagnose(pod, event_list, now, grace) for pod in pods)
    return [p for p in problems if p is not None]


def group_by_workload(problems: Iterable[PodProblem]) -> dict[str, list[PodProblem]]:
    """Problems by :func:`workload_of` key; pods with no owner are keyed ``namespace/Pod/name``."""
    groups: dict[str, list[PodProblem]] = {}
    for p in problems:
        groups.setdefault(p.workload or f"{p.namespace}/Pod/{p.name}", []).append(p)
    return groups


# --- auto-restart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartHistory:
    """The restarts done so far, per workload key (immutable: :meth:`record` returns a new one)."""

    restarts: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)

    def record(self, workload_key: str, at: datetime) -> RestartHistory:
        _require_aware(at, "at")
        updated = dict(self.restarts)
        updated[workload_key] = (*self.restarts.get(workload_key, ()), at)
        return RestartHistory(updated)

    def within(self, workload_key: str, since: datetime) -> tuple[datetime, ...]:
        """The workload's restarts after ``since``, oldest first."""
        return tuple(sorted(t for t in self.restarts.get(workload_key, ()) if t > since))

    def prune(self, before: datetime) -> RestartHistory:
        """Forget restarts at or before ``before`` (a long-running loop keeps memory bounded)."""
        kept = {k: tuple(t for t in v if t > before) for k, v in self.restarts.items()}
        return RestartHistory({k: v for k, v in kept.items() if v})


@dataclass(frozen=True)
class Decision:
    """What to do about one workload now, and why (a line for the log)."""

    workload: str
    action: Literal["none", "restart", "wait", "give_up"]
    reason: str
    #: For ``wait``: the earliest time to restart.
    until: datetime | None = None
    #: For ``restart``: which restart within the window this is (1 = the first).
    attempt: int = 0
    problems: tuple[PodProblem, ...] = ()

    @property
    def message(self) -> str:
        return f"{self.workload}: {self.action}: {self.reason}"


@dataclass(frozen=True)
class AutoRestartPolicy:
    """Restart a crash-looping workload, at most ``max_restarts`` times within ``window``.

    After the n-th restart in the window the next one waits ``backoff_base * 2**(n-1)``, capped
    at ``backoff_max``. A workload is eligible when one of its pods has a container waiting
    with a reason in ``triggers`` (default ``CrashLoopBackOff``), or a problem with such a
    reason. Once ``max_restarts`` restarts fall within the window, it gives up until the
    oldest of them ages out of the window.
    """

    max_restarts: int = 3
    window: timedelta = timedelta(hours=1)
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(minutes=30)
    triggers: frozenset[str] = frozenset({"CrashLoopBackOff"})

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise KubernetesSpecError("auto_restart.max_restarts", "must be 0 or more")
        if self.window <= timedelta(0):
            raise KubernetesSpecError("auto_restart.window", "must be longer than zero")
        if self.backoff_base < timedelta(0):
            raise KubernetesSpecError("auto_restart.backoff_base", "must not be negative")
        if self.backoff_max < self.backoff_base:
            raise KubernetesSpecError("auto_restart.backoff_max", "must be at least backoff_base")

    def backoff(self, restarts_done: int) -> timedelta:
        """The wait after ``restarts_done`` restarts (0 → none)."""
        if restarts_done <= 0:
            return timedelta(0)
        delay = self.backoff_base
        for _ in range(restarts_done - 1):
            if delay >= self.backoff_max or not delay:
                break
            delay *= 2  # doubling stops at the cap, so this never overflows timedelta
        return min(delay, self.backoff_max)

    def _triggered(self, problem: PodProblem) -> bool:
        return problem.reason in self.triggers or any(
            c.waiting_reason in self.triggers for c in problem.containers
        )

    def decide(
        self,
        workload_key: str,
        problems: Iterable[PodProblem],
        history: RestartHistory,
        now: datetime,
    ) -> Decision:
        """Restart now, wait until a time, give up, or nothing (no triggering problem)."""
        _require_aware(now)
        relevant = tuple(p for p in problems if self._triggered(p))
        if not relevant:
            return Decision(workload_key, "none", "no pod is " + " or ".join(sorted(self.triggers)))
        first = relevant[0]
        pods = f"{len(relevant)} pod{'s' if len(relevant) != 1 else ''}"
        summary = f"{pods} failing; {first.name}: {first.cause}"
        recent = history.within(workload_key, now - self.window)
        if len(recent) >= self.max_restarts:
            return Decision(
                workload_key,
                "give_up",
                f"restarted {len(recent)} times in the last {_duration(self.window)} "
                f"(limit {self.max_restarts}) and still {summary}",
                problems=relevant,
            )
        if recent:
            ready_at = recent[-1] + self.backoff(len(recent))
            if now < ready_at:
                return Decision(
                    workload_key,
                    "wait",
                    f"backing off until {ready_at.isoformat()} after restart {len(recent)}; "
                    f"{summary}",
                    until=ready_at,
                    problems=relevant,
                )
        attempt = len(recent) + 1
        return Decision(
            workload_key,
            "restart",
            f"restart {attempt} of {self.max_restarts}: {summary}",
            attempt=attempt,
            problems=relevant,
        )

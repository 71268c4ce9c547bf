"""The opt-in watch loop of ``tuskops k8s health --watch``: restart crash-looping workloads.

Each round lists the Pods and Events (of one namespace, or all), finds the unhealthy pods
(:func:`tuskops.kubernetes.health.unhealthy_pods`), groups them by workload and asks
:meth:`~tuskops.kubernetes.health.AutoRestartPolicy.decide` what to do about each: restart now,
wait (exponential backoff after a restart), or give up (``max_restarts`` within the window).
Every decision other than "nothing to do" is logged with its cause, once per change (a
workload that stays in backoff is not logged again each round).

Restarting is ``kubectl rollout restart``: the ``kubectl.kubernetes.io/restartedAt`` pod
template annotation (:func:`tuskops.kubernetes.rollout.restart_patch`), which starts a new
rollout and so replaces every pod and resets the kubelet's crash back-off. Like kubectl, only
Deployments, StatefulSets and DaemonSets can be restarted, and a paused Deployment is skipped
(its new template would not roll out; kubectl says "can't restart paused deployment").

Deviation: kubectl sends the annotation as a strategic merge patch; here it is sent by
server-side apply under its own field manager ``tuskops-watchdog``, with ``force``. The applied
object holds only that one annotation, so the watchdog owns nothing else and a later
``kubectl rollout restart`` simply takes it back; the result on the object is kubectl's.

Deciding is pure (:func:`plan_round`); :func:`auto_restart` is the thin async loop around it,
with the clock and ``sleep`` injectable for tests. A round whose listing fails is logged and
retried at the next interval; after ``max_failed_rounds`` failures in a row the error is
raised, so a loop that cannot see the cluster does not look like a healthy one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.health import (
    AutoRestartPolicy,
    Decision,
    RestartHistory,
    group_by_workload,
    unhealthy_pods,
)
from tuskops.kubernetes.rollout import restart_patch

__all__ = [
    "FIELD_MANAGER",
    "RESTARTABLE_KINDS",
    "KubeApi",
    "RoundPlan",
    "auto_restart",
    "plan_round",
    "restart_manifest",
]

#: The field manager of the restart annotation.
FIELD_MANAGER = "tuskops-watchdog"
#: What ``kubectl rollout restart`` can restart (all ``apps/v1``).
RESTARTABLE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


class KubeApi(Protocol):
    """The part of :class:`tuskops.kubernetes.cluster.KubeClient` the loop uses."""

    async def list(
        self, api_version: str, kind: str, namespace: str | None = None
    ) -> list[dict[str, Any]]: ...

    async def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None: ...

    async def apply(
        self, obj: Mapping[str, Any], *, field_manager: str = ..., force: bool = ...
    ) -> dict[str, Any]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def split_key(workload_key: str) -> tuple[str, str, str]:
    """``namespace/Kind/name`` → its three parts."""
    namespace, kind, name = workload_key.split("/", 2)
    return namespace, kind, name


def restart_manifest(workload_key: str, now: datetime) -> dict[str, Any]:
    """The object to server-side apply to restart ``namespace/Kind/name`` at ``now``."""
    namespace, kind, name = split_key(workload_key)
    if kind not in RESTARTABLE_KINDS:
        raise KubernetesError(
            f"{workload_key}: a {kind} cannot be restarted (only "
            f"{', '.join(sorted(RESTARTABLE_KINDS))} can, as with kubectl rollout restart)"
        )
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        **restart_patch(now),
    }


@dataclass(frozen=True)
class RoundPlan:
    """One round's decisions, and which of them to log (changed since the last round)."""

    decisions: tuple[Decision, ...]
    to_log: tuple[Decision, ...]
    #: What was logged per workload, for the next round's comparison.
    logged: Mapping[str, str]


def _log_key(decision: Decision) -> str:
    until = decision.until.isoformat() if decision.until else ""
    return f"{decision.action}:{until}"


def plan_round(
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    policy: AutoRestartPolicy,
    history: RestartHistory,
    now: datetime,
    logged: Mapping[str, str] | None = None,
    grace: timedelta = timedelta(minutes=5),
) -> RoundPlan:
    """Decide about every workload with an unhealthy pod. Pure.

    ``logged`` is the previous round's :attr:`RoundPlan.logged`: a ``wait`` or ``give_up``
    already logged with the same deadline is not logged again; a ``restart`` always is.
    """
    previous = dict(logged or {})
    groups = group_by_workload(unhealthy_pods(pods, events, now=now, grace=grace))
    decisions = [policy.decide(key, group, history, now) for key, group in sorted(groups.items())]
    to_log: list[Decision] = []
    current: dict[str, str] = {}
    for d in decisions:
        if d.action == "none":
            continue
        key = _log_key(d)
        current[d.workload] = key
        if d.action == "restart" or previous.get(d.workload) != key:
            to_log.append(d)
    return RoundPlan(tuple(decisions), tuple(to_log), current)


async def _restart(
    kube: KubeApi, decision: Decision, now: datetime, log: Callable[[str], None]
) -> bool:
    """Restart one workload; False (and logged why) when it was not restarted."""
    namespace, kind, name = split_key(decision.workload)
    if kind not in RESTARTABLE_KINDS:
        log(f"{decision.workload}: skip: a {kind} cannot be restarted; {decision.reason}")
        return False
    obj = await kube.get("apps/v1", kind, name, namespace)
    if obj is None:
        log(f"{decision.workload}: skip: the {kind} no longer exists")
        return False
    if kind == "Deployment" and (obj.get("spec") or {}).get("paused") is True:
        log(f"{decision.workload}: skip: the Deployment is paused (resume it to restart)")
        return False
    await kube.apply(restart_manifest(decision.workload, now), field_manager=FIELD_MANAGER,
                     force=True)  # fmt: skip
    log(f"{decision.workload}: restarted: {decision.reason}")
    return True


async def auto_restart(
    kube: KubeApi,
    *,
    namespace: str | None,
    policy: AutoRestartPolicy,
    interval: float,
    log: Callable[[str], None],
    iterations: int | None = None,
    now: Callable[[], datetime] = _utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    history: RestartHistory | None = None,
    grace: timedelta = timedelta(minutes=5),
    max_failed_rounds: int = 3,
) -> RestartHistory:
    """Watch ``namespace`` (None: all) every ``interval`` seconds, restarting per ``policy``.

    Runs ``iterations`` rounds (forever when None) and returns the restart history, which can
    be passed back in to continue. Each log line starts with the round's time (UTC, RFC 3339).
    """
    if interval <= 0:
        raise KubernetesError("auto-restart interval must be positive")
    history = history or RestartHistory()
    logged: Mapping[str, str] = {}
    failed = 0
    done = 0
    while iterations is None or done < iterations:
        t = now()
        stamp = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        def emit(line: str, stamp: str = stamp) -> None:
            log(f"{stamp} {line}")

        try:
            pods = await kube.list("v1", "Pod", namespace)
            events = await kube.list("v1", "Event", namespace)
        except ClusterError as err:
            failed += 1
            emit(f"cannot read pods and events ({failed} of {max_failed_rounds}): {err}")
            if failed >= max_failed_rounds:
                raise
        else:
            failed = 0
            history = history.prune(t - policy.window)
            plan = plan_round(
                pods, events, policy=policy, history=history, now=t, logged=logged, grace=grace
            )
            logged = plan.logged
            for d in plan.to_log:
                if d.action != "restart":
                    emit(d.message)
                    continue
                try:
                    if await _restart(kube, d, t, emit):
                        history = history.record(d.workload, t)
                except ClusterError as err:
                    emit(f"{d.workload}: restart failed: {err}")
        done += 1
        if iterations is None or done < iterations:
            await sleep(interval)
    return history

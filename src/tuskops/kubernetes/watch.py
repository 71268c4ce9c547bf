"""Watching Deployment rollouts after an apply, and rolling back the ones that fail.

What: :func:`watch_rollouts` waits for several Deployments at once, as ``kubectl rollout
status`` waits for one, reporting each poll to a progress callback
(:class:`RolloutProgress` draws it). A rollout that fails — ``ProgressDeadlineExceeded``, or
a pod of the new ReplicaSet in ``CrashLoopBackOff`` / ``ImagePullBackOff`` / ``OOMKilled``...
as :func:`tuskops.kubernetes.rollout.rollout_status` decides — is rolled back to the previous
revision (``kubectl rollout undo``), and the rollback is watched in turn. The
:class:`RolloutOutcome` says which happened and why.

Why: the issue asks that a release is never left half-applied or "stuck". So a rollout that
has not finished when ``timeout`` runs out is a failure too ("timed out after 600s") and is
rolled back; kubectl would only exit non-zero and leave the Deployment mid-rollout.

How, and deviations from kubectl:

* **Polling, not watch.** kubectl watches the Deployment (``?watch=true``). Here each poll
  GETs the Deployment and LISTs its ReplicaSets and pods (label selector from
  ``spec.selector``) and the namespace's events, every ``poll`` seconds (2 s by default): the
  status needs all four, a watch on four kinds would need four streams kept consistent, and
  the test emulator serves no watch. Events are filtered by ``involvedObject`` client-side,
  since ``fieldSelector`` is not available there either. The cost is up to ``poll`` seconds
  of latency and a few requests per poll and Deployment.
* **Rollback by server-side apply.** The rollback is
  :func:`~tuskops.kubernetes.rollout.rollback_manifest` applied with ``fieldManager=tuskops``
  and ``force=true``, not kubectl's patch (:func:`~tuskops.kubernetes.rollout.rollback_patch`).
  After ``tuskops apply`` the ``tuskops`` manager owns the bad template; a merge patch by
  another manager would take those fields over, and the next ``tuskops apply`` would then
  conflict with it. Applying as ``tuskops`` makes the old template tuskops' applied
  configuration instead: no conflict later, and the next apply of the same ``.tsk`` rolls
  forward again, which is what re-running it means. Template fields other managers own and
  the old revision lacks stay (see ``rollback_manifest``).
* **Restart by merge patch** (:func:`restart`): ``kubectl rollout restart`` sends a strategic
  merge patch; the ``restartedAt`` annotation patch is the same as a JSON merge patch
  (RFC 7386), which every API server and the emulator accept. The patch is an ``Update`` by
  field manager ``tuskops-rollout``, like kubectl's ``kubectl-rollout``, so the annotation is
  not part of anyone's applied configuration and survives the next apply.
* A Deployment that disappears, or that cannot be read (the client's retries and circuit
  breaker gave up), ends as ``failed`` with the reason: its state is unknown, which is never
  reported as success. The other Deployments are still watched.
* The rollback's own rollout gets a fresh ``timeout``; if it fails or times out, nothing more
  is tried — the outcome is ``failed`` and says so (rolling back the rollback could loop).

Pure functions decide (:func:`selector_string`, :func:`failure_reasons`, and the rollout
module); the async functions only fetch, apply and sleep. ``sleep`` and ``clock`` are
injectable so tests can drive a simulated controller between polls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.cluster import KubeClient
from tuskops.kubernetes.rollout import (
    RolloutStatus,
    restart_patch,
    rollback_manifest,
    rollback_target,
    rollout_status,
)

__all__ = [
    "ROLLOUT_MANAGER",
    "RolloutOutcome",
    "RolloutProgress",
    "RolloutSnapshot",
    "failure_reasons",
    "fetch_rollout",
    "merge_patch",
    "restart",
    "rollback",
    "selector_string",
    "wait_for_rollout",
    "watch_rollouts",
]

#: Field manager of imperative rollout changes (restart), as kubectl uses ``kubectl-rollout``.
ROLLOUT_MANAGER = "tuskops-rollout"
#: Field manager of rollbacks: tuskops' own, so the old template becomes its applied config.
APPLY_MANAGER = "tuskops"

Json = Mapping[str, Any]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
OnProgress = Callable[[str, RolloutStatus], None]


# --- pure decisions ------------------------------------------------------------------------------


def selector_string(selector: object) -> str:
    """A ``LabelSelector`` (``matchLabels`` and ``matchExpressions``) as a ``labelSelector``
    query: ``app=web,tier in (api,web),!legacy``.

    An empty selector would select everything; a Deployment always has one (the API server
    requires it), so an empty or malformed one raises :class:`KubernetesError`.
    """
    sel = selector if isinstance(selector, Mapping) else {}
    parts = [f"{k}={v}" for k, v in sorted(dict(sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or ():
        if not isinstance(expr, Mapping):
            continue
        key, op = expr.get("key"), expr.get("operator")
        values = ",".join(sorted(str(v) for v in expr.get("values") or ()))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            raise KubernetesError(f"unknown label selector operator {op!r}")
    if not parts:
        raise KubernetesError("the deployment has no spec.selector")
    return ",".join(parts)


def failure_reasons(status: RolloutStatus) -> tuple[str, ...]:
    """Why a rollout failed or is stuck, one line per finding, fatal ones first.

    Each line names the API's reason (``CrashLoopBackOff: pod web-7c... ``) unless the message
    already does.
    """
    ordered = sorted(status.failures, key=lambda f: not f.fatal)
    lines = (f.message if f.reason in f.message else f"{f.reason}: {f.message}" for f in ordered)
    return tuple(dict.fromkeys(lines))


@dataclass(frozen=True)
class RolloutOutcome:
    """How watching one Deployment ended.

    ``state``: ``complete`` (the rollout finished), ``rolled_back`` (it failed and the
    previous revision is running again), ``failed`` (it failed and was not rolled back —
    rollback disabled, no earlier revision, or the rollback failed too — or it could not be
    watched). ``reasons`` say why it is not ``complete``. ``from_revision`` is the revision
    that was rolling out, ``to_revision`` the one rolled back to (the revision number it had
    in the history; the controller renumbers it as the newest).
    """

    namespace: str
    name: str
    state: Literal["complete", "rolled_back", "failed"]
    reasons: tuple[str, ...] = ()
    from_revision: int | None = None
    to_revision: int | None = None
    #: The last status seen (None when the Deployment could not be read at all).
    status: RolloutStatus | None = None

    @property
    def ok(self) -> bool:
        return self.state == "complete"

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "state": self.state,
            "reasons": list(self.reasons),
            "from_revision": self.from_revision,
            "to_revision": self.to_revision,
        }


# --- fetching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutSnapshot:
    """Everything :func:`rollout_status` needs, fetched together."""

    deployment: dict[str, Any]
    replica_sets: list[dict[str, Any]]
    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def status(self) -> RolloutStatus:
        return rollout_status(self.deployment, self.replica_sets, self.pods, self.events)


def _not_found(namespace: str, name: str) -> ClusterError:
    return ClusterError(
        f'deployment "{name}" not found in namespace "{namespace}"', status=404, reason="NotFound"
    )


async def fetch_rollout(
    kube: KubeClient, namespace: str, name: str, *, pods: bool = True
) -> RolloutSnapshot:
    """GET the Deployment, LIST its ReplicaSets and (with ``pods``) its pods and the events
    about pods. Raises :class:`ClusterError` (404) when the Deployment does not exist."""
    deployment = await kube.get("apps/v1", "Deployment", name, namespace)
    if deployment is None:
        raise _not_found(namespace, name)
    selector = selector_string(dict(deployment.get("spec") or {}).get("selector"))
    replica_sets = await kube.list("apps/v1", "ReplicaSet", namespace, selector)
    if not pods:
        return RolloutSnapshot(deployment, replica_sets)
    pod_list = await kube.list("v1", "Pod", namespace, selector)
    names = {str(dict(p.get("metadata") or {}).get("name")) for p in pod_list}
    events = [
        e
        for e in await kube.list("v1", "Event", namespace)
        if dict(e.get("involvedObject") or {}).get("kind") == "Pod"
        and dict(e.get("involvedObject") or {}).get("name") in names
    ]
    return RolloutSnapshot(deployment, replica_sets, pod_list, events)


# --- actions -------------------------------------------------------------------------------------


async def merge_patch(
    kube: KubeClient,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None,
    patch: Mapping[str, Any],
    *,
    field_manager: str = ROLLOUT_MANAGER,
) -> dict[str, Any]:
    """A JSON merge patch (``application/merge-patch+json``) of an object."""
    return await kube.patch(api_version, kind, name, namespace, patch, field_manager=field_manager)


async def rollback(
    kube: KubeClient, namespace: str, name: str, to_revision: int | None = None
) -> tuple[int | None, int]:
    """Roll the Deployment back (default: to the previous revision) by server-side apply of
    :func:`rollback_manifest` as ``tuskops`` with ``force``. Returns ``(from, to)`` revisions.

    Raises :class:`~tuskops.kubernetes.rollout.RevisionNotFoundError` when there is no such
    revision, :class:`KubernetesError` when the Deployment is paused.
    """
    snap = await fetch_rollout(kube, namespace, name, pods=False)
    target = rollback_target(snap.deployment, snap.replica_sets, to_revision)
    manifest = rollback_manifest(
        snap.deployment, snap.replica_sets, to_revision, manager=APPLY_MANAGER
    )
    await kube.apply(manifest, field_manager=APPLY_MANAGER, force=True)
    return snap.status().revision, target.number


async def restart(kube: KubeClient, namespace: str, name: str, now: datetime) -> dict[str, Any]:
    """``kubectl rollout restart``: merge-patch ``restartedAt`` onto the pod template.

    Refuses a paused Deployment, as kubectl does (the new template would not roll out).
    """
    deployment = await kube.get("apps/v1", "Deployment", name, namespace)
    if deployment is None:
        raise _not_found(namespace, name)
    if dict(deployment.get("spec") or {}).get("paused") is True:
        raise KubernetesError(
            f'deployment "{name}" is paused: resume it before restarting (the restart would '
            "not roll out)"
        )
    return await merge_patch(
        kube, "apps/v1", "Deployment", name, namespace, restart_patch(now.astimezone(UTC))
    )


# --- waiting -------------------------------------------------------------------------------------


async def wait_for_rollout(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    timeout: float,
    poll: float = 2.0,
    on_progress: OnProgress | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> tuple[RolloutStatus, bool]:
    """Poll until the rollout is done (complete or failed) or ``timeout`` seconds pass.

    Returns the last status and whether it timed out. Every poll is reported to
    ``on_progress`` as ``("namespace/name", status)``.
    """
    key = f"{namespace}/{name}"
    deadline = clock() + timeout
    while True:
        status = (await fetch_rollout(kube, namespace, name)).status()
        if on_progress is not None:
            on_progress(key, status)
        if status.done:
            return status, False
        remaining = deadline - clock()
        if remaining <= 0:
            return status, True
        await sleep(min(poll, remaining))


def _seconds(value: float) -> str:
    return f"{value:g}s"


async def _watch_one(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    timeout: float,
    poll: float,
    rollback_enabled: bool,
    on_progress: OnProgress | None,
    sleep: Sleep,
    clock: Clock,
) -> RolloutOutcome:
    def wait() -> Awaitable[tuple[RolloutStatus, bool]]:
        return wait_for_rollout(
            kube,
            namespace,
            name,
            timeout=timeout,
            poll=poll,
            on_progress=on_progress,
            sleep=sleep,
            clock=clock,
        )

    try:
        status, timed_out = await wait()
    except KubernetesError as err:
        return RolloutOutcome(namespace, name, "failed", (f"could not watch the rollout: {err}",))
    if status.state == "complete":
        return RolloutOutcome(namespace, name, "complete", (), status.revision, None, status)
    reasons = failure_reasons(status)
    if timed_out:
        reasons = (f"timed out after {_seconds(timeout)}: {status.message}", *reasons)
    if not rollback_enabled:
        return RolloutOutcome(namespace, name, "failed", reasons, status.revision, None, status)
    try:
        from_revision, to_revision = await rollback(kube, namespace, name)
    except KubernetesError as err:
        return RolloutOutcome(
            namespace,
            name,
            "failed",
            (*reasons, f"rollback failed: {err}"),
            status.revision,
            None,
            status,
        )
    from_revision = status.revision if status.revision is not None else from_revision
    try:
        after, after_timed_out = await wait()
    except KubernetesError as err:
        after_reasons: tuple[str, ...] = (f"could not watch the rollback: {err}",)
        return RolloutOutcome(
            namespace, name, "failed", (*reasons, *after_reasons), from_revision, to_revision
        )
    if after.state == "complete":
        return RolloutOutcome(
            namespace, name, "rolled_back", reasons, from_revision, to_revision, after
        )
    why = (
        f"timed out after {_seconds(timeout)}: {after.message}"
        if after_timed_out
        else after.message
    )
    return RolloutOutcome(
        namespace,
        name,
        "failed",
        (*reasons, f"the rollback to revision {to_revision} did not complete: {why}"),
        from_revision,
        to_revision,
        after,
    )


async def watch_rollouts(
    kube: KubeClient,
    deployments: Sequence[tuple[str, str]],
    *,
    timeout: float = 600,
    poll: float = 2.0,
    rollback: bool = True,
    on_progress: OnProgress | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> list[RolloutOutcome]:
    """Watch the rollouts of ``deployments`` (``(namespace, name)`` pairs) concurrently.

    Each ends ``complete``, ``rolled_back`` or ``failed`` (see :class:`RolloutOutcome`); the
    outcomes come back in the order of ``deployments``. With ``rollback`` (the default) a
    failed or timed-out rollout is rolled back to the previous revision and that rollback is
    watched for up to ``timeout`` more seconds.
    """
    return list(
        await asyncio.gather(
            *(
                _watch_one(
                    kube,
                    namespace,
                    name,
                    timeout=timeout,
                    poll=poll,
                    rollback_enabled=rollback,
                    on_progress=on_progress,
                    sleep=sleep,
                    clock=clock,
                )
                for namespace, name in deployments
            )
        )
    )


# --- progress display ----------------------------------------------------------------------------

_STATE_STYLE = {
    "complete": "green",
    "failed": "red",
    "progressing": "yellow",
    "unknown": "dim",
}


class RolloutProgress:
    """A live table of rollouts — desired / updated / ready / available per Deployment —
    usable as ``on_progress``. On a terminal it redraws in place (``rich.live``); otherwise
    (a pipe, a CI log) it prints one plain line whenever a Deployment's line changes.

    Use as a context manager around the watch::

        with RolloutProgress(console) as progress:
            outcomes = await watch_rollouts(kube, deps, on_progress=progress)
    """

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.live = console.is_terminal if live is None else live
        self.statuses: dict[str, RolloutStatus] = {}
        self._last_line: dict[str, str] = {}
        self._live: Live | None = None

    def __enter__(self) -> RolloutProgress:
        if self.live:
            self._live = Live(
                self.table(), console=self.console, refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.table())
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, key: str, status: RolloutStatus) -> None:
        self.statuses[key] = status
        if self._live is not None:
            self._live.update(self.table())
            return
        line = self.line(key, status)
        if self._last_line.get(key) != line:
            self._last_line[key] = line
            self.console.print(line, markup=False, highlight=False)

    @staticmethod
    def line(key: str, status: RolloutStatus) -> str:
        """``shop/web rev 4: 2/3 updated, 1 ready, 1 available — progressing``."""
        revision = f" rev {status.revision}" if status.revision is not None else ""
        return (
            f"{key}{revision}: {status.updated}/{status.desired} updated, {status.ready} ready, "
            f"{status.available} available — {status.state}"
            + (f" ({status.reasons[0]})" if status.reasons else "")
        )

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False)
        for column in ("deployment", "revision", "desired", "updated", "ready", "available"):
            table.add_column(column, justify="left" if column == "deployment" else "right")
        table.add_column("state")
        for key, status in self.statuses.items():
            style = _STATE_STYLE.get(status.state, "")
            state = status.state + (f": {', '.join(status.reasons)}" if status.reasons else "")
            table.add_row(
                escape(key),
                "" if status.revision is None else str(status.revision),
                str(status.desired),
                str(status.updated),
                str(status.ready),
                str(status.available),
                f"[{style}]{escape(state)}[/]" if style else escape(state),
            )
        return table

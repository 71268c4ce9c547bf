"""Driving blue-green and canary releases against a cluster: the thin async loops.

The decisions are made elsewhere, by pure functions: :mod:`tuskops.kubernetes.bluegreen`
(:func:`~tuskops.kubernetes.bluegreen.plan_release`, :func:`~tuskops.kubernetes.bluegreen.advance`,
:func:`~tuskops.kubernetes.bluegreen.abort`) and :mod:`tuskops.kubernetes.canary`
(:func:`~tuskops.kubernetes.canary.plan_canary`, :func:`~tuskops.kubernetes.canary.plan_rollback`,
:func:`~tuskops.kubernetes.canary.analysis_verdict`). This module observes the cluster, calls
them, performs what they return, and sleeps between polls, exactly as their docstrings
describe. Every wait is bounded and every outcome says why: a check that could not run (no
verdict before the timeout, an analysis that raised) is never reported as passed.

* :func:`run_bluegreen`: deploy the idle colour, wait until it has rolled out, run the
  verification Job and read its verdict from the Job's status, switch the Service's selector,
  then scale the old colour down once ``scale_down_delay`` has passed since the switch (or,
  without ``wait_for_scale_down``, stop and report when that will be due). A failed rollout,
  a failed verification or a timeout aborts: before the switch the idle colour goes to zero
  replicas and the Service is never touched.
* :func:`switch_back`: point the Service back at the other colour at once when it still has
  its pods; if it was scaled down it is scaled back up and must roll out first.
* :func:`run_canary`: per step, grow (the canary), wait until Available, shrink (the
  stable), pause, then analyse; roll back through :func:`~tuskops.kubernetes.canary.plan_rollback`
  when a step fails. The default analysis (:func:`rollout_health`) is the canary's rollout
  status (:func:`~tuskops.kubernetes.rollout.rollout_status`, as ``kubectl rollout status``)
  plus :func:`~tuskops.kubernetes.health.unhealthy_pods` of its pods.

Replica changes of a Deployment whose template is kept go to its ``scale`` subresource as a
JSON merge patch (``PATCH .../deployments/{name}/scale``, what ``kubectl scale`` sends; see
https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/), so
the fields applied by the field manager are left as they are.

Choices and limits:

* Only the release's own objects are touched (the colour or canary Deployments, the Services,
  the verification Job). The app's ConfigMap, Secret, ServiceAccount... come from
  ``tuskops apply`` and must be there before a release.
* The verification verdict is read from the Job's status only; its pod's logs are not
  fetched (the reason then names the Job's condition, not curl's output).
* ``timeout`` bounds each wait: for blue-green, everything from the start up to the switch;
  for a canary, each step's rollout and, separately, its analysis.
* A ``ClusterError`` (the API server refused or was unreachable) is raised as is, leaving the
  release where it stood: the objects on the cluster say where that is, and neither an abort
  nor a rollback could be carried out on a cluster that cannot be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tuskops.errors import ClusterError, KubernetesError, TuskError
from tuskops.kubernetes.bluegreen import (
    TRACK_LABEL,
    AbortPlan,
    Actions,
    BlueGreenPlan,
    BlueGreenStep,
    Colour,
    ObjectRef,
    Observed,
    ScaleTo,
    Verdict,
    abort,
    advance,
    colour_name,
    current_colour,
    deployment_verdict,
    other_colour,
    plan_release,
    switch_service,
    switched_at,
)
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.networking import service as build_service
from tuskops.kubernetes.canary import (
    CANARY_TRACK,
    DEFAULT_STEPS,
    CanaryPlan,
    StepResult,
    analysis_verdict,
    canary_name,
    canary_steps,
    canary_weight,
    plan_canary,
    plan_rollback,
    total_replicas,
)
from tuskops.kubernetes.cluster import KubeClient
from tuskops.kubernetes.health import unhealthy_pods
from tuskops.kubernetes.spec import AppSpec

__all__ = [
    "CanaryAnalysis",
    "ReleaseOutcome",
    "ReleaseResult",
    "rollout_health",
    "run_bluegreen",
    "run_canary",
    "scale_deployment",
    "switch_back",
]

ReleaseResult = Literal["released", "aborted", "rolled-back", "failed", "switched-back"]
#: A canary step's analysis: given the client, the spec and the step's plan, what was found.
CanaryAnalysis = Callable[[KubeClient, AppSpec, CanaryPlan], Awaitable[StepResult]]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]

FIELD_MANAGER = "tuskops"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class ReleaseOutcome:
    """How a release (or a switch back) ended.

    ``result``: ``released`` (done), ``switched-back``, ``aborted`` (blue-green stopped before
    or undone after the switch), ``rolled-back`` (a canary step failed and the stable took
    everything back) or ``failed`` (stopped where nothing could be undone automatically, e.g.
    a canary's promote step: see ``reason``).
    """

    strategy: Literal["blue-green", "canary", "switch-back"]
    name: str
    namespace: str
    result: ReleaseResult
    reason: str
    #: The Deployment serving after the release (``shop-green``, ``shop``); None if none does.
    serving: str | None = None
    #: The Deployment that served before.
    previous: str | None = None
    #: Blue-green without waiting: when the old colour becomes due for scaling down.
    scale_down_after: datetime | None = None
    notes: tuple[str, ...] = ()
    #: Every progress line, in order.
    events: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the release (or switch back) went through."""
        return self.result in ("released", "switched-back")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible."""
        return {
            "strategy": self.strategy,
            "name": self.name,
            "namespace": self.namespace,
            "result": self.result,
            "ok": self.ok,
            "reason": self.reason,
            "serving": self.serving,
            "previous": self.previous,
            "scale_down_after": (
                self.scale_down_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if self.scale_down_after is not None
                else None
            ),
            "notes": list(self.notes),
            "events": list(self.events),
        }


# --- scaling ---------------------------------------------------------------------------------


async def scale_deployment(kube: KubeClient, scale: ScaleTo) -> bool:
    """Set a Deployment's replicas through its ``scale`` subresource; False when it does not
    exist and ``scale.replicas`` is 0 (nothing to scale down). Scaling a missing Deployment up
    is a :class:`~tuskops.errors.ClusterError`."""
    if scale.replicas < 0:
        raise KubernetesError(f"cannot scale {scale.name} to {scale.replicas} replicas")
    try:
        await kube.patch(
            "apps/v1",
            "Deployment",
            scale.name,
            scale.namespace,
            scale.patch(),
            field_manager=FIELD_MANAGER,
            subresource="scale",
        )
    except ClusterError as err:
        if err.status == 404 and scale.replicas == 0:
            return False
        raise
    return True


# --- the loop's plumbing ---------------------------------------------------------------------


@dataclass
class _Loop:
    """The I/O side every loop shares: client, clock, sleep, progress lines."""

    kube: KubeClient
    sleep: Sleep
    now: Clock
    poll: float
    on_event: Callable[[str], None]
    events: list[str] = field(default_factory=list)

    def emit(self, line: str) -> None:
        if self.events and self.events[-1] == line:
            return  # a wait that says the same thing again is not progress
        self.events.append(line)
        self.on_event(line)

    async def perform(self, actions: Actions) -> None:
        for manifest in actions.apply:
            await self.kube.apply(manifest, field_manager=FIELD_MANAGER, force=True)
        for scale in actions.scale:
            await scale_deployment(self.kube, scale)
        for ref in actions.delete:
            await self.kube.delete(
                ref.api_version, ref.kind, ref.name, ref.namespace, propagation="Background"
            )

    async def deployment_state(
        self, name: str, namespace: str, selector: str | Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """The Deployment, and the ReplicaSets and pods its selector's labels match."""
        deployment = await self.kube.get("apps/v1", "Deployment", name, namespace)
        if deployment is None:
            return None, [], []
        replica_sets = await self.kube.list("apps/v1", "ReplicaSet", namespace, selector)
        pods = await self.kube.list("v1", "Pod", namespace, selector)
        return deployment, replica_sets, pods

    async def wait_rolled_out(
        self, name: str, namespace: str, selector: str | Mapping[str, str], timeout: float
    ) -> Verdict:
        """Poll until the Deployment has rolled out or failed; failed after ``timeout``."""
        deadline = self.now() + timedelta(seconds=timeout)
        while True:
            verdict = deployment_verdict(*await self.deployment_state(name, namespace, selector))
            if not verdict.pending:
                return verdict
            self.emit(f"{name}: {verdict.reason}")
            if self.now() >= deadline:
                return Verdict("failed", f"{name}: timed out after {timeout:g}s: {verdict.reason}")
            await self.sleep(self.poll)


def _track_selector(spec: AppSpec, track: str | None) -> str:
    """The label selector of one track's pods; ``None`` is the stable (no track label)."""
    parts = [f"{k}={v}" for k, v in sorted(selector_labels(spec).items())]
    parts.append(f"{TRACK_LABEL}={track}" if track is not None else f"!{TRACK_LABEL}")
    return ",".join(parts)


def _preview_ref(plan: BlueGreenPlan) -> ObjectRef:
    """The idle colour's preview Service, which only the verification Job needs."""
    return ObjectRef("v1", "Service", plan.namespace, f"{plan.name}-{plan.idle}-preview")


def _blue_green_service(spec: AppSpec, to_colour: Colour, at: datetime) -> dict[str, Any]:
    base = build_service(spec, extra_selector={TRACK_LABEL: to_colour})
    if base is None:
        raise KubernetesError(f"{spec.namespace}/{spec.name}: the app declares no port")
    return switch_service(base, to_colour, at=at)


# --- blue-green ------------------------------------------------------------------------------


async def _observe(
    loop: _Loop, spec: AppSpec, plan: BlueGreenPlan, step: BlueGreenStep
) -> Observed:
    now = loop.now()
    if step is BlueGreenStep.WAIT_AVAILABLE:
        deployment, replica_sets, pods = await loop.deployment_state(
            colour_name(spec, plan.idle), spec.namespace, _track_selector(spec, plan.idle)
        )
        return Observed(
            now,
            idle_deployment=deployment,
            idle_replica_sets=tuple(replica_sets),
            idle_pods=tuple(pods),
        )
    if step is BlueGreenStep.VERIFY and plan.job is not None:
        job = await loop.kube.get("batch/v1", "Job", plan.job["metadata"]["name"], spec.namespace)
        return Observed(now, job=job)
    if step is BlueGreenStep.SCALE_DOWN:
        live = await loop.kube.get("v1", "Service", spec.name, spec.namespace)
        return Observed(now, switched_at=switched_at(live))
    return Observed(now)


async def _carry_out_abort(
    loop: _Loop, spec: AppSpec, plan: BlueGreenPlan, undo: AbortPlan, timeout: float
) -> ReleaseOutcome:
    notes: list[str] = []
    for scale in undo.restore:
        loop.emit(f"scaling {scale.name} back to {scale.replicas}")
        await scale_deployment(loop.kube, scale)
    service_ok = True
    if undo.wait_available is not None:
        assert plan.active is not None
        verdict = await loop.wait_rolled_out(
            undo.wait_available, spec.namespace, _track_selector(spec, plan.active), timeout
        )
        if not verdict.succeeded:
            service_ok = False
            notes.append(
                f"not switching back: {undo.wait_available} did not roll out ({verdict.reason})"
            )
    if undo.service is not None and service_ok:
        loop.emit(f"switching the Service back to {plan.active}")
        await loop.kube.apply(undo.service, field_manager=FIELD_MANAGER, force=True)
    if undo.cleanup.scale:
        loop.emit(f"scaling {colour_name(spec, plan.idle)} to 0")
    await loop.perform(undo.cleanup)
    serving = (
        colour_name(spec, plan.active)
        if plan.active is not None and (undo.service is None or service_ok)
        else None
    )
    loop.emit(f"aborted: {undo.reason}")
    return ReleaseOutcome(
        "blue-green",
        spec.name,
        spec.namespace,
        "aborted" if service_ok else "failed",
        undo.reason,
        serving=serving,
        previous=plan.previous,
        notes=(*plan.notes, *notes),
        events=tuple(loop.events),
    )


async def run_bluegreen(
    kube: KubeClient,
    spec: AppSpec,
    *,
    verify_path: str | None = None,
    verify_port: str | int | None = None,
    verify_timeout: int = 30,
    verify_image: str = "curlimages/curl:8.10.1",
    scale_down_delay: timedelta = timedelta(minutes=5),
    wait_for_scale_down: bool = False,
    timeout: float = 600,
    poll: float = 2.0,
    on_event: Callable[[str], None] = _ignore,
    sleep: Sleep = asyncio.sleep,
    now: Clock = _utcnow,
) -> ReleaseOutcome:
    """Release ``spec`` blue-green: drive :func:`~tuskops.kubernetes.bluegreen.advance` to the
    end (see the module docstring). ``timeout`` (seconds) bounds the release up to the switch;
    the scale-down delay is not part of it. ``on_event`` gets each progress line.
    """
    if scale_down_delay < timedelta(0):
        raise KubernetesError("the scale-down delay must not be negative")
    loop = _Loop(kube, sleep, now, poll, on_event)
    live_service = await kube.get("v1", "Service", spec.name, spec.namespace)
    live = [
        d
        for colour in ("blue", "green")
        if (d := await kube.get("apps/v1", "Deployment", f"{spec.name}-{colour}", spec.namespace))
    ]
    plan = plan_release(
        spec,
        live_service,
        live,
        verify_path=verify_path,
        verify_port=verify_port,
        verify_timeout=verify_timeout,
        verify_image=verify_image,
    )
    for note in plan.notes:
        loop.emit(f"note: {note}")
    deadline = now() + timedelta(seconds=timeout)
    step = BlueGreenStep.DEPLOY_IDLE
    while True:
        observed = await _observe(loop, spec, plan, step)
        transition = advance(plan, step, observed, scale_down_delay=scale_down_delay)
        loop.emit(f"{step.value}: {transition.reason}")
        if transition.abort is not None:
            return await _carry_out_abort(loop, spec, plan, transition.abort, timeout)
        before_switch = step in (BlueGreenStep.WAIT_AVAILABLE, BlueGreenStep.VERIFY)
        if transition.wait and before_switch and observed.now >= deadline:
            why = f"timed out after {timeout:g}s at {step.value}: {transition.reason}"
            return await _carry_out_abort(loop, spec, plan, abort(plan, step, why), timeout)
        await loop.perform(transition.actions)
        step = transition.step
        if step is BlueGreenStep.DONE:
            loop.emit(f"released: {plan.idle} serves")
            return ReleaseOutcome(
                "blue-green",
                spec.name,
                spec.namespace,
                "released",
                f"{colour_name(spec, plan.idle)} serves"
                + (f"; {plan.previous} scaled down" if plan.previous else ""),
                serving=colour_name(spec, plan.idle),
                previous=plan.previous,
                notes=plan.notes,
                events=tuple(loop.events),
            )
        if not transition.wait:
            continue
        if step is BlueGreenStep.SCALE_DOWN:
            when = observed.switched_at
            if when is None or not wait_for_scale_down:
                # The preview Service was for the verification Job only.
                await loop.perform(Actions(delete=(_preview_ref(plan),)))
                return _switched_not_scaled(loop, spec, plan, when, scale_down_delay)
            remaining = (when + scale_down_delay - observed.now).total_seconds()
            await sleep(remaining if remaining > 0 else poll)
            continue
        await sleep(poll)


def _switched_not_scaled(
    loop: _Loop, spec: AppSpec, plan: BlueGreenPlan, when: datetime | None, delay: timedelta
) -> ReleaseOutcome:
    """Released, with the old colour still running for an instant switch back."""
    assert plan.previous is not None
    due = when + delay if when is not None else None
    if due is not None:
        stamp = due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        note = (
            f"{plan.previous} keeps its pods for an instant switch back (tuskops k8s "
            f"switch-back) until {stamp}; then scale it down: kubectl scale deployment/"
            f"{plan.previous} -n {spec.namespace} --replicas=0"
        )
    else:
        note = f"the switch time is unknown: {plan.previous} was left running"
    loop.emit(f"released: {plan.idle} serves; {note}")
    return ReleaseOutcome(
        "blue-green",
        spec.name,
        spec.namespace,
        "released",
        f"{colour_name(spec, plan.idle)} serves; {plan.previous} not scaled down yet",
        serving=colour_name(spec, plan.idle),
        previous=plan.previous,
        scale_down_after=due,
        notes=(*plan.notes, note),
        events=tuple(loop.events),
    )


async def switch_back(
    kube: KubeClient,
    spec: AppSpec,
    *,
    timeout: float = 600,
    poll: float = 2.0,
    on_event: Callable[[str], None] = _ignore,
    sleep: Sleep = asyncio.sleep,
    now: Clock = _utcnow,
) -> ReleaseOutcome:
    """Point the app's Service at the other colour.

    Instant when the other colour still has its pods (inside the scale-down delay) and has
    rolled out. A colour already scaled to zero is scaled back to the serving colour's
    replicas (at least the spec's) and must roll out before the switch; one that fails to, or
    does not exist, is never switched to.
    """
    loop = _Loop(kube, sleep, now, poll, on_event)
    live_service = await kube.get("v1", "Service", spec.name, spec.namespace)
    if live_service is None:
        raise KubernetesError(f"no Service {spec.namespace}/{spec.name}: nothing to switch back")
    current = current_colour(live_service)
    if current is None:
        raise KubernetesError(
            f"Service {spec.namespace}/{spec.name} has no {TRACK_LABEL} selector: "
            "not a blue-green release"
        )
    target = other_colour(current)
    target_name, current_name = colour_name(spec, target), colour_name(spec, current)
    target_live = await kube.get("apps/v1", "Deployment", target_name, spec.namespace)
    if target_live is None:
        raise KubernetesError(
            f"no Deployment {spec.namespace}/{target_name}: nothing to switch back to"
        )
    replicas = (target_live.get("spec") or {}).get("replicas")
    if replicas == 0:
        current_live = await kube.get("apps/v1", "Deployment", current_name, spec.namespace)
        wanted = max(total_replicas(spec), _replicas_of(current_live))
        loop.emit(f"{target_name} was scaled down: scaling it to {wanted} first")
        await scale_deployment(kube, ScaleTo(target_name, spec.namespace, wanted))
    verdict = await loop.wait_rolled_out(
        target_name, spec.namespace, _track_selector(spec, target), timeout
    )
    if not verdict.succeeded:
        reason = f"not switching to {target}: {verdict.reason}"
        loop.emit(reason)
        return ReleaseOutcome(
            "switch-back",
            spec.name,
            spec.namespace,
            "failed",
            reason,
            serving=current_name,
            previous=target_name,
            events=tuple(loop.events),
        )
    await kube.apply(
        _blue_green_service(spec, target, now()), field_manager=FIELD_MANAGER, force=True
    )
    loop.emit(f"switched the Service from {current} to {target}")
    return ReleaseOutcome(
        "switch-back",
        spec.name,
        spec.namespace,
        "switched-back",
        f"{target_name} serves again; {current_name} keeps its pods",
        serving=target_name,
        previous=current_name,
        events=tuple(loop.events),
    )


def _replicas_of(deployment: Mapping[str, Any] | None) -> int:
    value = ((deployment or {}).get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- canary ----------------------------------------------------------------------------------


async def rollout_health(
    kube: KubeClient,
    spec: AppSpec,
    plan: CanaryPlan,
    *,
    now: Clock = _utcnow,
    grace: timedelta = timedelta(minutes=5),
) -> StepResult:
    """The default canary analysis: every Deployment of the step (``plan.wait_available``:
    the canary, or the stable at promote) has rolled out (``rollout`` True; False when it
    failed; None while it progresses) and none of its pods is unhealthy
    (:func:`~tuskops.kubernetes.health.unhealthy_pods` with ``grace``)."""
    reasons: list[str] = []
    rollout: bool | None = True
    problems: list[str] = []
    for name in plan.wait_available:
        track = CANARY_TRACK if name == canary_name(spec) else None
        selector = _track_selector(spec, track)
        deployment = await kube.get("apps/v1", "Deployment", name, spec.namespace)
        replica_sets = await kube.list("apps/v1", "ReplicaSet", spec.namespace, selector)
        pods = await kube.list("v1", "Pod", spec.namespace, selector)
        verdict = deployment_verdict(deployment, replica_sets, pods)
        if verdict.failed:
            rollout = False
        elif verdict.pending and rollout is True:
            rollout = None
        reasons.append(verdict.reason)
        problems += [p.cause for p in unhealthy_pods(pods, now=now(), grace=grace)]
    if rollout is False:
        return StepResult(plan.step_index, False, None, "; ".join(reasons))
    if problems:
        return StepResult(plan.step_index, rollout, False, "; ".join(problems))
    if rollout is None:
        return StepResult(plan.step_index, None, None, "; ".join(reasons))
    return StepResult(plan.step_index, True, True, "rolled out, no unhealthy pods")


def _describe_step(spec: AppSpec, plan: CanaryPlan) -> str:
    if plan.kind == "promote":
        return f"promote: {spec.name} takes the new version, the canary goes to 0"
    return (
        f"step {plan.step_index} ({plan.percent}%): canary {plan.canary_replicas}, "
        f"stable {plan.stable_replicas} ({plan.weight:.0f}% of the pods)"
    )


async def _wait_all(loop: _Loop, spec: AppSpec, names: Sequence[str], timeout: float) -> Verdict:
    for name in names:
        track = CANARY_TRACK if name == canary_name(spec) else None
        verdict = await loop.wait_rolled_out(
            name, spec.namespace, _track_selector(spec, track), timeout
        )
        if not verdict.succeeded:
            return verdict
    return Verdict("succeeded", "available")


async def _analyse(
    loop: _Loop,
    spec: AppSpec,
    plan: CanaryPlan,
    check: CanaryAnalysis,
    results: list[StepResult],
    step_count: int,
    timeout: float,
) -> None:
    """Gather results for the step until the verdict is not ``wait``, or a failed one at the
    deadline (no verdict is not a pass)."""
    deadline = loop.now() + timedelta(seconds=timeout)
    while True:
        try:
            result = await check(loop.kube, spec, plan)
        except TuskError as err:
            result = StepResult(plan.step_index, None, None, f"the analysis could not run: {err}")
        results.append(result)
        verdict = analysis_verdict(plan.step_index, results, step_count=step_count)
        if verdict.decision != "wait":
            return
        loop.emit(verdict.reason)
        if loop.now() >= deadline:
            why = f"no verdict within {timeout:g}s" + (
                f": {result.reason}" if result.reason else ""
            )
            results.append(StepResult(plan.step_index, result.rollout, False, why))
            return
        await loop.sleep(loop.poll)


async def run_canary(
    kube: KubeClient,
    spec: AppSpec,
    *,
    steps: Sequence[int] = DEFAULT_STEPS,
    pause: float = 60.0,
    analysis: CanaryAnalysis | None = None,
    timeout: float = 600,
    poll: float = 2.0,
    on_event: Callable[[str], None] = _ignore,
    sleep: Sleep = asyncio.sleep,
    now: Clock = _utcnow,
) -> ReleaseOutcome:
    """Release ``spec`` as a canary by replica ratio, step by step, then promote.

    Per step: apply the grow half, wait (``timeout``) until its Deployments are Available,
    apply the shrink half, sleep ``pause`` seconds (not before the promote step's analysis),
    then run ``analysis`` (default :func:`rollout_health`) until
    :func:`~tuskops.kubernetes.canary.analysis_verdict` decides, at most ``timeout`` seconds.
    A failed step rolls back (the stable, on its old template, takes every replica again); a
    failed promote step cannot be rolled back by scaling and ends ``failed``.
    """
    if pause < 0:
        raise KubernetesError("the canary pause must not be negative")
    loop = _Loop(kube, sleep, now, poll, on_event)
    check: CanaryAnalysis = analysis or (lambda k, s, p: rollout_health(k, s, p, now=now))
    live = await kube.get("apps/v1", "Deployment", spec.name, spec.namespace)
    step_count = len(canary_steps(total_replicas(spec), steps))
    results: list[StepResult] = []
    index = 0
    while True:
        plan = plan_canary(spec, index, live, steps=steps)
        loop.emit(_describe_step(spec, plan))
        await loop.perform(plan.grow)
        available = await _wait_all(loop, spec, plan.wait_available, timeout)
        if available.succeeded:
            await loop.perform(plan.shrink)
            if plan.kind == "step" and pause > 0:
                loop.emit(f"step {index}: pausing {pause:g}s before the analysis")
                await sleep(pause)
            await _analyse(loop, spec, plan, check, results, step_count, timeout)
        else:
            results.append(StepResult(index, False, None, available.reason))
        verdict = analysis_verdict(index, results, step_count=step_count)
        loop.emit(verdict.reason)
        if verdict.decision == "done":
            loop.emit(f"released: {spec.name} runs the new version")
            return ReleaseOutcome(
                "canary",
                spec.name,
                spec.namespace,
                "released",
                verdict.reason,
                serving=spec.name,
                previous=spec.name,
                events=tuple(loop.events),
            )
        if verdict.decision == "rollback":
            if plan.kind == "promote":
                loop.emit(f"failed: {verdict.reason}")
                return ReleaseOutcome(
                    "canary",
                    spec.name,
                    spec.namespace,
                    "failed",
                    verdict.reason,
                    serving=spec.name,
                    previous=spec.name,
                    events=tuple(loop.events),
                )
            return await _roll_back(loop, spec, index, steps, verdict.reason, timeout)
        assert verdict.next_step is not None
        index = verdict.next_step


async def _roll_back(
    loop: _Loop, spec: AppSpec, index: int, steps: Sequence[int], reason: str, timeout: float
) -> ReleaseOutcome:
    undo = plan_rollback(spec, index, steps=steps)
    loop.emit(f"rolling back: {spec.name} to {undo.stable_replicas}, the canary to 0")
    await loop.perform(undo.grow)
    verdict = await _wait_all(loop, spec, undo.wait_available, timeout)
    notes: tuple[str, ...] = ()
    if not verdict.succeeded:
        notes = (f"the stable did not roll out again: {verdict.reason}; the canary keeps its pods",)
        loop.emit(notes[0])
        return ReleaseOutcome(
            "canary",
            spec.name,
            spec.namespace,
            "failed",
            reason,
            serving=None,
            previous=spec.name,
            notes=notes,
            events=tuple(loop.events),
        )
    await loop.perform(undo.shrink)
    loop.emit(f"rolled back: {reason}")
    weight = canary_weight(undo.stable_replicas, undo.canary_replicas)
    return ReleaseOutcome(
        "canary",
        spec.name,
        spec.namespace,
        "rolled-back",
        reason,
        serving=spec.name,
        previous=spec.name,
        notes=(f"the canary's share is {weight:.0f}% again",),
        events=tuple(loop.events),
    )

"""Canary releases by replica ratio, without a service mesh: the step plan and the verdict.

The model is the one in the Kubernetes documentation ("Canary deployments",
https://kubernetes.io/docs/concepts/workloads/management/#canary-deployments): the app's own
Deployment ``<name>`` (stable) and a second one, ``<name>-canary``, whose pods carry the extra
label ``tuskops.dev/track: canary``; the app's Service selects only the app's selector labels,
so it spreads connections over the pods of both. The share of traffic the canary gets is
therefore its share of the *ready pods*, ``canary / (stable + canary)``, per connection, not per
request (kube-proxy balances connections; long-lived connections stay where they are).

The stable Deployment's selector (the app's selector labels) also matches the canary's pods;
that is safe because controllers only adopt pods and ReplicaSets with no controller owner
(``ownerReferences``), so neither Deployment takes the other's.

A release is a list of steps (:func:`canary_steps`), each a ``(stable, canary)`` replica pair,
ending with the *promote* step, where the stable Deployment gets the new template and the
canary goes to zero. :func:`plan_canary` gives one step's changes in two halves, ``grow``
then ``shrink``: the caller applies ``grow``, waits until the Deployments in
``wait_available`` are Available, then applies ``shrink``, so capacity never drops below the
total while pods start. Between steps the caller runs its own analysis and asks
:func:`analysis_verdict` whether to continue, promote or roll back.

Before the promote step the stable Deployment keeps its old template: it is only *scaled*
(through the ``scale`` subresource, :class:`~tuskops.kubernetes.bluegreen.ScaleTo`), never
re-applied, so :func:`plan_rollback` can return to it by scaling. After the promote step has
started, the old template lives on only in the stable Deployment's previous ReplicaSet; undo
it with :func:`tuskops.kubernetes.rollout.rollback_patch`.

Notes: with an autoscaler (``spec.autoscaling``) the HPA targets the stable Deployment and
will rescale it between steps, and it counts the canary's pods (they match its selector); the
step counts here start from ``max(replicas, autoscaling min)``. The app's Service is applied
only with the promote step: it belongs to the release, and the live one already selects the
canary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tuskops.errors import KubernetesError, KubernetesSpecError
from tuskops.kubernetes.bluegreen import TRACK_LABEL, Actions, ScaleTo
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.networking import service as build_service
from tuskops.kubernetes.builders.workload import deployment as build_deployment
from tuskops.kubernetes.spec import AppSpec

__all__ = [
    "CANARY_TRACK",
    "DEFAULT_STEPS",
    "AnalysisVerdict",
    "CanaryPlan",
    "StepResult",
    "analysis_verdict",
    "canary_deployment",
    "canary_name",
    "canary_steps",
    "canary_weight",
    "plan_canary",
    "plan_rollback",
    "total_replicas",
]

CANARY_TRACK = "canary"
#: Percent of the total replicas the canary runs at each step.
DEFAULT_STEPS: tuple[int, ...] = (10, 25, 50, 100)


def canary_name(spec: AppSpec) -> str:
    """The canary Deployment: ``<name>-canary``."""
    return f"{spec.name}-canary"


def total_replicas(spec: AppSpec) -> int:
    """The capacity a canary release keeps: ``replicas``, or the autoscaler's ``min`` if
    larger."""
    if spec.autoscaling is not None:
        return max(spec.replicas, spec.autoscaling.min)
    return spec.replicas


def _check_steps(steps: Sequence[int]) -> None:
    if not steps:
        raise KubernetesSpecError("canary.steps", "give at least one step")
    previous = 0
    for i, pct in enumerate(steps):
        if not isinstance(pct, int) or isinstance(pct, bool) or not 0 < pct <= 100:
            raise KubernetesSpecError(f"canary.steps[{i}]", f"a percentage 1-100, got {pct!r}")
        if pct <= previous:
            raise KubernetesSpecError(f"canary.steps[{i}]", "steps must increase")
        previous = pct


def canary_steps(
    total_replicas: int, steps: Sequence[int] = DEFAULT_STEPS
) -> list[tuple[int, int]]:
    """``(stable_replicas, canary_replicas)`` for each step, then the promote step.

    At a step of ``p`` percent below 100 the canary runs ``floor(total * p / 100)`` replicas,
    at least 1 and (with two or more in total) at most ``total - 1``, and the stable the rest:
    rounding down keeps the canary's share at or under ``p`` except where one pod is already
    more (10% of 3 is one pod, a third of the traffic). The stable keeps at least one pod
    until 100 percent, so with ``total == 1`` a step runs one of each: two pods, the only way to
    expose a canary without dropping the stable. At 100 percent it is ``(0, total)``. The last
    entry is the promote step, ``(total, 0)``: the stable, on the new template, takes over.

    Every pair sums to at least ``total``, the canary never shrinks and the stable never grows
    from one step to the next (before the promote), so with :func:`plan_canary`'s grow-then-
    shrink order capacity never falls below ``total``. Equal consecutive pairs are kept (small
    totals give them), so step indexes stay those of ``steps``.
    """
    if isinstance(total_replicas, bool) or total_replicas < 1:
        raise KubernetesSpecError(
            "canary.replicas", f"a canary needs at least 1 replica, got {total_replicas}"
        )
    _check_steps(steps)
    pairs: list[tuple[int, int]] = []
    for pct in steps:
        if pct == 100:
            pairs.append((0, total_replicas))
            continue
        if total_replicas == 1:
            pairs.append((1, 1))
            continue
        canary = min(max(total_replicas * pct // 100, 1), total_replicas - 1)
        pairs.append((total_replicas - canary, canary))
    pairs.append((total_replicas, 0))
    return pairs


def canary_weight(stable: int, canary: int) -> float:
    """The canary's share of the pods, in percent: what it gets of new connections."""
    pods = stable + canary
    return 0.0 if pods == 0 else 100.0 * canary / pods


def canary_deployment(spec: AppSpec, replicas: int) -> dict[str, Any]:
    """The canary Deployment: the new template, ``track: canary`` in selector and pod labels."""
    return build_deployment(
        spec, name=canary_name(spec), replicas=replicas, extra_labels={TRACK_LABEL: CANARY_TRACK}
    )


@dataclass(frozen=True)
class CanaryPlan:
    """One step's changes: apply ``grow``, wait until every Deployment in ``wait_available`` is
    Available, then apply ``shrink``."""

    kind: Literal["step", "promote", "rollback"]
    step_index: int
    #: The step's percentage; None for promote and rollback.
    percent: int | None
    stable_replicas: int
    canary_replicas: int
    #: The canary's share of the pods once the step is done, in percent.
    weight: float
    grow: Actions
    wait_available: tuple[str, ...]
    shrink: Actions


def _check_stable(spec: AppSpec, live: Mapping[str, Any] | None) -> None:
    if live is None:
        raise KubernetesError(
            f"no live Deployment {spec.namespace}/{spec.name}: a canary needs a stable version "
            "to compare with; deploy it normally first"
        )
    match = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if match != selector_labels(spec):
        where = f"Deployment/{spec.namespace}/{spec.name}: spec.selector.matchLabels"
        raise KubernetesSpecError(
            where,
            f"expected {selector_labels(spec)}, got {match}: not the app's stable Deployment",
        )


def plan_canary(
    spec: AppSpec,
    step_index: int,
    live: Mapping[str, Any] | None,
    *,
    steps: Sequence[int] = DEFAULT_STEPS,
) -> CanaryPlan:
    """The changes for step ``step_index`` of :func:`canary_steps` (the last index promotes).

    ``live`` is the live stable Deployment ``<name>``; a release without one is refused (there
    is nothing to compare the canary with), as is one whose selector is not the app's.

    A step: grow = apply the canary Deployment (new template) at its count; wait for it;
    shrink = scale the stable (old template kept) down. The promote step: grow = apply the
    stable Deployment (new template) and the app's Service, and scale the stable to the total
    (an autoscaled stable's manifest has no ``replicas``, and it may stand at 0 after a 100
    percent step); wait for the stable; shrink = the canary Deployment at 0 replicas.
    """
    _check_stable(spec, live)
    total = total_replicas(spec)
    pairs = canary_steps(total, steps)
    if not 0 <= step_index < len(pairs):
        raise KubernetesSpecError(
            "canary.step", f"no step {step_index}: steps run 0 to {len(pairs) - 1}"
        )
    stable, canary = pairs[step_index]
    weight = canary_weight(stable, canary)
    scale_stable = ScaleTo(spec.name, spec.namespace, stable)
    if step_index < len(pairs) - 1:
        return CanaryPlan(
            kind="step",
            step_index=step_index,
            percent=steps[step_index],
            stable_replicas=stable,
            canary_replicas=canary,
            weight=weight,
            grow=Actions(apply=(canary_deployment(spec, canary),)),
            wait_available=(canary_name(spec),),
            shrink=Actions(scale=(scale_stable,)),
        )
    manifests: list[dict[str, Any]] = [build_deployment(spec)]
    svc = build_service(spec)
    if svc is not None:
        manifests.append(svc)
    return CanaryPlan(
        kind="promote",
        step_index=step_index,
        percent=None,
        stable_replicas=stable,
        canary_replicas=canary,
        weight=weight,
        grow=Actions(apply=tuple(manifests), scale=(scale_stable,)),
        wait_available=(spec.name,),
        shrink=Actions(apply=(canary_deployment(spec, 0),)),
    )


def plan_rollback(
    spec: AppSpec, step_index: int, *, steps: Sequence[int] = DEFAULT_STEPS
) -> CanaryPlan:
    """Back to the stable version from step ``step_index``: grow = scale the stable (still on
    its old template) to the total; wait for it; shrink = scale the canary to 0.

    Refused at the promote step: the stable already has the new template there, and only a
    rollout undo (:func:`tuskops.kubernetes.rollout.rollback_patch`) brings the old one back.
    """
    total = total_replicas(spec)
    pairs = canary_steps(total, steps)
    if not 0 <= step_index < len(pairs):
        raise KubernetesSpecError(
            "canary.step", f"no step {step_index}: steps run 0 to {len(pairs) - 1}"
        )
    if step_index == len(pairs) - 1:
        raise KubernetesError(
            f"{spec.namespace}/{spec.name}: the promote step replaced the stable template; "
            "roll the Deployment back to its previous revision instead"
        )
    return CanaryPlan(
        kind="rollback",
        step_index=step_index,
        percent=None,
        stable_replicas=total,
        canary_replicas=0,
        weight=0.0,
        grow=Actions(scale=(ScaleTo(spec.name, spec.namespace, total),)),
        wait_available=(spec.name,),
        shrink=Actions(scale=(ScaleTo(canary_name(spec), spec.namespace, 0),)),
    )


# --- analysis ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    """What the caller found at one step. ``None`` means not known (yet): never a pass."""

    step_index: int
    #: The step's Deployments rolled out and are Available.
    rollout: bool | None
    #: The caller's analysis (error rate, latency, its own probes...).
    healthy: bool | None
    reason: str = ""


@dataclass(frozen=True)
class AnalysisVerdict:
    """``wait`` (stay on the step), ``continue`` (to ``next_step``), ``promote`` (to the promote
    step, ``next_step``), ``rollback`` or ``done`` (the promote step passed)."""

    decision: Literal["wait", "continue", "promote", "rollback", "done"]
    next_step: int | None
    reason: str


def analysis_verdict(
    step_index: int, results: Iterable[StepResult], *, step_count: int
) -> AnalysisVerdict:
    """Decide what follows step ``step_index`` of ``step_count`` (``len(canary_steps(...))``,
    the promote step included), from every result the caller has gathered so far.

    Any result of this or an earlier step with ``rollout`` or ``healthy`` False rolls back
    (the first such one gives the reason). Otherwise the step passes only when it has a result
    with both True; with none, or only unknowns, it waits: a check that could not run is not a
    success, and the caller decides how long to wait before reporting ``healthy=False``
    (e.g. "timed out"). A passed step continues to the next, the last before promote goes to
    promote, and a passed promote step is done.
    """
    if step_count < 2:
        raise KubernetesSpecError("canary.steps", "a canary has at least one step and promote")
    if not 0 <= step_index < step_count:
        raise KubernetesSpecError(
            "canary.step", f"no step {step_index}: steps run 0 to {step_count - 1}"
        )
    relevant = [r for r in results if r.step_index <= step_index]
    for r in relevant:
        if r.rollout is False or r.healthy is False:
            what = "did not roll out" if r.rollout is False else "is unhealthy"
            reason = f"step {r.step_index} {what}" + (f": {r.reason}" if r.reason else "")
            if step_index == step_count - 1:
                reason += "; the stable already has the new template: undo its rollout"
            return AnalysisVerdict("rollback", None, reason)
    current = [r for r in relevant if r.step_index == step_index]
    passed = [r for r in current if r.rollout is True and r.healthy is True]
    if not passed:
        unknown = next((r.reason for r in reversed(current) if r.reason), "")
        why = f"step {step_index}: no result yet" if not current else f"step {step_index}: waiting"
        return AnalysisVerdict("wait", step_index, why + (f": {unknown}" if unknown else ""))
    reason = f"step {step_index} passed" + (f": {passed[-1].reason}" if passed[-1].reason else "")
    if step_index == step_count - 1:
        return AnalysisVerdict("done", None, reason)
    if step_index == step_count - 2:
        return AnalysisVerdict("promote", step_count - 1, reason)
    return AnalysisVerdict("continue", step_index + 1, reason)

"""Apply a plan to its target, in plan order, stopping at the first failure.

:func:`apply_plan` returns an :class:`ApplyResult` when every change succeeded (outcome
"applied", or "no-op" when there was nothing to do). When a change fails it stops and **raises**
:class:`~tuskops.errors.ApplyError`, whose ``result`` is the :class:`ApplyResult` (outcome
"failed" if nothing was changed, "partial" otherwise) and whose message already contains the
breakdown: which changes were applied, which one failed and why, which were not attempted.
Raising makes a failed apply impossible to mistake for a good one; the CLI catches it to print
``err.result.render()`` and to record ``err.result`` in the state store.

The target's :meth:`~tuskops.core.targets.base.Target.finish` runs in every case, so what did get
applied is recorded as owned by tuskops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tuskops.core.plan import Plan, ResourceChange, field_change_json
from tuskops.core.targets.base import Target
from tuskops.errors import ApplyError, TuskError

ChangeStatus = Literal["applied", "unchanged", "failed", "not-attempted"]
ApplyOutcome = Literal["applied", "no-op", "failed", "partial"]
ProgressStatus = Literal["applying", "applied", "failed"]

#: Called before and after each change that is attempted.
ProgressCallback = Callable[[ResourceChange, ProgressStatus], None]


@dataclass(frozen=True)
class ChangeOutcome:
    """What happened to one planned change."""

    change: ResourceChange
    status: ChangeStatus
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.change.resource_id,
            "action": self.change.action,
            "status": self.status,
            "location": self.change.location,
            "error": self.error,
            # Paths and kinds only (redacted values would add nothing to a history entry).
            "fields": [
                {"path": item["path"], "kind": item["kind"]}
                for item in (field_change_json(c) for c in self.change.display_changes())
            ],
        }


@dataclass(frozen=True)
class ApplyResult:
    """Every planned change with its status, in plan order."""

    target: str
    outcomes: tuple[ChangeOutcome, ...]
    #: Set when recording ownership in the target failed after the changes.
    finish_error: str | None = None

    def _with(self, status: ChangeStatus) -> list[ChangeOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def applied(self) -> list[ChangeOutcome]:
        return self._with("applied")

    @property
    def failed(self) -> ChangeOutcome | None:
        failures = self._with("failed")
        return failures[0] if failures else None

    @property
    def not_attempted(self) -> list[ChangeOutcome]:
        return self._with("not-attempted")

    @property
    def outcome(self) -> ApplyOutcome:
        if self.failed is not None or self.finish_error is not None:
            return "partial" if self.applied else "failed"
        return "applied" if self.applied else "no-op"

    @property
    def error(self) -> str | None:
        """The first thing that went wrong, for one-line summaries and the state store."""
        if self.failed is not None:
            resource_id, error = self.failed.change.resource_id, self.failed.error or ""
            return error if error.startswith(resource_id) else f"{resource_id}: {error}"
        return self.finish_error

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "outcome": self.outcome,
            "error": self.error,
            "resources": [outcome.to_json() for outcome in self.outcomes],
        }

    def render(self) -> str:
        """The breakdown for humans, plain text."""
        lines: list[str] = []
        if self.applied:
            lines.append("Applied:")
            lines += [
                f"  {_sign(o)} {o.change.action} {o.change.resource_id}" for o in self.applied
            ]
        if self.failed is not None:
            lines.append("Failed:")
            lines.append(f"  ! {self.failed.change.action} {self.failed.change.resource_id}")
            lines.append(f"      {self.failed.error}")
        if self.not_attempted:
            lines.append("Not attempted:")
            lines += [f"    {o.change.action} {o.change.resource_id}" for o in self.not_attempted]
        if self.finish_error is not None:
            lines.append(f"Ownership record not written: {self.finish_error}")
        counts = {
            action: sum(1 for o in self.applied if o.change.action == action)
            for action in ("create", "update", "delete")
        }
        verdict = {
            "applied": "Apply complete!",
            "no-op": "Apply complete! Nothing to do.",
            "failed": "Apply failed: nothing was changed.",
            "partial": "Apply stopped part-way.",
        }[self.outcome]
        lines.append(
            f"{verdict} Resources: {counts['create']} created, {counts['update']} updated, "
            f"{counts['delete']} deleted."
        )
        return "\n".join(lines)


def _sign(outcome: ChangeOutcome) -> str:
    return {"create": "+", "update": "~", "delete": "-"}.get(outcome.change.action, " ")


def apply_plan(
    plan: Plan, target: Target, *, on_progress: ProgressCallback | None = None
) -> ApplyResult:
    """Carry out ``plan`` on ``target`` (the target it was planned against).

    Returns the result on success; raises :class:`ApplyError` (with ``.result``) if any change,
    or recording ownership afterwards, failed. No-op changes are not sent to the target.
    """
    outcomes: list[ChangeOutcome] = []
    stopped = False
    try:
        for change in plan.changes:
            if stopped:
                outcomes.append(ChangeOutcome(change, "not-attempted"))
                continue
            if change.action == "no-op":
                outcomes.append(ChangeOutcome(change, "unchanged"))
                continue
            if on_progress is not None:
                on_progress(change, "applying")
            try:
                _perform(change, target)
            except Exception as exc:  # any failure must end in an exact breakdown
                stopped = True
                outcomes.append(ChangeOutcome(change, "failed", _describe(exc)))
                if on_progress is not None:
                    on_progress(change, "failed")
                continue
            outcomes.append(ChangeOutcome(change, "applied"))
            if on_progress is not None:
                on_progress(change, "applied")
    finally:
        finish_error: str | None = None
        try:
            target.finish()
        except Exception as exc:
            finish_error = _describe(exc)
    result = ApplyResult(target=plan.target, outcomes=tuple(outcomes), finish_error=finish_error)
    if result.outcome in ("failed", "partial"):
        raise ApplyError(f"apply failed: {result.error}\n{result.render()}", result)
    return result


def _perform(change: ResourceChange, target: Target) -> None:
    if change.action == "delete":
        target.delete(change.resource_id)
        return
    if change.resource is None:
        raise ValueError(f"{change.action} of {change.resource_id} has no resource")
    if change.action == "create":
        target.create(change.resource)
    else:
        target.update(change.resource)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TuskError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"  # a bug, not an expected failure: keep the type

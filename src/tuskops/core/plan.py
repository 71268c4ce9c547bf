"""Plans: what ``apply`` would change, computed from desired resources and a target's state.

:func:`make_plan` only reads the target. It checks the desired state (unique ids, known and
acyclic dependencies), orders it (dependencies first; independent resources by
``Resource.order`` then id) and diffs each resource against what the target holds. Resources the
target manages that are no longer desired are deleted last, dependents before what they depend
on. Everything shown (:func:`render_plan`, :meth:`Plan.to_json`) is redacted.
"""

from __future__ import annotations

import difflib
import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any, Literal

from rich.text import Text

from tuskops.core.diff import (
    FieldChange,
    Redacted,
    diff_values,
    leaf_additions,
    redact_changes,
    secret_paths_in,
)
from tuskops.core.resource import FieldPath, Resource, format_path
from tuskops.core.targets.base import Observed, Target
from tuskops.errors import PlanError

PlanAction = Literal["create", "update", "delete", "no-op"]


@dataclass(frozen=True)
class ResourceChange:
    """What applying does to one resource."""

    action: PlanAction
    resource_id: str
    #: The desired resource; None for a delete.
    resource: Resource | None
    #: Field changes, raw (may hold secrets: show :meth:`display_changes` instead).
    changes: tuple[FieldChange, ...] = ()
    #: Paths to redact, from both the desired body and what the target holds now.
    secret_paths: frozenset[FieldPath] = frozenset()
    #: Where it lives in the target, for humans.
    location: str | None = None
    #: Remarks from the target ("edited outside tuskops since the last apply").
    notes: tuple[str, ...] = ()

    def display_changes(self) -> list[FieldChange]:
        """The field changes with secret values replaced by "(sensitive value)"."""
        return redact_changes(self.changes, set(self.secret_paths))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "id": self.resource_id,
            "location": self.location,
            "notes": list(self.notes),
            "changes": [field_change_json(change) for change in self.display_changes()],
        }
        return out


@dataclass(frozen=True)
class Plan:
    """The ordered changes for one target."""

    target: str
    changes: tuple[ResourceChange, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "no-op": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(change.action != "no-op" for change in self.changes)

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible, redacted: the content of :func:`render_plan`, plus no-ops."""
        return {
            "target": self.target,
            "has_changes": self.has_changes,
            "summary": self.summary(),
            "resources": [change.to_json() for change in self.changes],
        }


# --- planning ---------------------------------------------------------------------------------


def make_plan(resources: Sequence[Resource], target: Target) -> Plan:
    """Plan ``resources`` against ``target``. Raises :class:`PlanError`; reads, never writes."""
    by_id = _index_unique(resources)
    _check_dependencies(by_id)
    ordered = [by_id[rid] for rid in dependency_order(by_id.values())]
    target.validate(ordered)
    observed = target.read(ordered)
    changes = [_plan_resource(resource, observed.get(resource.id), target) for resource in ordered]
    stale_ids = target.managed_ids() - by_id.keys()
    if stale_ids:
        changes.extend(_plan_deletes(target.read_managed(sorted(stale_ids))))
    return Plan(target=target.describe(), changes=tuple(changes))


def _index_unique(resources: Sequence[Resource]) -> dict[str, Resource]:
    by_id: dict[str, Resource] = {}
    positions: dict[str, int] = {}
    problems: list[str] = []
    for position, resource in enumerate(resources, start=1):
        if resource.id in by_id:
            first = _describe_origin(by_id[resource.id], positions[resource.id])
            second = _describe_origin(resource, position)
            problems.append(f"{resource.id} is declared twice: {first} and {second}")
            continue
        by_id[resource.id] = resource
        positions[resource.id] = position
    if problems:
        raise PlanError("duplicate resources:\n  " + "\n  ".join(problems))
    return by_id


def _describe_origin(resource: Resource, position: int) -> str:
    source = resource.labels.get("source")
    where = f" at {source}" if source else ""
    return f"resource #{position}{where}"


def _check_dependencies(by_id: Mapping[str, Resource]) -> None:
    problems = [
        f"{resource.id} depends on {dependency!r}, which is not in this configuration"
        for resource in by_id.values()
        for dependency in resource.depends_on
        if dependency not in by_id
    ]
    if problems:
        raise PlanError("unknown dependencies:\n  " + "\n  ".join(problems))


def dependency_order(resources: Iterable[Resource]) -> list[str]:
    """Ids with every dependency first; among ready resources the lowest (order, id) first.

    Raises :class:`PlanError` naming the cycle. Dependencies outside ``resources`` are ignored.
    """
    items = {resource.id: resource for resource in resources}
    return _ordered(
        {rid: (r.order, tuple(d for d in r.depends_on if d in items)) for rid, r in items.items()}
    )


def _ordered(graph: Mapping[str, tuple[int, tuple[str, ...]]]) -> list[str]:
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for rid, (_, dependencies) in graph.items():
        sorter.add(rid, *dependencies)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = list(exc.args[1])
        raise PlanError("dependency cycle: " + " -> ".join(cycle)) from exc
    # A heap over everything ready, so a low-order resource that becomes ready late still goes
    # before higher-order ones that were ready earlier.
    ready: list[tuple[int, str]] = []
    out: list[str] = []
    while sorter.is_active():
        for rid in sorter.get_ready():
            heapq.heappush(ready, (graph[rid][0], rid))
        _, rid = heapq.heappop(ready)
        out.append(rid)
        sorter.done(rid)
    return out


def _plan_resource(resource: Resource, observed: Observed | None, target: Target) -> ResourceChange:
    desired = target.expected_body(resource)
    secret_paths = resource.secret_field_paths() | secret_paths_in(desired, resource.secret_paths)
    location = target.location_of(resource)
    if observed is None:
        return ResourceChange(
            action="create",
            resource_id=resource.id,
            resource=resource,
            changes=tuple(leaf_additions(desired)),
            secret_paths=frozenset(secret_paths),
            location=location,
        )
    secret_paths |= secret_paths_in(observed.body, resource.secret_paths)
    changes = diff_values(observed.body, desired)
    return ResourceChange(
        action="update" if changes or not observed.in_sync else "no-op",
        resource_id=resource.id,
        resource=resource,
        changes=tuple(changes),
        secret_paths=frozenset(secret_paths),
        location=observed.location or location,
        notes=observed.notes,
    )


def _plan_deletes(observed: Mapping[str, Observed | None]) -> list[ResourceChange]:
    present = {rid: obs for rid, obs in observed.items() if obs is not None}
    graph = {
        rid: (obs.order, tuple(d for d in obs.depends_on if d in present))
        for rid, obs in present.items()
    }
    try:
        order = _ordered(graph)
    except PlanError:  # recorded dependencies no longer form a DAG: fall back to ids
        order = sorted(graph, key=lambda rid: (graph[rid][0], rid))
    return [
        ResourceChange(
            action="delete",
            resource_id=rid,
            resource=None,
            location=present[rid].location,
            notes=present[rid].notes,
        )
        for rid in reversed(order)
    ]


# --- showing a plan ---------------------------------------------------------------------------

_SIGNS = {"create": "+", "update": "~", "delete": "-", "no-op": " "}
_STYLES = {"create": "green", "update": "yellow", "delete": "red", "no-op": "dim"}


def display_value(value: Any) -> str:
    """A redacted value on one line: JSON, except the redaction marker is shown bare."""
    if isinstance(value, Redacted):
        return str(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}: {display_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(display_value(v) for v in value) + "]"
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return json.dumps(str(value), ensure_ascii=False)


def _label(path: FieldPath) -> str:
    return format_path(path) or "(content)"


def _field_lines(change: FieldChange) -> list[tuple[str, str]]:
    """(style, text) lines for one redacted field change."""
    label = _label(change.path)
    if change.kind == "add":
        return [("green", f"+ {label}: {display_value(change.new)}")]
    if change.kind == "remove":
        return [("red", f"- {label}: {display_value(change.old)}")]
    if change.sensitive and isinstance(change.old, Redacted) and isinstance(change.new, Redacted):
        return [("yellow", f"~ {label}: (sensitive value) changed")]
    if (
        isinstance(change.old, str)
        and isinstance(change.new, str)
        and ("\n" in change.old or "\n" in change.new)
    ):
        lines = [("yellow", f"~ {label}:")]
        for line in difflib.unified_diff(
            change.old.splitlines(), change.new.splitlines(), lineterm="", n=2
        ):
            if line.startswith(("---", "+++")):
                continue
            style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
            lines.append((style, "    " + line))
        return lines
    return [
        ("red", f"- {label}: {display_value(change.old)}"),
        ("green", f"+ {label}: {display_value(change.new)}"),
    ]


def render_plan(plan: Plan, *, show_unchanged: bool = False) -> Text:
    """The plan for humans, Terraform-like, secrets redacted. ``str()`` of it is plain text."""
    out = Text()
    if not plan.has_changes:
        out.append(f"No changes. {plan.target} matches the configuration.\n")
        return out
    out.append(f"Changes to {plan.target}:\n\n", style="bold")
    for change in plan.changes:
        if change.action == "no-op" and not show_unchanged:
            continue
        where = f"  ({change.location})" if change.location else ""
        out.append(
            f"{_SIGNS[change.action]} {change.action} {change.resource_id}",
            style=_STYLES[change.action],
        )
        out.append(f"{where}\n", style="dim")
        for note in change.notes:
            out.append(f"    # {note}\n", style="dim")
        for field_change in change.display_changes():
            for style, line in _field_lines(field_change):
                out.append(f"    {line}\n", style=style)
    counts = plan.summary()
    out.append(
        f"\nPlan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete.\n",
        style="bold",
    )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)  # str, the redaction marker, and dates from hand-edited YAML


def field_change_json(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": format_path(change.path),
        "path_parts": list(change.path),
        "kind": change.kind,
        "sensitive": change.sensitive,
    }
    if change.kind != "add":
        out["old"] = _jsonable(change.old)
    if change.kind != "remove":
        out["new"] = _jsonable(change.new)
    return out

"""Server-side apply conflicts: which fields another field manager owns, and what to do.

When an apply would change a field that another manager owns, the API server rejects it with
HTTP 409 and a ``Status`` (Kubernetes docs, "Server-Side Apply", section "Conflicts",
https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts). Its shape comes
from ``NewConflictError`` in ``k8s.io/apimachinery/pkg/util/managedfields/internal/
conflict.go`` and ``NewApplyConflict`` in ``k8s.io/apimachinery/pkg/api/errors``::

    {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
     "reason": "Conflict",
     "message": "Apply failed with 1 conflict: conflict with \\"kubectl-client-side-apply\\"
                 using apps/v1: .spec.replicas",
     "details": {"causes": [{"reason": "FieldManagerConflict",
                             "message": "conflict with \\"kubectl-client-side-apply\\"
                                         using apps/v1",
                             "field": ".spec.replicas"}]}}

The manager is printed Go-``%q``-quoted, followed by ``with subresource "<s>"`` when the
entry is for a subresource, and ``using <apiVersion>[ at <RFC 3339 time>]`` when the owning
entry came from an ``Update`` (not an ``Apply``). Field paths are structured-merge-diff's
(``.spec.template.spec.containers[name="web"].image``).

A 409 ``Conflict`` is also what an optimistic-concurrency failure ("the object has been
modified") returns; that has no ``FieldManagerConflict`` causes and is not an apply
conflict, so :func:`parse_conflict_status` returns ``None`` for it. When the causes are
missing, the summary ``message`` is parsed instead (both its one-conflict and its
grouped many-conflict form).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tuskops.errors import ClusterError

CAUSE_TYPE = "FieldManagerConflict"

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_MANAGER = re.compile(
    _QUOTED + r"(?: with subresource " + _QUOTED + r")?"
    r"(?: using (\S+?)(?: at (\S+))?)?"
)
_CAUSE = re.compile(r"conflicts? with (.+)", re.DOTALL)
_ONE = re.compile(r"Apply failed with 1 conflict: conflict with (.+): (\S.*)", re.DOTALL)
_MANY_HEADER = re.compile(r"Apply failed with \d+ conflicts: ")
_GROUP = re.compile(r"conflicts with (.+):")


@dataclass(frozen=True)
class FieldConflict:
    """One field another manager owns. ``operation`` is ``Update`` when the server printed
    ``using <apiVersion>`` (an Update entry), else ``Apply``."""

    manager: str
    field: str
    operation: str
    api_version: str | None = None
    time: str | None = None
    subresource: str | None = None

    def owner_text(self) -> str:
        text = f'"{self.manager}"'
        if self.subresource:
            text += f" (subresource {self.subresource})"
        if self.api_version:
            text += f" via {self.operation} {self.api_version}"
        if self.time:
            text += f" at {self.time}"
        return text


@dataclass(frozen=True)
class ApplyConflict:
    """The conflicts of one rejected apply, and the server's own message."""

    conflicts: tuple[FieldConflict, ...]
    message: str

    @property
    def managers(self) -> list[str]:
        """The other managers involved, sorted, each once."""
        return sorted({c.manager for c in self.conflicts})


def _unquote(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def _parse_manager(text: str, field: str) -> FieldConflict:
    m = _MANAGER.fullmatch(text.strip())
    if m is None:
        # Not the format we know: keep the whole text as the manager, say nothing more.
        return FieldConflict(manager=text.strip(), field=field, operation="unknown")
    name, subresource, api_version, time = m.groups()
    return FieldConflict(
        manager=_unquote(name),
        field=field,
        operation="Update" if api_version else "Apply",
        api_version=api_version,
        time=time,
        subresource=_unquote(subresource) if subresource else None,
    )


def _from_causes(causes: list[Any]) -> list[FieldConflict]:
    conflicts: list[FieldConflict] = []
    for cause in causes:
        # metav1.StatusCause's Go field Type is serialised as "reason"; "type" is accepted
        # for documents written by hand from the field's Go name.
        kind = cause.get("reason", cause.get("type")) if isinstance(cause, Mapping) else None
        if kind != CAUSE_TYPE:
            continue
        text = str(cause.get("message", ""))
        m = _CAUSE.fullmatch(text.strip())
        conflicts.append(_parse_manager(m.group(1) if m else text, str(cause.get("field", ""))))
    return conflicts


def _from_message(message: str) -> list[FieldConflict]:
    one = _ONE.fullmatch(message.strip())
    if one is not None:
        # Greedy: the manager part runs to the last ": " (field paths never contain one).
        manager_text, field = one.groups()
        return [_parse_manager(manager_text, field.strip())]
    header = _MANY_HEADER.match(message)
    if header is None:
        return []
    conflicts: list[FieldConflict] = []
    manager: str | None = None
    for line in message[header.end() :].splitlines():
        group = _GROUP.fullmatch(line.strip())
        if group is not None:
            manager = group.group(1)
        elif line.startswith("- ") and manager is not None:
            conflicts.append(_parse_manager(manager, line[2:].strip()))
    return conflicts


def parse_conflict_status(status: Mapping[str, Any]) -> ApplyConflict | None:
    """The field-manager conflicts of a 409 ``Status``, or ``None`` if it is not one.

    ``None`` means "not a server-side apply conflict" (another reason, or a Conflict without
    field-manager causes, such as a stale ``resourceVersion``): the caller reports it as is.
    """
    if status.get("reason") != "Conflict":
        return None
    message = str(status.get("message", ""))
    details = status.get("details") or {}
    causes = details.get("causes") if isinstance(details, Mapping) else None
    conflicts = _from_causes(causes) if isinstance(causes, list) else []
    if not conflicts:
        conflicts = _from_message(message)
    if not conflicts:
        return None
    return ApplyConflict(conflicts=tuple(conflicts), message=message)


def conflict_message(
    conflict: ApplyConflict, obj_key: str, *, field_manager: str = "tuskops"
) -> str:
    """A message for people: which fields, who owns them, and the two ways out."""
    n = len(conflict.conflicts)
    lines = [
        f"{obj_key}: apply conflicts with another field manager on {n}"
        f" field{'s' if n != 1 else ''}:"
    ]
    for c in conflict.conflicts:
        lines.append(f"  {c.field or '(unknown field)'}  owned by {c.owner_text()}")
    if any(c.field == ".spec.replicas" for c in conflict.conflicts):
        lines.append(
            "  (if an autoscaler manages replicas, leave replicas out of the config instead)"
        )
    lines.append(
        f"{field_manager} did not change these fields. Either stop setting them in your config,"
        f" so their current owner keeps them, or re-run with --force-conflicts to make"
        f" {field_manager} their owner (the other manager's values are overwritten, and it"
        " may change them back)."
    )
    return "\n".join(lines)


def conflict_error(
    status: Mapping[str, Any], obj_key: str, *, field_manager: str = "tuskops"
) -> ClusterError:
    """A :class:`ClusterError` (409, ``Conflict``) for ``status``: the readable message when it
    is an apply conflict, else the server's own message."""
    conflict = parse_conflict_status(status)
    if conflict is None:
        text = f"{obj_key}: {status.get('message') or 'conflict'}"
    else:
        text = conflict_message(conflict, obj_key, field_manager=field_manager)
    code = status.get("code")
    return ClusterError(
        text,
        status=code if isinstance(code, int) else 409,
        reason=str(status.get("reason") or "Conflict"),
    )

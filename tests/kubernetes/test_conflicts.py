"""Server-side apply 409 conflicts, parsed from the Status the API server sends."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tuskops.errors import ClusterError
from tuskops.kubernetes.conflicts import (
    ApplyConflict,
    FieldConflict,
    conflict_error,
    conflict_message,
    parse_conflict_status,
)

# The Status of the Kubernetes docs' example ("Server-Side Apply" > "Conflicts"): a
# Deployment's replicas were last set by `kubectl scale` / client-side apply (an Update entry,
# hence "using apps/v1"), and another manager applies a different value.
ONE_CONFLICT: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1:'
        " .spec.replicas"
    ),
    "reason": "Conflict",
    "details": {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    },
    "code": 409,
}

# Several conflicts: the summary groups paths by manager (sorted), the causes list each one.
MANY_CONFLICTS: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": (
        "Apply failed with 3 conflicts: "
        'conflicts with "helm" using apps/v1 at 2024-05-01T10:00:00Z:\n'
        '- .spec.template.spec.containers[name="web"].image\n'
        "- .spec.replicas\n"
        'conflicts with "other-applier":\n'
        "- .metadata.labels.tier"
    ),
    "reason": "Conflict",
    "details": {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "helm" using apps/v1 at 2024-05-01T10:00:00Z',
                "field": '.spec.template.spec.containers[name="web"].image',
            },
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "helm" using apps/v1 at 2024-05-01T10:00:00Z',
                "field": ".spec.replicas",
            },
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "other-applier"',
                "field": ".metadata.labels.tier",
            },
        ]
    },
    "code": 409,
}

EXPECTED_MANY = (
    FieldConflict(
        manager="helm",
        field='.spec.template.spec.containers[name="web"].image',
        operation="Update",
        api_version="apps/v1",
        time="2024-05-01T10:00:00Z",
    ),
    FieldConflict(
        manager="helm",
        field=".spec.replicas",
        operation="Update",
        api_version="apps/v1",
        time="2024-05-01T10:00:00Z",
    ),
    FieldConflict(manager="other-applier", field=".metadata.labels.tier", operation="Apply"),
)


def test_one_conflict_from_causes() -> None:
    conflict = parse_conflict_status(ONE_CONFLICT)
    assert conflict == ApplyConflict(
        conflicts=(
            FieldConflict(
                manager="kubectl-client-side-apply",
                field=".spec.replicas",
                operation="Update",
                api_version="apps/v1",
            ),
        ),
        message=ONE_CONFLICT["message"],
    )
    assert conflict.managers == ["kubectl-client-side-apply"]


def test_many_conflicts_from_causes() -> None:
    conflict = parse_conflict_status(MANY_CONFLICTS)
    assert conflict is not None
    assert conflict.conflicts == EXPECTED_MANY
    assert conflict.managers == ["helm", "other-applier"]


@pytest.mark.parametrize(("status", "expected"), [(ONE_CONFLICT, 1), (MANY_CONFLICTS, 3)])
def test_summary_message_is_parsed_when_causes_are_missing(
    status: dict[str, Any], expected: int
) -> None:
    without = copy.deepcopy(status)
    del without["details"]
    from_message = parse_conflict_status(without)
    from_causes = parse_conflict_status(status)
    assert from_message is not None
    assert from_causes is not None
    assert len(from_message.conflicts) == expected
    assert from_message.conflicts == from_causes.conflicts


def test_subresource_and_escaped_manager_names() -> None:
    status = copy.deepcopy(ONE_CONFLICT)
    status["details"]["causes"][0]["message"] = (
        'conflict with "my \\"odd\\" manager" with subresource "scale" using autoscaling/v1'
    )
    conflict = parse_conflict_status(status)
    assert conflict is not None
    (c,) = conflict.conflicts
    assert c.manager == 'my "odd" manager'
    assert c.subresource == "scale"
    assert c.api_version == "autoscaling/v1"


def test_unrecognised_cause_text_is_kept_whole() -> None:
    status = copy.deepcopy(ONE_CONFLICT)
    status["details"]["causes"][0]["message"] = "owned elsewhere"
    conflict = parse_conflict_status(status)
    assert conflict is not None
    assert conflict.conflicts[0].manager == "owned elsewhere"
    assert conflict.conflicts[0].operation == "unknown"


def test_a_stale_resource_version_conflict_is_not_an_apply_conflict() -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": (
            'Operation cannot be fulfilled on deployments.apps "web": the object has been'
            " modified; please apply your changes to the latest version and try again"
        ),
        "reason": "Conflict",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 409,
    }
    assert parse_conflict_status(status) is None
    error = conflict_error(status, "Deployment/shop/web")
    assert isinstance(error, ClusterError)
    assert "the object has been modified" in str(error)
    assert error.status == 409


def test_other_reasons_are_not_conflicts() -> None:
    status = {**ONE_CONFLICT, "reason": "Invalid", "code": 422}
    assert parse_conflict_status(status) is None
    assert parse_conflict_status({}) is None


def test_message_names_fields_owners_and_force_conflicts() -> None:
    conflict = parse_conflict_status(MANY_CONFLICTS)
    assert conflict is not None
    text = conflict_message(conflict, "Deployment/shop/web")
    assert text.splitlines()[0] == (
        "Deployment/shop/web: apply conflicts with another field manager on 3 fields:"
    )
    assert '  .spec.replicas  owned by "helm" via Update apps/v1 at 2024-05-01T10:00:00Z' in text
    assert '  .metadata.labels.tier  owned by "other-applier"' in text
    assert "autoscaler" in text
    assert "--force-conflicts" in text
    assert "tuskops did not change these fields" in text


def test_conflict_error_carries_status_and_reason() -> None:
    error = conflict_error(ONE_CONFLICT, "Deployment/shop/web", field_manager="tk")
    assert error.status == 409
    assert error.reason == "Conflict"
    assert "1 field:" in str(error)
    assert '"kubectl-client-side-apply" via Update apps/v1' in str(error)
    assert "tk their owner" in str(error)


def test_other_cause_types_are_skipped_and_subresources_shown() -> None:
    status = copy.deepcopy(ONE_CONFLICT)
    status["details"]["causes"].insert(0, {"reason": "FieldValueInvalid", "field": "x"})
    status["details"]["causes"][1]["message"] = (
        'conflict with "hpa-controller" with subresource "scale"'
    )
    conflict = parse_conflict_status(status)
    assert conflict is not None
    assert conflict.conflicts == (
        FieldConflict(
            manager="hpa-controller",
            field=".spec.replicas",
            operation="Apply",
            subresource="scale",
        ),
    )
    assert '"hpa-controller" (subresource scale)' in conflict_message(conflict, "D/web")


def test_a_badly_escaped_manager_name_is_kept_as_printed() -> None:
    status = copy.deepcopy(ONE_CONFLICT)
    status["details"]["causes"][0]["message"] = 'conflict with "bad\\q"'
    conflict = parse_conflict_status(status)
    assert conflict is not None
    assert conflict.conflicts[0].manager == "bad\\q"

"""Namespace, ResourceQuota and LimitRange from the namespace policy."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.namespace import namespace_objects
from tuskops.kubernetes.spec import parse_app_spec
from tuskops.kubernetes.validate import validate_manifest


def build(policy: Any = True, **extra: Any) -> list[dict[str, Any]]:
    """The namespace objects; the derived quota and limits are off unless the test names
    them (they have tests of their own below)."""
    if policy is True:
        policy = {}
    if isinstance(policy, dict):
        policy = {"quota": False, "limits": False, **policy}
    data = {"name": "shop", "namespace": "shop", "image": "x:1", "namespace_policy": policy}
    return namespace_objects(parse_app_spec({**data, **extra}))


def error_field(policy: Any = True, **extra: Any) -> str:
    with pytest.raises(KubernetesSpecError) as info:
        build(policy, **extra)
    return info.value.field


def test_nothing_without_a_namespace_policy() -> None:
    assert namespace_objects(parse_app_spec({"name": "a", "image": "x"})) == []


@pytest.mark.parametrize("version", ["1.25", "1.33", "1.37"])
def test_the_namespace_enforces_restricted_pod_security(version: str) -> None:
    [namespace] = build(kubernetes_version=version)
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["name"] == "shop"
    assert "namespace" not in namespace["metadata"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{version}"
    assert labels["app.kubernetes.io/managed-by"] == "tuskops"
    validate_manifest(namespace, version)


def test_no_namespace_when_not_created() -> None:
    assert build({"create": False}) == []


@pytest.mark.parametrize("namespace", ["default", "kube-system"])
def test_built_in_namespaces_are_never_created(namespace: str) -> None:
    assert error_field(namespace=namespace) == "app.namespace"
    assert build({"create": False}, namespace=namespace) == []


@pytest.mark.parametrize(
    ("security", "field"),
    [
        ({"run_as_non_root": False}, "app.security.run_as_non_root"),
        ({"run_as_user": 0}, "app.security.run_as_user"),
        ({"allow_privilege_escalation": True}, "app.security.allow_privilege_escalation"),
        ({"seccomp_profile": "Unconfined"}, "app.security.seccomp_profile"),
        ({"add_capabilities": ["NET_ADMIN"]}, "app.security.add_capabilities"),
    ],
)
def test_security_the_restricted_profile_rejects_is_refused(
    security: dict[str, Any], field: str
) -> None:
    assert error_field(security=security) == field
    assert build({"create": False}, security=security) == []  # not our namespace: not our rule


def test_net_bind_service_is_allowed_by_restricted() -> None:
    assert len(build(security={"add_capabilities": ["NET_BIND_SERVICE"], "run_as_user": 1000})) == 1


@pytest.mark.parametrize("version", ["1.25", "1.33", "1.37"])
def test_quota_and_limits(version: str) -> None:
    objects = build(
        {
            "quota": {"requests.cpu": "4", "limits.memory": "8Gi", "pods": 20},
            "limits": {
                "default": {"cpu": "500m", "memory": "256Mi"},
                "default_request": {"cpu": "100m"},
                "max": {"cpu": "2"},
                "min": {"memory": "16Mi"},
            },
        }
    )
    assert [o["kind"] for o in objects] == ["Namespace", "ResourceQuota", "LimitRange"]
    _, quota, limits = objects
    assert quota["metadata"] == {**quota["metadata"], "name": "quota", "namespace": "shop"}
    assert quota["spec"] == {"hard": {"requests.cpu": "4", "limits.memory": "8Gi", "pods": "20"}}
    assert limits["metadata"]["name"] == "limits"
    assert limits["spec"] == {
        "limits": [
            {
                "type": "Container",
                "min": {"memory": "16Mi"},
                "defaultRequest": {"cpu": "100m"},
                "default": {"cpu": "500m", "memory": "256Mi"},
                "max": {"cpu": "2"},
            }
        ]
    }
    for manifest in objects:
        validate_manifest(manifest, version)


def test_only_the_limit_kinds_given_appear() -> None:
    [limits] = build({"create": False, "limits": {"max": {"cpu": "1"}}})
    assert limits["spec"]["limits"] == [{"type": "Container", "max": {"cpu": "1"}}]


def test_a_bad_quota_value_names_the_field() -> None:
    field = error_field({"quota": {"requests.cpu": "lots"}})
    assert field == "app.namespace_policy.quota.requests.cpu"


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"default_request": {"cpu": "1"}, "default": {"cpu": "500m"}}, "default_request.cpu"),
        ({"default": {"memory": "1Gi"}, "max": {"memory": "512Mi"}}, "default.memory"),
        ({"min": {"cpu": "2"}, "max": {"cpu": "1"}}, "min.cpu"),
        ({"min": {"cpu": "200m"}, "default_request": {"cpu": "0.1"}}, "min.cpu"),
    ],
)
def test_limits_out_of_order_name_the_smaller_field(limits: dict[str, Any], field: str) -> None:
    assert error_field({"limits": limits}) == f"app.namespace_policy.limits.{field}"


def test_equal_limits_are_fine() -> None:
    objects = build({"limits": {"default": {"cpu": "1"}, "max": {"cpu": "1000m"}}})
    assert objects[-1]["spec"]["limits"][0]["max"] == {"cpu": "1000m"}


# --- isolation by default: quota and limits derived from the app ------------------------------


def derived(**extra: Any) -> dict[str, dict[str, Any]]:
    data = {"name": "shop", "namespace": "shop", "image": "x:1", "namespace_policy": True}
    objs = namespace_objects(parse_app_spec({**data, **extra}))
    for obj in objs:
        validate_manifest(obj, "1.33")
    return {o["kind"]: o for o in objs}


def test_default_quota_is_twice_the_app_at_its_largest() -> None:
    objs = derived(
        replicas=3,
        resources={"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        autoscaling={"min": 3, "max": 5, "cpu": 70},
    )
    assert objs["ResourceQuota"]["spec"]["hard"] == {
        "pods": "10",
        "requests.cpu": "2500m",
        "requests.memory": "1280Mi",
        "limits.memory": "2560Mi",
    }
    limits = objs["LimitRange"]["spec"]["limits"][0]
    assert limits["defaultRequest"] == {"cpu": "250m", "memory": "128Mi"}
    assert limits["default"] == {"memory": "256Mi"}


def test_default_quota_without_requests_counts_pods_only() -> None:
    objs = derived()
    assert objs["ResourceQuota"]["spec"]["hard"] == {"pods": "4"}
    limits = objs["LimitRange"]["spec"]["limits"][0]
    assert limits["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}
    assert limits["default"] == {"memory": "256Mi"}


def test_quota_and_limits_can_be_turned_off() -> None:
    objs = derived(namespace_policy={"quota": False, "limits": False})
    assert list(objs) == ["Namespace"]

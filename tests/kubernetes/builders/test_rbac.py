"""RBAC: a ServiceAccount and exactly the asked-for permissions, deterministically."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.kubernetes.builders.rbac import normalise_rules, rbac
from tuskops.kubernetes.spec import PermissionRule, parse_app_spec
from tuskops.kubernetes.validate import validate_manifest


def build(**extra: Any) -> list[dict[str, Any]]:
    return rbac(parse_app_spec({"name": "shop", "namespace": "shop", "image": "x:1", **extra}))


def grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """Every (group, resource, name, verb) the rules grant; name "" means all."""
    return {
        (g, r, n, v)
        for rule in rules
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for n in rule.get("resourceNames", [""])
        for v in rule["verbs"]
    }


def test_no_permissions_builds_nothing() -> None:
    assert build() == []
    assert build(cluster_permissions=True) == []


@pytest.mark.parametrize("version", ["1.25", "1.33", "1.37"])
def test_namespaced_permissions(version: str) -> None:
    account, role, binding = build(
        permissions=[{"resources": ["configmaps"], "verbs": ["watch", "get", "list"]}]
    )
    assert account["kind"] == "ServiceAccount"
    assert account["metadata"]["name"] == "shop"
    assert account["metadata"]["namespace"] == "shop"
    assert account["automountServiceAccountToken"] is True
    assert role["kind"] == "Role"
    assert role["metadata"]["namespace"] == "shop"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
    ]
    assert binding["kind"] == "RoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "shop",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "shop", "namespace": "shop"}]
    for manifest in (account, role, binding):
        validate_manifest(manifest, version)


def test_cluster_permissions_use_cluster_role_named_after_namespace_and_app() -> None:
    objects = build(
        permissions=[{"resources": ["nodes"], "verbs": ["get"]}], cluster_permissions=True
    )
    assert [o["kind"] for o in objects] == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
    ]
    _, role, binding = objects
    assert role["metadata"]["name"] == "shop-shop"
    assert "namespace" not in role["metadata"]
    assert "namespace" not in binding["metadata"]
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert binding["roleRef"]["name"] == "shop-shop"
    assert binding["subjects"][0]["namespace"] == "shop"
    for manifest in objects:
        validate_manifest(manifest, "1.33")


def test_rules_with_the_same_target_merge_their_verbs() -> None:
    rules = normalise_rules(
        [
            PermissionRule(("get",), ("pods",)),
            PermissionRule(("list", "get"), ("pods",)),
            PermissionRule(("get", "list"), ("services",)),
        ]
    )
    assert rules == [
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]}
    ]


def test_merging_never_widens() -> None:
    asked = [
        PermissionRule(("get",), ("pods",)),
        PermissionRule(("delete",), ("deployments",), ("apps",)),
        PermissionRule(("update",), ("configmaps",), ("",), ("lock",)),
        PermissionRule(("get", "list"), ("configmaps",)),
    ]
    rules = normalise_rules(asked)
    # pods get and deployments delete must not become pods delete / deployments get.
    expected = {
        ("", "pods", "", "get"),
        ("apps", "deployments", "", "delete"),
        ("", "configmaps", "lock", "update"),
        ("", "configmaps", "", "get"),
        ("", "configmaps", "", "list"),
    }
    assert grants(rules) == expected
    assert rules == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["lock"],
         "verbs": ["update"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete"]},
    ]  # fmt: skip


def test_a_named_grant_covered_by_a_whole_resource_grant_is_dropped() -> None:
    rules = normalise_rules(
        [
            PermissionRule(("get",), ("secrets",), ("",), ("db",)),
            PermissionRule(("get",), ("secrets",)),
        ]
    )
    assert rules == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]


def test_groups_merge_when_everything_else_agrees() -> None:
    rules = normalise_rules(
        [
            PermissionRule(("get",), ("deployments",), ("extensions",)),
            PermissionRule(("get",), ("deployments",), ("apps",)),
        ]
    )
    assert rules == [
        {"apiGroups": ["apps", "extensions"], "resources": ["deployments"], "verbs": ["get"]}
    ]


def test_output_does_not_depend_on_input_order() -> None:
    asked = [
        PermissionRule(("watch", "get"), ("pods", "pods/log")),
        PermissionRule(("create",), ("events",), ("", "events.k8s.io")),
        PermissionRule(("get",), ("leases",), ("coordination.k8s.io",), ("b", "a")),
    ]
    assert normalise_rules(asked) == normalise_rules(reversed(asked))
    assert grants(normalise_rules(asked)) == grants(
        [
            {"apiGroups": list(r.api_groups), "resources": list(r.resources),
             "verbs": list(r.verbs), **({"resourceNames": list(r.resource_names)}
                                         if r.resource_names else {})}
            for r in asked
        ]
    )  # fmt: skip

"""Apply and prune order of Kubernetes kinds."""

from __future__ import annotations

from typing import Any

from tuskops.kubernetes.ordering import UNKNOWN_RANK, apply_order, kind_rank, prune_order


def o(api_version: str, kind: str, name: str = "x") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}


MIXED = [
    o("example.com/v1", "Widget"),
    o("networking.k8s.io/v1", "Ingress"),
    o("policy/v1", "PodDisruptionBudget"),
    o("autoscaling/v2", "HorizontalPodAutoscaler"),
    o("apps/v1", "Deployment"),
    o("v1", "Service"),
    o("v1", "ResourceQuota"),
    o("v1", "Secret"),
    o("v1", "ConfigMap"),
    o("rbac.authorization.k8s.io/v1", "RoleBinding"),
    o("rbac.authorization.k8s.io/v1", "Role"),
    o("rbac.authorization.k8s.io/v1", "ClusterRole"),
    o("v1", "ServiceAccount"),
    o("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    o("v1", "Namespace"),
]


def kinds(objs: list[dict[str, Any]]) -> list[str]:
    return [x["kind"] for x in objs]


def test_apply_order_follows_dependencies() -> None:
    assert kinds(apply_order(MIXED)) == [
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ServiceAccount",
        "RoleBinding",
        "Role",
        "Secret",
        "ConfigMap",
        "ResourceQuota",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Widget",
    ]


def test_apply_order_is_stable_within_a_rank() -> None:
    objs = [
        o("apps/v1", "StatefulSet", "b"),
        o("apps/v1", "Deployment", "z"),
        o("v1", "Namespace", "n"),
        o("apps/v1", "Deployment", "a"),
        o("batch/v1", "Job", "j"),
    ]
    ordered = apply_order(objs)
    assert [(x["kind"], x["metadata"]["name"]) for x in ordered] == [
        ("Namespace", "n"),
        ("StatefulSet", "b"),
        ("Deployment", "z"),
        ("Deployment", "a"),
        ("Job", "j"),
    ]


def test_custom_resources_go_last_even_with_a_builtin_kind_name() -> None:
    knative_service = o("serving.knative.dev/v1", "Service")
    assert kind_rank(knative_service) == UNKNOWN_RANK
    ordered = apply_order([knative_service, o("apps/v1", "Deployment"), o("v1", "Service")])
    assert ordered[-1] is knative_service


def test_prune_order_is_the_reverse() -> None:
    assert prune_order(MIXED) == list(reversed(apply_order(MIXED)))
    assert kinds(prune_order(MIXED))[0] == "Widget"
    assert kinds(prune_order(MIXED))[-1] == "Namespace"


def test_inputs_are_not_changed_and_objects_not_copied() -> None:
    objs = list(MIXED)
    ordered = apply_order(objs)
    assert objs == MIXED
    assert all(any(a is b for b in MIXED) for a in ordered)
    assert apply_order([]) == []

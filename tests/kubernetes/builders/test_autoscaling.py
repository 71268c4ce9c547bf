"""The HorizontalPodAutoscaler builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.autoscaling import horizontal_pod_autoscaler
from tuskops.kubernetes.spec import AppSpec, Autoscaling, MetricTarget

Validate = Callable[..., None]
MakeSpec = Callable[..., AppSpec]

REQUESTS = {"requests": {"cpu": "100m", "memory": "128Mi"}}


def test_no_autoscaling(make_spec: MakeSpec) -> None:
    assert horizontal_pod_autoscaler(make_spec()) is None


def test_cpu_and_memory(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(
        replicas=2, resources=REQUESTS, autoscaling={"max": 10, "cpu": 70, "memory": 80}
    )
    hpa = horizontal_pod_autoscaler(spec)
    valid(hpa)
    assert hpa is not None
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["metadata"]["name"] == "shop"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "shop",
    }
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 10
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        },
    ]
    assert "behavior" not in hpa["spec"]


@pytest.mark.parametrize("resource", ["cpu", "memory"])
def test_utilization_needs_a_request(make_spec: MakeSpec, resource: str) -> None:
    spec = make_spec(
        resources={"limits": {resource: "1"}}, autoscaling={"min": 1, "max": 3, resource: 50}
    )
    with pytest.raises(KubernetesSpecError) as err:
        horizontal_pod_autoscaler(spec)
    assert err.value.field == f"app.autoscaling.{resource}"
    assert f"resources.requests.{resource}" in err.value.message


def test_custom_metrics(make_spec: MakeSpec, valid: Validate) -> None:
    metrics: list[dict[str, Any]] = [
        {"name": "queue_depth", "target": "30", "selector": {"queue": "orders"}},
        {
            "type": "Object",
            "name": "requests_per_second",
            "target": "2k",
            "described": {"api_version": "networking.k8s.io/v1", "kind": "Ingress", "name": "shop"},
        },
        {"type": "External", "name": "sqs_messages", "target": 100},
    ]
    hpa = horizontal_pod_autoscaler(make_spec(autoscaling={"min": 1, "max": 5, "metrics": metrics}))
    valid(hpa)
    assert hpa is not None
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": "orders"}}},
                "target": {"type": "AverageValue", "averageValue": "30"},
            },
        },
        {
            "type": "Object",
            "object": {
                "describedObject": {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "name": "shop",
                },
                "metric": {"name": "requests_per_second"},
                "target": {"type": "Value", "value": "2k"},
            },
        },
        {
            "type": "External",
            "external": {
                "metric": {"name": "sqs_messages"},
                "target": {"type": "AverageValue", "averageValue": "100"},
            },
        },
    ]


def test_object_metric_described_keys(make_spec: MakeSpec) -> None:
    metric = {"type": "Object", "name": "m", "target": "1",
              "described": {"kind": "Service", "name": "db", "group": "x"}}  # fmt: skip
    spec = make_spec(autoscaling={"min": 1, "max": 2, "metrics": [metric]})
    with pytest.raises(KubernetesSpecError) as err:
        horizontal_pod_autoscaler(spec)
    assert err.value.field == "app.autoscaling.metrics[0].described.group"


def test_behavior_keys_become_camel_case(make_spec: MakeSpec, valid: Validate) -> None:
    behavior = {
        "scale_up": {
            "stabilization_window_seconds": 0,
            "select_policy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "period_seconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
        "scaleDown": {"stabilizationWindowSeconds": 300},
    }
    spec = make_spec(resources=REQUESTS, autoscaling={"max": 4, "cpu": 60, "behavior": behavior})
    hpa = horizontal_pod_autoscaler(spec)
    valid(hpa)
    assert hpa is not None
    assert hpa["spec"]["behavior"] == {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
        "scaleDown": {"stabilizationWindowSeconds": 300},
    }


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"select_policy": "Sometimes"}, "app.autoscaling.behavior.scaleDown.select_policy"),
        ({"stabilization_window_seconds": 4000},
         "app.autoscaling.behavior.scaleDown.stabilization_window_seconds"),
        ({"policies": "fast"}, "app.autoscaling.behavior.scaleDown.policies"),
        ({"policies": [{"type": "Nodes", "value": 1, "period_seconds": 60}]},
         "app.autoscaling.behavior.scaleDown.policies[0].type"),
        ({"policies": [{"type": "Pods", "value": 0, "period_seconds": 60}]},
         "app.autoscaling.behavior.scaleDown.policies[0].value"),
        ({"policies": [{"type": "Pods", "value": 1, "period_seconds": 3600}]},
         "app.autoscaling.behavior.scaleDown.policies[0].period_seconds"),
        ({"policies": [{"type": "Pods", "value": 1}]},
         "app.autoscaling.behavior.scaleDown.policies[0].periodSeconds"),
        ({"policies": [{"type": "Pods", "value": 1, "period": 5}]},
         "app.autoscaling.behavior.scaleDown.policies[0].period"),
        ({"policies": ["x"]}, "app.autoscaling.behavior.scaleDown.policies[0]"),
    ],
)  # fmt: skip
def test_bad_behavior_names_the_field(make_spec: MakeSpec, rules: object, field: str) -> None:
    behavior = {"scale_down": rules}
    spec = make_spec(resources=REQUESTS, autoscaling={"max": 4, "cpu": 60, "behavior": behavior})
    with pytest.raises(KubernetesSpecError) as err:
        horizontal_pod_autoscaler(spec)
    assert err.value.field == field


def test_hpa_for_another_track(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(resources=REQUESTS, autoscaling={"max": 4, "cpu": 60})
    hpa = horizontal_pod_autoscaler(spec, name="shop-green")
    valid(hpa)
    assert hpa is not None
    assert hpa["metadata"]["name"] == "shop-green"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-green"


@pytest.mark.parametrize("version", ["1.25", "1.37"])
def test_at_other_versions(make_spec: MakeSpec, valid: Validate, version: str) -> None:
    behavior = {"scale_down": {"policies": [{"type": "Pods", "value": 1, "period_seconds": 60}]}}
    metrics = [{"type": "External", "name": "lag", "target": "5"}]
    auto = {"max": 4, "cpu": 60, "metrics": metrics, "behavior": behavior}
    spec = make_spec(resources=REQUESTS, autoscaling=auto, kubernetes_version=version)
    valid(horizontal_pod_autoscaler(spec), version)


# Specs built directly (not by parse_app_spec) get the same checks.


@pytest.mark.parametrize(
    ("behavior", "field"),
    [
        ({"sideways": {}}, "app.autoscaling.behavior.sideways"),
        ({"scaleUp": "fast"}, "app.autoscaling.behavior.scaleUp"),
        ({"scaleUp": {"bogus": 1}}, "app.autoscaling.behavior.scaleUp.bogus"),
        ({"scaleUp": {"stabilizationWindowSeconds": "5m"}},
         "app.autoscaling.behavior.scaleUp.stabilizationWindowSeconds"),
    ],
)  # fmt: skip
def test_direct_spec_behavior_checked(behavior: dict[str, Any], field: str) -> None:
    spec = AppSpec(
        "shop", "img", autoscaling=Autoscaling(1, 2, metrics=(_pods(),), behavior=behavior)
    )
    with pytest.raises(KubernetesSpecError) as err:
        horizontal_pod_autoscaler(spec)
    assert err.value.field == field


def test_direct_spec_object_metric_needs_kind() -> None:
    metric = MetricTarget("Object", "m", "1", described={"name": "db"})
    spec = AppSpec("shop", "img", autoscaling=Autoscaling(1, 2, metrics=(metric,)))
    with pytest.raises(KubernetesSpecError) as err:
        horizontal_pod_autoscaler(spec)
    assert err.value.field == "app.autoscaling.metrics[0].described.kind"


def _pods() -> MetricTarget:
    return MetricTarget("Pods", "m", "1")

"""build_app: every manifest of a spec, in apply order, each valid."""

from __future__ import annotations

from typing import Any

from tuskops.kubernetes.builders.app import build_app
from tuskops.kubernetes.spec import parse_app_spec
from tuskops.kubernetes.validate import validate_manifest

BASE: dict[str, Any] = {"name": "web", "namespace": "shop", "image": "web:1", "port": 8080}


def kinds(**extra: Any) -> list[str]:
    return [m["kind"] for m in build_app(parse_app_spec({**BASE, **extra}))]


def test_minimal_app_is_a_deployment_and_a_service() -> None:
    assert kinds() == ["Service", "Deployment"]


def test_everything_in_apply_order_and_valid() -> None:
    manifests = build_app(
        parse_app_spec(
            {
                **BASE,
                "replicas": 2,
                "config": {"MODE": "prod"},
                "secrets": {"TOKEN": "t"},
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "autoscaling": {"min": 2, "max": 4, "cpu": 80},
                "ingress": {"host": "web.example.com"},
                "permissions": [{"resources": ["pods"], "verbs": ["get"]}],
                "namespace_policy": {"quota": {"pods": "10"}},
            }
        )
    )
    order = [m["kind"] for m in manifests]
    assert order[0] == "Namespace"
    assert order.index("ServiceAccount") < order.index("Deployment")
    assert order.index("ConfigMap") < order.index("Deployment") < order.index("Ingress")
    for manifest in manifests:
        validate_manifest(manifest, "1.33")


def test_metrics_as_scrape_annotations_by_default() -> None:
    manifests = build_app(parse_app_spec({**BASE, "metrics": {"port": "http"}}))
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert "ServiceMonitor" not in [m["kind"] for m in manifests]


def test_metrics_as_a_service_monitor_when_asked() -> None:
    manifests = build_app(
        parse_app_spec({**BASE, "metrics": {"port": "http", "service_monitor": True}})
    )
    assert manifests[-1]["kind"] == "ServiceMonitor"
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert "prometheus.io/scrape" not in annotations

"""ServiceMonitor and scrape annotations from ``spec.metrics``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.monitoring import scrape_annotations, service_monitor
from tuskops.kubernetes.builders.networking import service
from tuskops.kubernetes.spec import AppSpec

MakeSpec = Callable[..., AppSpec]

PORTS = [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}]


def test_no_metrics_means_nothing(make_spec: MakeSpec) -> None:
    spec = make_spec(ports=PORTS)
    assert service_monitor(spec) is None
    assert scrape_annotations(spec) == {}


def test_service_monitor_selects_the_apps_service_port_by_name(make_spec: MakeSpec) -> None:
    spec = make_spec(
        namespace="shop", ports=PORTS, metrics={"port": "metrics", "path": "/m", "interval": "15s"}
    )
    sm = service_monitor(spec)
    assert sm is not None
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["kind"] == "ServiceMonitor"
    assert sm["metadata"]["name"] == "shop"
    assert sm["metadata"]["namespace"] == "shop"
    assert sm["spec"]["selector"] == {"matchLabels": selector_labels(spec)}
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    assert sm["spec"]["endpoints"] == [{"port": "metrics", "path": "/m", "interval": "15s"}]
    # The selector matches the Service's labels, and the port name is one the Service exposes.
    svc = service(spec)
    assert svc is not None
    labels = svc["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items())
    assert "metrics" in [p["name"] for p in svc["spec"]["ports"]]


def test_defaults_to_the_first_port_path_and_interval(make_spec: MakeSpec) -> None:
    sm = service_monitor(make_spec(ports=PORTS, metrics={}))
    assert sm is not None
    assert sm["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]


def test_a_port_number_is_resolved_to_its_name(make_spec: MakeSpec) -> None:
    spec = make_spec(ports=PORTS, metrics={"port": 9090})
    sm = service_monitor(spec)
    assert sm is not None
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    assert scrape_annotations(spec)["prometheus.io/port"] == "9090"


def test_an_undeclared_port_is_refused(make_spec: MakeSpec) -> None:
    spec = make_spec(ports=PORTS, metrics={"port": "admin"})
    with pytest.raises(KubernetesSpecError) as info:
        service_monitor(spec)
    assert info.value.field == "app.metrics.port"
    assert "http (8080)" in info.value.message
    with pytest.raises(KubernetesSpecError):
        scrape_annotations(spec)


def test_scrape_annotations_use_the_container_port_number(make_spec: MakeSpec) -> None:
    spec = make_spec(ports=PORTS, metrics={"port": "metrics", "path": "/stats"})
    assert scrape_annotations(spec) == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9090",
        "prometheus.io/path": "/stats",
    }

"""The Service and Ingress builders."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.networking import ingress, service
from tuskops.kubernetes.spec import AppSpec, Ingress

Validate = Callable[..., None]
MakeSpec = Callable[..., AppSpec]

PORTS = [{"name": "http", "port": 8080, "service_port": 80}, {"name": "grpc", "port": 9090}]


def test_no_ports_no_service(make_spec: MakeSpec) -> None:
    assert service(make_spec()) is None


def test_service(make_spec: MakeSpec, valid: Validate) -> None:
    svc = service(make_spec(namespace="shop", ports=PORTS))
    valid(svc)
    assert svc is not None
    assert svc["kind"] == "Service"
    assert svc["metadata"]["name"] == "shop"
    assert svc["metadata"]["namespace"] == "shop"
    assert svc["spec"]["type"] == "ClusterIP"
    assert "clusterIP" not in svc["spec"]
    assert svc["spec"]["selector"] == {
        "app.kubernetes.io/name": "shop",
        "app.kubernetes.io/instance": "shop",
    }
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
        {"name": "grpc", "port": 9090, "targetPort": "grpc", "protocol": "TCP"},
    ]


def test_headless_service(make_spec: MakeSpec, valid: Validate) -> None:
    svc = service(make_spec(port=8080, service={"type": "None"}))
    valid(svc)
    assert svc is not None
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_service_type_and_annotations(make_spec: MakeSpec, valid: Validate, kind: str) -> None:
    annotations = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    spec = make_spec(port=8080, service={"type": kind, "annotations": annotations})
    svc = service(spec)
    valid(svc)
    assert svc is not None
    assert svc["spec"]["type"] == kind
    assert svc["metadata"]["annotations"] == annotations


def test_udp_port(make_spec: MakeSpec, valid: Validate) -> None:
    svc = service(make_spec(ports=[{"name": "dns", "port": 5353, "protocol": "UDP"}]))
    valid(svc)
    assert svc is not None
    assert svc["spec"]["ports"][0]["protocol"] == "UDP"


def test_track_service(make_spec: MakeSpec, valid: Validate) -> None:
    track = {"tuskops.dev/track": "green"}
    svc = service(make_spec(port=8080), name="shop-green", extra_selector=track)
    valid(svc)
    assert svc is not None
    assert svc["metadata"]["name"] == "shop-green"
    assert svc["spec"]["selector"]["tuskops.dev/track"] == "green"


@pytest.mark.parametrize("version", ["1.25", "1.37"])
def test_at_other_versions(make_spec: MakeSpec, valid: Validate, version: str) -> None:
    spec = make_spec(ports=PORTS, ingress={"host": "shop.example.com", "tls": True},
                     kubernetes_version=version)  # fmt: skip
    valid(service(spec), version)
    valid(ingress(spec), version)


def test_no_ingress(make_spec: MakeSpec) -> None:
    assert ingress(make_spec(port=8080)) is None


def test_plain_ingress(make_spec: MakeSpec, valid: Validate) -> None:
    ing = ingress(make_spec(ports=PORTS, ingress="shop.example.com"))
    valid(ing)
    assert ing is not None
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["kind"] == "Ingress"
    assert "tls" not in ing["spec"]
    assert "ingressClassName" not in ing["spec"]
    assert ing["spec"]["rules"] == [
        {
            "host": "shop.example.com",
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "shop", "port": {"name": "http"}}},
                    }
                ]
            },
        }
    ]


def test_tls_ingress(make_spec: MakeSpec, valid: Validate) -> None:
    annotations = {"cert-manager.io/cluster-issuer": "letsencrypt"}
    spec = make_spec(
        ports=PORTS,
        annotations={"team": "web"},
        ingress={
            "host": "shop.example.com",
            "path": "/api",
            "path_type": "Exact",
            "class_name": "nginx",
            "tls": True,
            "annotations": annotations,
            "port": "grpc",
        },
    )
    ing = ingress(spec)
    valid(ing)
    assert ing is not None
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
    assert ing["metadata"]["annotations"] == {"team": "web", **annotations}
    path = ing["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/api"
    assert path["pathType"] == "Exact"
    assert path["backend"]["service"]["port"] == {"name": "grpc"}


def test_tls_secret_name(make_spec: MakeSpec) -> None:
    ing = ingress(make_spec(port=8080, ingress={"host": "a.example.com", "tls": "wildcard-tls"}))
    assert ing is not None
    assert ing["spec"]["tls"][0]["secretName"] == "wildcard-tls"


@pytest.mark.parametrize(("port", "name"), [(80, "http"), (8080, "http"), (9090, "grpc")])
def test_ingress_port_number_becomes_a_name(make_spec: MakeSpec, port: int, name: str) -> None:
    ing = ingress(make_spec(ports=PORTS, ingress={"host": "a.example.com", "port": port}))
    assert ing is not None
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {
        "name": name
    }


@pytest.mark.parametrize("port", ["metrics", 1234, True])
def test_ingress_unknown_port(make_spec: MakeSpec, port: object) -> None:
    spec = make_spec(ports=PORTS, ingress={"host": "a.example.com", "port": port})
    with pytest.raises(KubernetesSpecError) as err:
        ingress(spec)
    assert err.value.field == "app.ingress.port"


def test_direct_spec_ingress_without_ports() -> None:
    spec = AppSpec("shop", "img", ingress=Ingress("shop.example.com"))
    with pytest.raises(KubernetesSpecError) as err:
        ingress(spec)
    assert err.value.field == "app.ingress"

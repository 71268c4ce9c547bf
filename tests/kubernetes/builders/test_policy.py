"""NetworkPolicies: default deny plus the allows the app spec implies."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.policy import network_policies
from tuskops.kubernetes.spec import parse_app_spec
from tuskops.kubernetes.validate import validate_manifest

NS_LABEL = "kubernetes.io/metadata.name"


def build(policy: Any = True, **extra: Any) -> list[dict[str, Any]]:
    data = {"name": "shop", "namespace": "shop", "image": "x:1", "namespace_policy": policy}
    return network_policies(parse_app_spec({**data, **extra}))


def allow_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    [allow] = [o for o in objects if o["metadata"]["name"] == "shop"]
    spec: dict[str, Any] = allow["spec"]
    return spec


def test_nothing_without_a_namespace_policy_or_with_default_deny_off() -> None:
    assert network_policies(parse_app_spec({"name": "a", "image": "x"})) == []
    assert build({"default_deny": False}) == []


@pytest.mark.parametrize("version", ["1.25", "1.33", "1.37"])
def test_default_deny_selects_every_pod_both_ways(version: str) -> None:
    objects = build(port=8080)
    deny = objects[0]
    assert deny["metadata"]["name"] == "default-deny"
    assert deny["metadata"]["namespace"] == "shop"
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for manifest in objects:
        validate_manifest(manifest, version)


def test_app_policy_selects_the_app_pods() -> None:
    spec = allow_of(build(port=8080))
    assert spec["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop"}
    }
    assert spec["policyTypes"] == ["Ingress", "Egress"]


def test_ingress_from_the_namespace_to_the_app_ports_only() -> None:
    spec = allow_of(build(ports=[{"port": 8080}, {"name": "dns", "port": 5353, "protocol": "UDP"}]))
    assert spec["ingress"] == [
        {
            "from": [{"podSelector": {}}],
            "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 5353, "protocol": "UDP"}],
        }
    ]


def test_ingress_from_listed_namespaces_and_the_ingress_controller() -> None:
    objects = build(
        {"allow_from_namespaces": ["monitoring", "shop", "monitoring"],
         "ingress_namespace": "traefik"},
        port=8080,
        ingress={"host": "shop.example.com"},
    )  # fmt: skip
    peers = allow_of(objects)["ingress"][0]["from"]
    assert peers == [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {NS_LABEL: "monitoring"}}},
        {"namespaceSelector": {"matchLabels": {NS_LABEL: "traefik"}}},
    ]
    for manifest in objects:
        validate_manifest(manifest, "1.33")


def test_no_ingress_controller_without_an_ingress() -> None:
    peers = allow_of(build(port=8080))["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {NS_LABEL: "ingress-nginx"}}} not in peers


def test_an_app_without_ports_admits_nothing() -> None:
    objects = build()
    assert "ingress" not in allow_of(objects)
    for manifest in objects:
        validate_manifest(manifest, "1.33")


def test_egress_allows_only_dns_without_permissions() -> None:
    [dns] = allow_of(build(port=8080))["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    [peer] = dns["to"]
    assert peer["namespaceSelector"] == {"matchLabels": {NS_LABEL: "kube-system"}}
    assert peer["podSelector"] == {
        "matchExpressions": [
            {"key": "k8s-app", "operator": "In", "values": ["coredns", "kube-dns"]}
        ]
    }


def test_egress_to_the_api_server_ports_with_permissions() -> None:
    objects = build(port=8080, permissions=[{"resources": ["pods"], "verbs": ["get"]}])
    egress = allow_of(objects)["egress"]
    assert egress[1] == {
        "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]
    }
    for manifest in objects:
        validate_manifest(manifest, "1.33")


def test_egress_to_listed_cidrs() -> None:
    objects = build({"allow_egress": ["10.0.0.0/8", "2001:db8::/32"]}, port=8080)
    egress = allow_of(objects)["egress"]
    assert egress[-1] == {
        "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "2001:db8::/32"}}]
    }
    for manifest in objects:
        validate_manifest(manifest, "1.37")


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "bogus", "10.0.0.1"])
def test_bad_cidrs_name_the_field(cidr: str) -> None:
    with pytest.raises(KubernetesSpecError) as info:
        build({"allow_egress": ["10.0.0.0/8", cidr]}, port=8080)
    assert info.value.field == "app.namespace_policy.allow_egress[1]"


def test_an_app_named_like_the_deny_policy_is_refused() -> None:
    with pytest.raises(KubernetesSpecError) as info:
        network_policies(parse_app_spec({"name": "default-deny", "image": "x",
                                         "namespace_policy": True}))  # fmt: skip
    assert info.value.field == "app.name"

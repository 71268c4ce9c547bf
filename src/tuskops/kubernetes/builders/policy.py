"""NetworkPolicies for an app's namespace: default deny, then the traffic the spec implies.

Follows https://kubernetes.io/docs/concepts/services-networking/network-policies/: policies
are additive allow-lists, so a ``default-deny`` policy selecting every pod (``podSelector:
{}``) for both Ingress and Egress blocks everything, and the app's own policy ``<name>``
(selecting its pods by their selector labels) allows back:

Ingress, to the app's ports (by number and protocol) only, from
  - pods in the same namespace,
  - pods in each of ``allow_from_namespaces``,
  - pods in ``ingress_namespace`` (the ingress controller) when the app has an ingress.
  Namespaces are matched on ``kubernetes.io/metadata.name``, the label the API server sets on
  every namespace (since 1.22). An app without ports gets no ingress at all.

Egress
  - DNS: port 53 over UDP and TCP to the cluster DNS pods in ``kube-system`` (label
    ``k8s-app`` ``kube-dns`` -- which CoreDNS keeps on kubeadm, kind, k3s and the managed
    clouds -- or ``coredns``). A node-local DNS cache on a link-local address is not covered.
  - The API server, when the app has RBAC permissions: TCP 443 and 6443 to *any* destination.
    Its address is not known offline (the ``kubernetes`` Service's ClusterIP and the
    control-plane endpoints are cluster facts), and CNIs differ in whether they see the
    Service port (443) or the endpoint port (usually 6443) after translation, so the allow
    is by port only. That is wider than an address-based rule: note it when reviewing.
  - Each CIDR in ``allow_egress``, all ports.

Nothing is built unless the spec has a ``namespace_policy`` with ``default_deny`` (the
default). ``default-deny`` is a namespace-wide object: two apps that manage one namespace
both produce it, identical but for the app labels.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import metadata, selector_labels
from tuskops.kubernetes.spec import AppSpec

__all__ = ["DEFAULT_DENY_NAME", "network_policies"]

NETWORKING_API = "networking.k8s.io/v1"
DEFAULT_DENY_NAME = "default-deny"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
API_SERVER_PORTS = (443, 6443)


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: namespace}}}


def _ingress_rules(spec: AppSpec) -> list[dict[str, Any]]:
    if not spec.ports:
        return []
    assert spec.namespace_policy is not None
    peers: list[dict[str, Any]] = [{"podSelector": {}}]  # same namespace
    others = list(spec.namespace_policy.allow_from_namespaces)
    if spec.ingress is not None:
        others.append(spec.namespace_policy.ingress_namespace)
    seen = {spec.namespace}
    for namespace in others:
        if namespace not in seen:
            seen.add(namespace)
            peers.append(_namespace_peer(namespace))
    ports = [{"port": p.port, "protocol": p.protocol} for p in spec.ports]
    return [{"from": peers, "ports": ports}]


def _egress_rules(spec: AppSpec) -> list[dict[str, Any]]:
    assert spec.namespace_policy is not None
    dns_pods = {"matchExpressions": [
        {"key": "k8s-app", "operator": "In", "values": ["coredns", "kube-dns"]}
    ]}  # fmt: skip
    rules: list[dict[str, Any]] = [
        {
            "to": [{**_namespace_peer("kube-system"), "podSelector": dns_pods}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]
    if spec.permissions:
        # No "to": any destination, on the API server's ports (see the module docstring).
        rules.append({"ports": [{"port": p, "protocol": "TCP"} for p in API_SERVER_PORTS]})
    blocks = []
    for i, cidr in enumerate(spec.namespace_policy.allow_egress):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            field = f"app.namespace_policy.allow_egress[{i}]"
            raise KubernetesSpecError(field, f"{cidr!r} is not a CIDR such as 10.0.0.0/8") from None
        if "/" not in cidr:
            field = f"app.namespace_policy.allow_egress[{i}]"
            raise KubernetesSpecError(field, f"{cidr!r} needs a prefix length, e.g. {cidr}/32")
        blocks.append({"ipBlock": {"cidr": cidr}})
    if blocks:
        rules.append({"to": blocks})
    return rules


def network_policies(spec: AppSpec) -> list[dict[str, Any]]:
    """``default-deny`` and ``<name>`` NetworkPolicies; ``[]`` unless the namespace policy asks
    for default deny."""
    policy = spec.namespace_policy
    if policy is None or not policy.default_deny:
        return []
    if spec.name == DEFAULT_DENY_NAME:
        raise KubernetesSpecError(
            "app.name", f"{DEFAULT_DENY_NAME!r} is the namespace's deny-all NetworkPolicy's name"
        )
    deny = {
        "apiVersion": NETWORKING_API,
        "kind": "NetworkPolicy",
        "metadata": metadata(spec, DEFAULT_DENY_NAME),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow_spec: dict[str, Any] = {
        "podSelector": {"matchLabels": selector_labels(spec)},
        "policyTypes": ["Ingress", "Egress"],
    }
    ingress = _ingress_rules(spec)
    if ingress:
        allow_spec["ingress"] = ingress
    allow_spec["egress"] = _egress_rules(spec)
    allow = {
        "apiVersion": NETWORKING_API,
        "kind": "NetworkPolicy",
        "metadata": metadata(spec),
        "spec": allow_spec,
    }
    return [deny, allow]

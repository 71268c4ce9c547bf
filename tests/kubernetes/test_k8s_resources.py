"""Manifests as plan/apply resources: identity, order, secret paths, directory layout."""

from __future__ import annotations

import pytest

from tuskops.core.resource import ORDER_NAMESPACE, ORDER_WORKLOAD
from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.resources import identity, to_resource, to_resources


def test_namespaced_and_cluster_scoped() -> None:
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
    }
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "namespace": "x"}}
    assert identity(dep) == ("apps/v1", "Deployment", "shop", "web")
    assert identity(ns) == ("v1", "Namespace", None, "shop")  # a namespace on it is ignored
    r = to_resource(dep)
    assert (r.id, r.path, r.order) == (
        "kubernetes/Deployment/shop/web",
        "shop/deployment-web.yaml",
        ORDER_WORKLOAD,
    )
    n = to_resource(ns)
    assert (n.id, n.path, n.order) == (
        "kubernetes/Namespace/shop",
        "_cluster/namespace-shop.yaml",
        ORDER_NAMESPACE,
    )


def test_secret_values_are_secret_paths() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"},
              "data": {"A": "eA=="}, "stringData": {"B": "y"}}  # fmt: skip
    assert to_resource(secret).secret_paths == (("data", "A"), ("stringData", "B"))


def test_bad_and_duplicate_manifests() -> None:
    with pytest.raises(KubernetesSpecError, match=r"apiVersion, kind and metadata\.name"):
        to_resource({"kind": "ConfigMap", "metadata": {}})
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}
    with pytest.raises(KubernetesSpecError, match="defined twice"):
        to_resources([cm, dict(cm)])

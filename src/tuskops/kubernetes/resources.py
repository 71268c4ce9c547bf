"""Kubernetes manifests as tuskops :class:`~tuskops.core.resource.Resource` objects.

The plan/apply engine works on resources; a manifest becomes one with its identity (kind,
namespace, name), an apply-order rank in the spirit of Helm's install order, the paths of its
secret values (a Secret's ``data`` and ``stringData``, redacted in plans), and a file path for
the directory target (``<namespace>/<kind>-<name>.yaml``, ``_cluster/`` for cluster-scoped
kinds), so the same resources can be written as a GitOps tree or applied to a cluster. A
manifest meant for another kubeconfig context than the target's carries it as the resource's
``scope`` (``kubernetes/Deployment/@eu/shop/web``), so one file can span several clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tuskops.core.resource import (
    ORDER_CONFIG,
    ORDER_DEFAULT,
    ORDER_DEFINITION,
    ORDER_NAMESPACE,
    ORDER_NETWORK,
    ORDER_POLICY,
    ORDER_WORKLOAD,
    FieldPath,
    Resource,
)
from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.manifests import is_cluster_scoped

OPERATOR = "kubernetes"

_ORDER: dict[str, int] = {
    "Namespace": ORDER_NAMESPACE,
    "CustomResourceDefinition": ORDER_DEFINITION,
    "ServiceAccount": ORDER_POLICY,
    "ClusterRole": ORDER_POLICY,
    "ClusterRoleBinding": ORDER_POLICY + 1,
    "Role": ORDER_POLICY,
    "RoleBinding": ORDER_POLICY + 1,
    "ResourceQuota": ORDER_POLICY,
    "LimitRange": ORDER_POLICY,
    "NetworkPolicy": ORDER_POLICY,
    "PodDisruptionBudget": ORDER_POLICY,
    "ConfigMap": ORDER_CONFIG,
    "Secret": ORDER_CONFIG,
    "Service": ORDER_WORKLOAD - 1,
    "Deployment": ORDER_WORKLOAD,
    "StatefulSet": ORDER_WORKLOAD,
    "DaemonSet": ORDER_WORKLOAD,
    "Job": ORDER_WORKLOAD,
    "CronJob": ORDER_WORKLOAD,
    "HorizontalPodAutoscaler": ORDER_WORKLOAD + 1,
    "Ingress": ORDER_NETWORK,
}


def identity(manifest: Mapping[str, Any]) -> tuple[str, str, str | None, str]:
    """(apiVersion, kind, namespace or None, name); a KubernetesSpecError for a manifest
    without them."""
    kind = manifest.get("kind")
    api_version = manifest.get("apiVersion")
    meta = manifest.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not isinstance(kind, str) or not isinstance(api_version, str) or not isinstance(name, str):
        raise KubernetesSpecError(
            str(kind or "manifest"), "a manifest needs apiVersion, kind and metadata.name"
        )
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    if is_cluster_scoped(manifest):
        namespace = None
    return api_version, kind, namespace if isinstance(namespace, str) else None, name


def secret_paths(manifest: Mapping[str, Any]) -> tuple[FieldPath, ...]:
    """A Secret's values, each one redacted in plans."""
    if manifest.get("kind") != "Secret":
        return ()
    out: list[FieldPath] = []
    for section in ("data", "stringData"):
        values = manifest.get(section)
        if isinstance(values, Mapping):
            out.extend((section, key) for key in values)
    return tuple(out)


def to_resource(
    manifest: Mapping[str, Any],
    *,
    context: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Resource:
    """One manifest as a resource for plan and apply. ``context``: the kubeconfig context it
    goes to when one file targets several clusters (None: the target's own)."""
    api_version, kind, namespace, name = identity(manifest)
    folder = namespace or "_cluster"
    if context:
        folder = f"{context}/{folder}"
    return Resource(
        operator=OPERATOR,
        kind=kind,
        name=name,
        namespace=namespace,
        body=dict(manifest),
        order=_ORDER.get(kind, ORDER_DEFAULT),
        secret_paths=secret_paths(manifest),
        path=f"{folder}/{kind.lower()}-{name}.yaml",
        format="yaml",
        labels={"apiVersion": api_version, **(labels or {})},
        scope=context,
    )


def to_resources(
    manifests: Iterable[Mapping[str, Any]], *, context: str | None = None
) -> list[Resource]:
    """Every manifest as a resource; two with one identity are an error naming it."""
    out: list[Resource] = []
    seen: set[str] = set()
    for manifest in manifests:
        res = to_resource(manifest, context=context)
        if res.id in seen:
            raise KubernetesSpecError(res.id, "defined twice")
        seen.add(res.id)
        out.append(res)
    return out

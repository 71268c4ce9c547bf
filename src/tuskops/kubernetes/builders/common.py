"""Labels and metadata every built manifest shares.

Labels follow Kubernetes' recommended set (``app.kubernetes.io/*``); the selector uses only
the two that never change for an app (name and instance), since a Deployment's selector is
immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuskops.kubernetes.spec import AppSpec

MANAGED_BY = "tuskops"


def selector_labels(spec: AppSpec, *, component: str | None = None) -> dict[str, str]:
    """The labels a Deployment selects its pods by (immutable once applied)."""
    labels = {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/instance": spec.name}
    if component is not None:
        labels["app.kubernetes.io/component"] = component
    return labels


def common_labels(spec: AppSpec, *, component: str | None = None) -> dict[str, str]:
    """Selector labels plus the user's labels and ``app.kubernetes.io/managed-by``."""
    labels = {**spec.labels, **selector_labels(spec, component=component)}
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    return labels


def metadata(
    spec: AppSpec,
    name: str | None = None,
    *,
    namespaced: bool = True,
    component: str | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``metadata`` for an object of the app: name (default: the app's), namespace, labels,
    and the app's annotations merged with ``annotations``."""
    meta: dict[str, Any] = {"name": name or spec.name}
    if namespaced:
        meta["namespace"] = spec.namespace
    meta["labels"] = common_labels(spec, component=component)
    merged = {**spec.annotations, **(annotations or {})}
    if merged:
        meta["annotations"] = merged
    return meta

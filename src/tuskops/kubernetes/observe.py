"""Reading usage from the cluster: the I/O side of :mod:`tuskops.kubernetes.metrics`.

* :func:`metrics_status` says whether ``metrics.k8s.io/v1beta1`` can be used, from API group
  discovery (``GET /apis``) and, when the caller may read it, the ``v1beta1.metrics.k8s.io``
  ``APIService`` (an aggregated API stays listed in discovery while its backend is down; its
  ``Available`` condition says so). :func:`pod_usage` and :func:`node_usage` check it first and
  raise :class:`MetricsUnavailableError` with the reason and what to do (install
  metrics-server...) rather than returning an empty table, as ``kubectl top`` does ("Metrics
  API not available"). Checking first also keeps a down metrics backend from answering 503s
  that the client would retry and count against the API server's circuit breaker.
* :func:`service_monitor_available`: whether the Prometheus Operator's ``ServiceMonitor`` CRD
  (``monitoring.coreos.com/v1``) is served, by discovery, to choose between a ServiceMonitor
  and scrape annotations (:mod:`tuskops.kubernetes.builders.monitoring`).
* :func:`collect_samples`: several rounds of pod metrics for :func:`~tuskops.kubernetes.
  metrics.recommend`. metrics-server keeps *no history*: each read is the latest window
  (about 15 s to a minute) only. A recommendation needs samples collected over time, and one
  from a few minutes of collection is low-confidence (VPA's confidence is "days of one sample
  a minute"; the Recommendation carries it). With fewer samples than ``min_samples``,
  ``recommend`` answers ``unknown``, never a number. For real sizing, collect over a day or
  more, or use the VPA recommender itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.metrics import (
    GROUP,
    VERSION,
    MetricsUnavailable,
    NodeUsage,
    UsageSample,
    metrics_unavailable,
    parse_node_metrics,
    parse_pod_metrics,
)

__all__ = [
    "METRICS_API",
    "METRICS_API_SERVICE",
    "SERVICE_MONITOR_API",
    "MetricsUnavailableError",
    "api_groups",
    "collect_samples",
    "metrics_status",
    "node_usage",
    "pod_usage",
    "service_monitor_available",
]

METRICS_API = f"{GROUP}/{VERSION}"
METRICS_API_SERVICE = f"{VERSION}.{GROUP}"
SERVICE_MONITOR_API = "monitoring.coreos.com/v1"


class MetricsUnavailableError(KubernetesError):
    """The metrics API cannot be used; ``detail`` says why and what to do."""

    def __init__(self, detail: MetricsUnavailable) -> None:
        self.detail = detail
        super().__init__(f"metrics API not available: {detail.message}")


class KubeReader(Protocol):
    """The part of :class:`tuskops.kubernetes.cluster.KubeClient` used here."""

    async def list(
        self, api_version: str, kind: str, namespace: str | None = None
    ) -> list[dict[str, Any]]: ...

    async def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None: ...

    async def resource(self, api_version: str, kind: str) -> Any: ...

    async def get_path(self, path: str) -> Any: ...


async def api_groups(kube: KubeReader) -> Mapping[str, Any]:
    """The ``/apis`` discovery document (an ``APIGroupList``)."""
    doc = await kube.get_path("/apis")
    if not isinstance(doc, Mapping):
        raise ClusterError("API group discovery (/apis) answered with no object")
    return doc


async def metrics_status(kube: KubeReader) -> MetricsUnavailable | None:
    """None when ``metrics.k8s.io/v1beta1`` is usable, else why not (see the module)."""
    discovery = await api_groups(kube)
    first = metrics_unavailable(discovery)
    if first is not None:
        return first
    api_service: Mapping[str, Any] | None = None
    try:
        api_service = await kube.get("apiregistration.k8s.io/v1", "APIService", METRICS_API_SERVICE)
    except ClusterError as err:
        # Not allowed to read APIServices (most non-admin users), or no such API: discovery
        # alone decides; the metrics request itself will say if the backend is down.
        if err.status not in (401, 403, 404) and err.reason not in ("UnknownKind", "Forbidden"):
            raise
    return metrics_unavailable(discovery, api_service)


async def _require_metrics(kube: KubeReader) -> None:
    problem = await metrics_status(kube)
    if problem is not None:
        raise MetricsUnavailableError(problem)


def _as_list(items: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return {"apiVersion": METRICS_API, "kind": f"{kind}List", "items": items}


async def pod_usage(kube: KubeReader, namespace: str | None = None) -> list[UsageSample]:
    """The current usage of every container of the pods in ``namespace`` (None: all)."""
    await _require_metrics(kube)
    items = await kube.list(METRICS_API, "PodMetrics", namespace)
    return parse_pod_metrics(_as_list(items, "PodMetrics"))


async def node_usage(kube: KubeReader) -> list[NodeUsage]:
    """The current usage of every node."""
    await _require_metrics(kube)
    items = await kube.list(METRICS_API, "NodeMetrics")
    return parse_node_metrics(_as_list(items, "NodeMetrics"))


async def service_monitor_available(kube: KubeReader) -> bool:
    """Whether ``monitoring.coreos.com/v1`` ``ServiceMonitor`` is served (its CRD installed)."""
    try:
        await kube.resource(SERVICE_MONITOR_API, "ServiceMonitor")
    except ClusterError as err:
        if err.reason == "UnknownKind" or err.status == 404:
            return False
        raise
    return True


async def collect_samples(
    kube: KubeReader,
    namespace: str | None,
    *,
    rounds: int,
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    progress: Callable[[int, int], None] | None = None,
) -> list[UsageSample]:
    """``rounds`` reads of the pod metrics, ``interval`` seconds apart (see the module: short
    collections give low-confidence recommendations). Repeated reads of the same metrics
    window are kept; :func:`~tuskops.kubernetes.metrics.recommend` counts them once."""
    if rounds < 1:
        raise KubernetesError("collect_samples: rounds must be at least 1")
    if interval < 0:
        raise KubernetesError("collect_samples: interval must not be negative")
    await _require_metrics(kube)
    samples: list[UsageSample] = []
    for i in range(rounds):
        if i:
            await sleep(interval)
        items = await kube.list(METRICS_API, "PodMetrics", namespace)
        samples.extend(parse_pod_metrics(_as_list(items, "PodMetrics")))
        if progress is not None:
            progress(i + 1, rounds)
    return samples

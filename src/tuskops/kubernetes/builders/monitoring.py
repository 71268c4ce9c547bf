"""How Prometheus finds the app's metrics: a ServiceMonitor, or scrape annotations.

* :func:`service_monitor`: a ``monitoring.coreos.com/v1`` ``ServiceMonitor`` (Prometheus
  Operator API reference, "ServiceMonitor" and "Endpoint") selecting the app's Service by its
  selector labels in the app's namespace, with one endpoint: the Service port's *name* (a
  ServiceMonitor endpoint names the Service port), ``path`` and ``interval`` from
  ``spec.metrics``.
* :func:`scrape_annotations`: ``prometheus.io/scrape``, ``prometheus.io/port`` and
  ``prometheus.io/path`` for the pod template, read by the conventional ``kubernetes-pods``
  scrape job (Prometheus' example ``prometheus-kubernetes.yml``) when the ServiceMonitor CRD is
  absent. The port is the container port *number*, since that job rewrites the address with it.

The caller decides which to use, by discovering whether ``monitoring.coreos.com/v1`` is served.

Deviation: ``spec.metrics.port`` may be a number; it is resolved to the declared port whose
container port (or Service port) it is, and refused when none matches, because a
ServiceMonitor can only select a port the Service exposes by name.
"""

from __future__ import annotations

from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import metadata, selector_labels
from tuskops.kubernetes.spec import AppSpec, Port

__all__ = ["scrape_annotations", "service_monitor"]


def _metrics_port(spec: AppSpec) -> Port | None:
    if spec.metrics is None:
        return None
    wanted = spec.metrics.port
    for p in spec.ports:
        if wanted in (p.name, p.port, p.service_port):
            return p
    declared = ", ".join(f"{p.name} ({p.port})" for p in spec.ports) or "none"
    raise KubernetesSpecError(
        "app.metrics.port", f"{wanted!r} is not one of the app's ports (declared: {declared})"
    )


def service_monitor(spec: AppSpec) -> dict[str, Any] | None:
    """The app's ServiceMonitor, or None when the spec has no ``metrics``."""
    port = _metrics_port(spec)
    if port is None or spec.metrics is None:
        return None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": metadata(spec),
        "spec": {
            "selector": {"matchLabels": selector_labels(spec)},
            "namespaceSelector": {"matchNames": [spec.namespace]},
            "endpoints": [
                {
                    "port": port.name,
                    "path": spec.metrics.path,
                    "interval": spec.metrics.interval,
                }
            ],
        },
    }


def scrape_annotations(spec: AppSpec) -> dict[str, str]:
    """Pod annotations for annotation-based scraping; empty when the spec has no ``metrics``."""
    port = _metrics_port(spec)
    if port is None or spec.metrics is None:
        return {}
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port.port),
        "prometheus.io/path": spec.metrics.path,
    }

"""Every manifest of an app, from one :class:`~tuskops.kubernetes.spec.AppSpec`.

The order is the apply order (namespace and policy first, workloads, then what routes traffic
to them); each builder returns None or nothing when the spec does not ask for its kind.
"""

from __future__ import annotations

from typing import Any

from tuskops.kubernetes.builders.autoscaling import horizontal_pod_autoscaler
from tuskops.kubernetes.builders.config import config_map, secret
from tuskops.kubernetes.builders.namespace import namespace_objects
from tuskops.kubernetes.builders.networking import ingress, service
from tuskops.kubernetes.builders.policy import network_policies
from tuskops.kubernetes.builders.rbac import rbac
from tuskops.kubernetes.builders.workload import deployment, pod_disruption_budget
from tuskops.kubernetes.spec import AppSpec


def build_app(spec: AppSpec) -> list[dict[str, Any]]:
    """All manifests of ``spec``. With ``metrics``: a ServiceMonitor when the spec asks for one
    (``metrics.service_monitor``: the Prometheus Operator's CRD exists), else scrape
    annotations on the pods."""
    from tuskops.kubernetes.builders.monitoring import scrape_annotations, service_monitor

    workload = deployment(spec)
    if spec.metrics is not None and not spec.metrics.service_monitor:
        template_meta = workload["spec"]["template"].setdefault("metadata", {})
        template_meta.setdefault("annotations", {}).update(scrape_annotations(spec))
    out: list[dict[str, Any] | None] = [
        *namespace_objects(spec),
        *rbac(spec),
        *network_policies(spec),
        config_map(spec),
        secret(spec),
        service(spec),
        workload,
        pod_disruption_budget(spec),
        horizontal_pod_autoscaler(spec),
        ingress(spec),
    ]
    if spec.metrics is not None and spec.metrics.service_monitor:
        out.append(service_monitor(spec))
    return [m for m in out if m is not None]

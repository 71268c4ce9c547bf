"""Test helpers for health and metrics: the metrics API in the emulator, and pod builders.

:func:`register_metrics` adds what metrics-server serves (``metrics.k8s.io/v1beta1``
``PodMetrics`` and ``NodeMetrics``, read-only in a real cluster; stored here with ``put``), the
``v1beta1.metrics.k8s.io`` ``APIService`` with its ``Available`` condition, and ``v1`` Nodes.
:func:`register_kinds` adds workload kinds the emulator lacks by default (StatefulSet,
DaemonSet) and the ServiceMonitor CRD. The builders make Pods, Events and Deployments with the
status a kubelet and controllers would have written (the emulator runs none).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from _support.kube import KubeEmulator, Res

METRICS = "metrics.k8s.io/v1beta1"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def register_metrics(emulator: KubeEmulator, *, available: bool = True) -> None:
    """Serve metrics.k8s.io, its APIService (Available or not) and Nodes."""
    emulator.register(Res(METRICS, "pods", "PodMetrics", True, False))
    emulator.register(Res(METRICS, "nodes", "NodeMetrics", False, False))
    emulator.register(Res("apiregistration.k8s.io/v1", "apiservices", "APIService", False, True))
    emulator.register(Res("v1", "nodes", "Node", False, True))
    condition = (
        {"type": "Available", "status": "True", "reason": "Passed", "message": "all checks passed"}
        if available
        else {
            "type": "Available",
            "status": "False",
            "reason": "FailedDiscoveryCheck",
            "message": "failing or missing response from https://10.96.0.12:443",
        }
    )
    emulator.put(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1"},
            "status": {"conditions": [condition]},
        }
    )


def register_kinds(emulator: KubeEmulator, *, service_monitor: bool = False) -> None:
    """StatefulSets and DaemonSets; the ServiceMonitor CRD when asked."""
    emulator.register(Res("apps/v1", "statefulsets", "StatefulSet", True, True))
    emulator.register(Res("apps/v1", "daemonsets", "DaemonSet", True, True))
    if service_monitor:
        emulator.register(
            Res("monitoring.coreos.com/v1", "servicemonitors", "ServiceMonitor", True, False)
        )


def pod_metrics(
    name: str, containers: dict[str, tuple[str, str]], at: datetime, namespace: str = "default"
) -> dict[str, Any]:
    """A PodMetrics: ``containers`` maps a name to ``(cpu, memory)`` quantities."""
    return {
        "apiVersion": METRICS,
        "kind": "PodMetrics",
        "metadata": {"name": name, "namespace": namespace},
        "timestamp": _ts(at),
        "window": "15s",
        "containers": [
            {"name": c, "usage": {"cpu": cpu, "memory": mem}}
            for c, (cpu, mem) in containers.items()
        ],
    }


def node_metrics(name: str, cpu: str, memory: str, at: datetime) -> dict[str, Any]:
    return {
        "apiVersion": METRICS,
        "kind": "NodeMetrics",
        "metadata": {"name": name},
        "timestamp": _ts(at),
        "window": "20s",
        "usage": {"cpu": cpu, "memory": memory},
    }


def node(name: str, cpu: str, memory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}},
    }


def deployment(
    name: str,
    *,
    namespace: str = "default",
    replicas: int = 1,
    cpu: str | None = "250m",
    memory: str | None = "256Mi",
    paused: bool = False,
) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "web", "image": "example/web:1"}
    if requests:
        container["resources"] = {"requests": requests}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
    }
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _pod(
    deployment_name: str,
    suffix: str,
    at: datetime,
    namespace: str,
    container_status: dict[str, Any],
) -> dict[str, Any]:
    template_hash = "5d8f7c9b6"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{deployment_name}-{template_hash}-{suffix}",
            "namespace": namespace,
            "uid": f"uid-{deployment_name}-{suffix}",
            "creationTimestamp": _ts(at - timedelta(hours=1)),
            "labels": {"app": deployment_name, "pod-template-hash": template_hash},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{deployment_name}-{template_hash}",
                    "uid": f"uid-rs-{deployment_name}",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "web",
                    "image": "example/web:1",
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                }
            ],
        },
        "status": container_status,
    }


def healthy_pod(
    deployment_name: str, at: datetime, *, suffix: str = "abcde", namespace: str = "default"
) -> dict[str, Any]:
    started = _ts(at - timedelta(hours=1))
    return _pod(
        deployment_name,
        suffix,
        at,
        namespace,
        {
            "phase": "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True", "lastTransitionTime": started},
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 0,
                    "image": "example/web:1",
                    "state": {"running": {"startedAt": started}},
                }
            ],
        },
    )


def crashloop_pod(
    deployment_name: str,
    at: datetime,
    *,
    suffix: str = "xyz12",
    namespace: str = "default",
    restarts: int = 5,
    exit_code: int = 1,
    reason: str = "Error",
) -> dict[str, Any]:
    """A pod whose container waits in CrashLoopBackOff after exiting with ``exit_code``."""
    return _pod(
        deployment_name,
        suffix,
        at,
        namespace,
        {
            "phase": "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {
                    "type": "Ready",
                    "status": "False",
                    "lastTransitionTime": _ts(at - timedelta(minutes=50)),
                },
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": False,
                    "restartCount": restarts,
                    "image": "example/web:1",
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 5m0s restarting failed container=web",
                        }
                    },
                    "lastState": {
                        "terminated": {
                            "exitCode": exit_code,
                            "reason": reason,
                            "finishedAt": _ts(at - timedelta(minutes=2)),
                        }
                    },
                }
            ],
        },
    )


def backoff_event(pod: dict[str, Any], at: datetime, *, count: int = 12) -> dict[str, Any]:
    """The kubelet's ``BackOff`` Warning about a pod's ``web`` container."""
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.backoff", "namespace": meta["namespace"]},
        "involvedObject": {
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "fieldPath": "spec.containers{web}",
        },
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container web in pod",
        "count": count,
        "lastTimestamp": _ts(at - timedelta(seconds=30)),
    }

"""The app's HorizontalPodAutoscaler (autoscaling/v2).

Follows https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/:

* ``cpu``/``memory`` are ``Resource`` metrics with an ``Utilization`` target, a percentage of
  the container's *request*. Without a request the HPA cannot compute utilization and takes no
  action for that metric, silently; so a missing request is an error here, naming the field.
* Custom metrics: ``Pods`` and ``External`` with an ``AverageValue`` target, ``Object`` with a
  ``Value`` target and its ``describedObject``
  (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale-walkthrough/#autoscaling-on-multiple-metrics-and-custom-metrics).
* ``behavior`` (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#configurable-scaling-behavior)
  is passed through with its keys in camelCase at every depth (``period_seconds`` becomes
  ``periodSeconds``), after checking the values the API server checks: policy ``type`` Pods or
  Percent, ``value`` > 0, ``periodSeconds`` 1..1800, ``stabilizationWindowSeconds`` 0..3600,
  ``selectPolicy`` Max, Min or Disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import metadata
from tuskops.kubernetes.spec import AppSpec, MetricTarget

__all__ = ["horizontal_pod_autoscaler"]

_RULE_KEYS = {"stabilizationWindowSeconds", "selectPolicy", "policies"}
_POLICY_KEYS = {"type", "value", "periodSeconds"}


def horizontal_pod_autoscaler(spec: AppSpec, *, name: str | None = None) -> dict[str, Any] | None:
    """The app's HPA, or None without ``spec.autoscaling``.

    ``name`` is the HPA's name and the Deployment it scales (default: the app's), for an HPA
    of another track of the app.
    """
    auto = spec.autoscaling
    if auto is None:
        return None
    target = name or spec.name
    metrics: list[dict[str, Any]] = []
    for resource, percent in (("cpu", auto.cpu), ("memory", auto.memory)):
        if percent is None:
            continue
        if resource not in spec.resources.requests:
            raise KubernetesSpecError(
                f"app.autoscaling.{resource}",
                f"a {resource} utilization target is a percentage of the {resource} request: "
                f"set resources.requests.{resource} (without it the HPA cannot compute "
                "utilization and never scales)",
            )
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": resource,
                    "target": {"type": "Utilization", "averageUtilization": percent},
                },
            }
        )
    metrics.extend(_custom(m, i) for i, m in enumerate(auto.metrics))
    body: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": auto.min,
        "maxReplicas": auto.max,
        "metrics": metrics,
    }
    if auto.behavior:
        body["behavior"] = _behavior(auto.behavior)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(spec, target),
        "spec": body,
    }


def _custom(metric: MetricTarget, index: int) -> dict[str, Any]:
    identifier: dict[str, Any] = {"name": metric.name}
    if metric.selector:
        identifier["selector"] = {"matchLabels": dict(metric.selector)}
    if metric.type == "Object":
        described = _described(metric.described or {}, index)
        return {
            "type": "Object",
            "object": {
                "describedObject": described,
                "metric": identifier,
                "target": {"type": "Value", "value": metric.target},
            },
        }
    key = "pods" if metric.type == "Pods" else "external"
    target = {"type": "AverageValue", "averageValue": metric.target}
    return {"type": metric.type, key: {"metric": identifier, "target": target}}


def _described(described: Mapping[str, str], index: int) -> dict[str, str]:
    where = f"app.autoscaling.metrics[{index}].described"
    out: dict[str, str] = {}
    for key, value in described.items():
        camel = _camel(key)
        if camel not in ("apiVersion", "kind", "name"):
            raise KubernetesSpecError(f"{where}.{key}", "unknown key (api_version, kind, name)")
        out[camel] = value
    for required in ("kind", "name"):
        if required not in out:
            raise KubernetesSpecError(f"{where}.{required}", "required")
    return out


def _behavior(behavior: Mapping[str, Any]) -> dict[str, Any]:
    where = "app.autoscaling.behavior"
    out: dict[str, Any] = {}
    for direction, rules in behavior.items():
        key = _camel(direction)
        at = f"{where}.{direction}"
        if key not in ("scaleUp", "scaleDown"):
            raise KubernetesSpecError(at, "expected scale_up or scale_down")
        out[key] = _rules(rules, at)
    return out


def _rules(rules: object, where: str) -> dict[str, Any]:
    if not isinstance(rules, Mapping):
        raise KubernetesSpecError(where, "expected a map")
    out: dict[str, Any] = {}
    for raw_key, value in rules.items():
        key = _camel(str(raw_key))
        at = f"{where}.{raw_key}"
        if key not in _RULE_KEYS:
            raise KubernetesSpecError(at, "unknown key")
        if key == "stabilizationWindowSeconds":
            out[key] = _whole(value, at, 0, 3600)
        elif key == "selectPolicy":
            if value not in ("Max", "Min", "Disabled"):
                raise KubernetesSpecError(at, "must be Max, Min or Disabled")
            out[key] = value
        else:
            if not isinstance(value, list | tuple):
                raise KubernetesSpecError(at, "expected a list of policies")
            out[key] = [_policy(p, f"{at}[{i}]") for i, p in enumerate(value)]
    return out


def _policy(policy: object, where: str) -> dict[str, Any]:
    if not isinstance(policy, Mapping):
        raise KubernetesSpecError(where, "expected a map with type, value, period_seconds")
    out: dict[str, Any] = {}
    for raw_key, value in policy.items():
        key = _camel(str(raw_key))
        at = f"{where}.{raw_key}"
        if key not in _POLICY_KEYS:
            raise KubernetesSpecError(at, "unknown key (type, value, period_seconds)")
        if key == "type":
            if value not in ("Pods", "Percent"):
                raise KubernetesSpecError(at, "must be Pods or Percent")
            out[key] = value
        elif key == "value":
            out[key] = _whole(value, at, 1, None)
        else:
            out[key] = _whole(value, at, 1, 1800)
    for required in ("type", "value", "periodSeconds"):
        if required not in out:
            raise KubernetesSpecError(f"{where}.{required}", "required")
    return out


def _whole(value: object, where: str, low: int, high: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise KubernetesSpecError(where, "expected a whole number")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise KubernetesSpecError(where, f"must be {bound}, got {value}")
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)

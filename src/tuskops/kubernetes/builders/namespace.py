"""The app's namespace when tuskops manages it: Namespace, ResourceQuota, LimitRange.

Built only when the spec has a ``namespace_policy``:

- ``Namespace`` (when ``create``), labelled ``pod-security.kubernetes.io/enforce: restricted``
  and ``enforce-version: v<kubernetes_version>``: Pod Security Admission then rejects any pod
  in the namespace that does not meet the Restricted profile
  (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted). The app's
  own pods meet it with the default ``security`` settings (non-root, no privilege escalation,
  all capabilities dropped, RuntimeDefault seccomp); a spec that loosens them is refused here
  rather than left to fail at admission. The version is pinned so a cluster upgrade does not
  change what is enforced until the spec's version changes. The built-in namespaces
  (``default``, ``kube-*``) are never created or labelled.
- ``ResourceQuota`` ``quota`` with ``hard`` = ``quota``
  (https://kubernetes.io/docs/concepts/policy/resource-quotas/). Without ``quota`` in the
  policy, isolation by default: :func:`default_quota` derives one from the app (twice its
  largest size, in pods and in the resources it requests); ``quota: false`` means none.
- ``LimitRange`` ``limits`` with one ``type: Container`` item (``default``,
  ``defaultRequest``, ``max``, ``min``;
  https://kubernetes.io/docs/concepts/policy/limit-range/). The API server's own check that
  ``min <= defaultRequest <= default <= max`` for each resource is made here too, offline,
  so the mistake names the spec field. Without ``limits``, :func:`default_limits` gives
  containers that declare nothing the app's own requests (so the quota does not refuse them);
  ``limits: false`` means none.

The quota and limits are namespace-wide objects: two apps that manage one namespace would
both produce them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import metadata
from tuskops.kubernetes.quantity import format_cpu, format_memory, parse_quantity
from tuskops.kubernetes.spec import AppSpec

__all__ = ["LIMITS_NAME", "QUOTA_NAME", "namespace_objects"]

QUOTA_NAME = "quota"
LIMITS_NAME = "limits"
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

#: LimitRange fields in the order the API server requires them to be (smallest first).
_LIMIT_ORDER = (("min", "min"), ("default_request", "defaultRequest"),
                ("default", "default"), ("max", "max"))  # fmt: skip


def _check_restricted(spec: AppSpec) -> None:
    """Refuse security settings the Restricted Pod Security profile would reject."""
    s = spec.security
    problems = {
        "run_as_non_root": not s.run_as_non_root,
        "run_as_user": s.run_as_user == 0,
        "allow_privilege_escalation": s.allow_privilege_escalation,
        "seccomp_profile": s.seccomp_profile == "Unconfined",
        "add_capabilities": any(c != "NET_BIND_SERVICE" for c in s.add_capabilities),
    }
    for key, bad in problems.items():
        if bad:
            raise KubernetesSpecError(
                f"app.security.{key}",
                "the namespace enforces the Restricted pod security profile, which forbids this "
                "(set namespace_policy.create: false to manage the namespace yourself)",
            )


def _namespace(spec: AppSpec) -> dict[str, Any]:
    if spec.namespace in BUILT_IN_NAMESPACES:
        raise KubernetesSpecError(
            "app.namespace",
            f"tuskops does not create or label the built-in namespace {spec.namespace!r}: "
            "choose another namespace or set namespace_policy.create: false",
        )
    _check_restricted(spec)
    meta = metadata(spec, spec.namespace, namespaced=False)
    meta["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    meta["labels"]["pod-security.kubernetes.io/enforce-version"] = f"v{spec.kubernetes_version}"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _quota(spec: AppSpec, hard: dict[str, str]) -> dict[str, Any]:
    for key, value in hard.items():
        parse_quantity(value, field=f"app.namespace_policy.quota.{key}")
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(spec, QUOTA_NAME),
        "spec": {"hard": dict(hard)},
    }


def _limit_range(spec: AppSpec, limits: dict[str, dict[str, str]]) -> dict[str, Any]:
    where = "app.namespace_policy.limits"
    values: dict[str, dict[str, Decimal]] = {}
    for key, _ in _LIMIT_ORDER:
        for resource, text in limits.get(key, {}).items():
            field = f"{where}.{key}.{resource}"
            values.setdefault(key, {})[resource] = parse_quantity(text, field=field)
    for i, (low, _) in enumerate(_LIMIT_ORDER):
        for high, _ in _LIMIT_ORDER[i + 1 :]:
            for resource, low_value in values.get(low, {}).items():
                high_value = values.get(high, {}).get(resource)
                if high_value is not None and low_value > high_value:
                    raise KubernetesSpecError(
                        f"{where}.{low}.{resource}",
                        f"{limits[low][resource]} is more than {high} "
                        f"({limits[high][resource]}): must be at most {high}",
                    )
    item: dict[str, Any] = {"type": "Container"}
    for key, api_key in _LIMIT_ORDER:
        if limits.get(key):
            item[api_key] = dict(limits[key])
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(spec, LIMITS_NAME),
        "spec": {"limits": [item]},
    }


def namespace_objects(spec: AppSpec) -> list[dict[str, Any]]:
    """Namespace, ResourceQuota and LimitRange as the namespace policy asks; ``[]`` without
    one. The Namespace comes first, so it can be applied before what lives in it."""
    policy = spec.namespace_policy
    if policy is None:
        return []
    out: list[dict[str, Any]] = []
    if policy.create:
        out.append(_namespace(spec))
    quota = dict(policy.quota) if policy.quota is not None else default_quota(spec)
    if quota:
        out.append(_quota(spec, quota))
    chosen = policy.limits if policy.limits is not None else default_limits(spec)
    limits = {k: dict(v) for k, v in chosen.items() if v}
    if limits:
        out.append(_limit_range(spec, limits))
    return out


#: LimitRange defaults for containers that say nothing, when the app gives no requests either.
FALLBACK_REQUEST = {"cpu": "100m", "memory": "128Mi"}


def _max_replicas(spec: AppSpec) -> int:
    return spec.autoscaling.max if spec.autoscaling is not None else spec.replicas


def default_quota(spec: AppSpec) -> dict[str, str]:
    """Isolation by default: room for twice the app at its largest (a rolling update's surge,
    or a second colour in a blue-green release), in pods and in what its pods request and
    limit. Resources the app does not request are left out, not guessed."""
    room = max(2 * _max_replicas(spec), 4)
    hard = {"pods": str(room)}
    for section, prefix in (
        (spec.resources.requests, "requests"),
        (spec.resources.limits, "limits"),
    ):
        for resource in ("cpu", "memory"):
            value = section.get(resource)
            if value is None:
                continue
            total = parse_quantity(value, field=f"app.resources.{prefix}.{resource}") * room
            hard[f"{prefix}.{resource}"] = (
                format_cpu(total) if resource == "cpu" else format_memory(total)
            )
    return hard


def default_limits(spec: AppSpec) -> dict[str, dict[str, str]]:
    """Defaults for containers that declare no requests or limits, which a quota on
    ``requests.*``/``limits.*`` would otherwise refuse: the app's own requests (or
    :data:`FALLBACK_REQUEST`), and its memory limit (or twice the default memory request)."""
    request = {k: spec.resources.requests.get(k) or v for k, v in FALLBACK_REQUEST.items()}
    memory_limit = spec.resources.limits.get("memory") or format_memory(
        2 * parse_quantity(request["memory"], field="app.resources.requests.memory")
    )
    return {"default_request": request, "default": {"memory": memory_limit}}

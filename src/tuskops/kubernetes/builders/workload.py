"""The app's Deployment (apps/v1) and PodDisruptionBudget (policy/v1).

The Deployment follows the Kubernetes documentation:

* Rolling updates with ``maxSurge``/``maxUnavailable``, ``progressDeadlineSeconds``,
  ``minReadySeconds`` and ``revisionHistoryLimit`` from the spec's strategy
  (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment).
* ``replicas`` is left out when an HPA scales the Deployment
  (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling).
* Secrets reach the container only by ``secretKeyRef`` to ``<name>-secrets`` and config by
  ``configMapKeyRef`` to ``<name>-config`` (:mod:`.config`); the pod template carries a
  checksum of both so a change rolls the pods.
* The security context meets the Pod Security Standards' *restricted* profile by default
  (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted): non-root,
  ``RuntimeDefault`` seccomp, no privilege escalation, every capability dropped.
* Pods spread over zones and nodes when there is more than one
  (https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/),
  preferred (``ScheduleAnyway``) rather than required, so a single-zone cluster still runs them.

Checks the API server makes but the schema cannot (liveness and startup probes'
``successThreshold`` must be 1; no ``CAP_SYS_ADMIN`` without privilege escalation; a name set
both as env and as secret) are made here, naming the spec's field.

Deviation: ``seccomp_profile: Localhost`` is refused, since the spec has no field for the
profile's path that the API requires with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import common_labels, metadata, selector_labels
from tuskops.kubernetes.builders.config import (
    CHECKSUM_ANNOTATION,
    config_checksum,
    config_map_name,
    secret_name,
)
from tuskops.kubernetes.spec import AppSpec, Port, Probe

__all__ = ["deployment", "pod_disruption_budget"]

#: Label keys (optional DNS-subdomain prefix, then a name) and values, as the API checks them.
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

TMP_VOLUME = "tmp"


def deployment(
    spec: AppSpec,
    *,
    name: str | None = None,
    replicas: int | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The app's Deployment.

    ``name``, ``replicas`` and ``extra_labels`` build a second Deployment of the same app (a
    blue-green or canary track): ``extra_labels`` join the selector, the pod labels and the
    Deployment's labels, so two tracks never select each other's pods. The selector is
    immutable once applied: keep ``extra_labels`` fixed for a given ``name``.
    """
    extra = _checked_labels(extra_labels or {})
    own_name = name or spec.name
    selector = {**selector_labels(spec), **extra}
    pod_labels = {**common_labels(spec), **extra}

    meta = metadata(spec, own_name)
    meta["labels"] = {**meta["labels"], **extra}

    template_meta: dict[str, Any] = {"labels": pod_labels}
    checksum = config_checksum(spec)
    if checksum is not None:
        # Env from a ConfigMap/Secret is read at container start only: a new checksum changes
        # the pod template, which makes the Deployment roll the pods onto the new values.
        template_meta["annotations"] = {CHECKSUM_ANNOTATION: checksum}

    body: dict[str, Any] = {}
    count = _replicas(spec, own_name, replicas)
    if count is not None:
        body["replicas"] = count
    body.update(
        {
            "revisionHistoryLimit": spec.strategy.revision_history,
            "progressDeadlineSeconds": spec.strategy.progress_deadline,
            "minReadySeconds": spec.strategy.min_ready,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {
                    "maxSurge": spec.strategy.max_surge,
                    "maxUnavailable": spec.strategy.max_unavailable,
                },
            },
            "template": {"metadata": template_meta, "spec": _pod_spec(spec, selector, count)},
        }
    )
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": body}


def pod_disruption_budget(spec: AppSpec) -> dict[str, Any] | None:
    """The app's PodDisruptionBudget, or None.

    From ``spec.disruption`` when given; otherwise ``minAvailable: 1`` when the app runs more
    than one pod (``replicas`` or the autoscaler's ``min``), so a node drain never takes the
    last one (https://kubernetes.io/docs/tasks/run-application/configure-pdb/). A single pod
    gets none by default: ``minAvailable: 1`` over one pod would block every drain.

    It selects every track of the app (no blue-green labels): the budget is the app's.
    """
    budget: dict[str, Any]
    if spec.disruption is not None:
        if spec.disruption.min_available is not None:
            budget = {"minAvailable": spec.disruption.min_available}
        else:
            budget = {"maxUnavailable": spec.disruption.max_unavailable}
    elif spec.replicas > 1 or (spec.autoscaling is not None and spec.autoscaling.min > 1):
        budget = {"minAvailable": 1}
    else:
        return None
    budget["selector"] = {"matchLabels": selector_labels(spec)}
    if _minor(spec.kubernetes_version) >= 27:
        # Pods that are not Ready do not count towards the budget anyway; letting them be
        # evicted keeps a crash-looping pod from blocking node drains. Beta (on by default)
        # from 1.27: https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy
        budget["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(spec),
        "spec": budget,
    }


# --- the pod ------------------------------------------------------------------------------------


def _replicas(spec: AppSpec, own_name: str, replicas: int | None) -> int | None:
    if replicas is not None:
        if replicas < 0:
            raise KubernetesSpecError("app.replicas", f"must be >= 0, got {replicas}")
        return replicas
    if spec.autoscaling is not None:
        if own_name == spec.name:
            # The HPA owns spec.replicas: a value here would reset the pod count to it on every
            # apply, fighting the autoscaler.
            return None
        # Another track (e.g. "shop-green"): the HPA targets the app's own Deployment by name,
        # so this one needs a count; start where the autoscaler starts.
        return max(spec.replicas, spec.autoscaling.min)
    return spec.replicas


def _pod_spec(spec: AppSpec, selector: Mapping[str, str], count: int | None) -> dict[str, Any]:
    pod: dict[str, Any] = {}
    if spec.permissions:
        pod["serviceAccountName"] = spec.name
        pod["automountServiceAccountToken"] = True
    else:
        # No API access asked for: no token in the pod to steal.
        pod["automountServiceAccountToken"] = False
    pod["securityContext"] = _pod_security(spec)
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": s} for s in spec.image_pull_secrets]
    pod["containers"] = [_container(spec)]
    if spec.security.read_only_root_filesystem:
        # Many runtimes and libraries write temporary files (Python's tempfile, the JVM, nginx):
        # with a read-only root they need a writable /tmp.
        pod["volumes"] = [{"name": TMP_VOLUME, "emptyDir": {}}]
    # No count: the HPA decides, up to its max.
    most = count if count is not None else (spec.autoscaling.max if spec.autoscaling else 1)
    if most > 1:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(selector)},
                # Spread each ReplicaSet (revision) on its own, so a rollout is balanced too.
                "matchLabelKeys": ["pod-template-hash"],
            }
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
        ]
    return pod


def _pod_security(spec: AppSpec) -> dict[str, Any]:
    sec = spec.security
    if sec.seccomp_profile == "Localhost":
        raise KubernetesSpecError(
            "app.security.seccomp_profile",
            "Localhost needs a profile path, which the app spec cannot give; use RuntimeDefault",
        )
    out: dict[str, Any] = {"runAsNonRoot": sec.run_as_non_root}
    if sec.run_as_user is not None:
        out["runAsUser"] = sec.run_as_user
    if sec.run_as_group is not None:
        out["runAsGroup"] = sec.run_as_group
    if sec.fs_group is not None:
        out["fsGroup"] = sec.fs_group
        # Only re-own volume files when the top directory's owner differs: quicker starts.
        out["fsGroupChangePolicy"] = "OnRootMismatch"
    out["seccompProfile"] = {"type": sec.seccomp_profile}
    return out


def _container(spec: AppSpec) -> dict[str, Any]:
    sec = spec.security
    caps = tuple(c.upper().removeprefix("CAP_") for c in sec.add_capabilities)
    if not sec.allow_privilege_escalation and "SYS_ADMIN" in caps:
        # The API server refuses this pair: CAP_SYS_ADMIN implies privilege escalation.
        raise KubernetesSpecError(
            "app.security.add_capabilities",
            "SYS_ADMIN cannot be added while allow_privilege_escalation is false",
        )
    container: dict[str, Any] = {"name": spec.name, "image": spec.image}
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    if spec.ports:
        container["ports"] = [
            {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in spec.ports
        ]
    env = _env(spec)
    if env:
        container["env"] = env
    for kind, probe in (
        ("liveness", spec.liveness),
        ("readiness", spec.readiness),
        ("startup", spec.startup),
    ):
        if probe is not None:
            container[f"{kind}Probe"] = _probe(spec, kind, probe)
    resources = {
        key: dict(value)
        for key, value in (("requests", spec.resources.requests), ("limits", spec.resources.limits))
        if value
    }
    if resources:
        container["resources"] = resources
    capabilities: dict[str, Any] = {"drop": ["ALL"]}
    if caps:
        capabilities["add"] = list(caps)
    container["securityContext"] = {
        "allowPrivilegeEscalation": sec.allow_privilege_escalation,
        "readOnlyRootFilesystem": sec.read_only_root_filesystem,
        "capabilities": capabilities,
    }
    if sec.read_only_root_filesystem:
        container["volumeMounts"] = [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
    return container


def _env(spec: AppSpec) -> list[dict[str, Any]]:
    # Plain values first, in the spec's order: later entries may refer to them as $(NAME).
    env: list[dict[str, Any]] = [{"name": k, "value": str(v)} for k, v in spec.env.items()]
    seen = dict.fromkeys(spec.env, "app.env")
    for key in sorted(spec.config):
        if key in seen:
            raise KubernetesSpecError(f"app.config.{key}", f"also set in {seen[key]}")
        seen[key] = "app.config"
        ref = {"name": config_map_name(spec), "key": key}
        env.append({"name": key, "valueFrom": {"configMapKeyRef": ref}})
    for key in sorted(spec.secrets):
        if key in seen:
            raise KubernetesSpecError(f"app.secrets.{key}", f"also set in {seen[key]}")
        seen[key] = "app.secrets"
        # By reference only: the value never appears in the Deployment.
        ref = {"name": secret_name(spec), "key": key}
        env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
    return env


def _probe(spec: AppSpec, kind: str, probe: Probe) -> dict[str, Any]:
    where = f"app.probes.{kind}"
    out: dict[str, Any]
    if probe.command is not None:
        out = {"exec": {"command": list(probe.command)}}
    elif probe.grpc:
        # grpc.port is a number in the API, not a name: resolve a name to its number.
        out = {"grpc": {"port": _port_number(spec, probe.port, f"{where}.port")}}
    else:
        port = probe.port if probe.port is not None else _first_port(spec, f"{where}.port").name
        if isinstance(port, str) and port not in {p.name for p in spec.ports}:
            raise KubernetesSpecError(f"{where}.port", f"no port named {port!r}")
        if probe.http is not None:
            out = {"httpGet": {"path": probe.http, "port": port}}
        else:
            out = {"tcpSocket": {"port": port}}
    timings = (
        ("initialDelaySeconds", probe.initial_delay),
        ("periodSeconds", probe.period),
        ("timeoutSeconds", probe.timeout),
        ("failureThreshold", probe.failure_threshold),
        ("successThreshold", probe.success_threshold),
    )
    out.update({key: value for key, value in timings if value is not None})
    if kind != "readiness" and probe.success_threshold not in (None, 1):
        raise KubernetesSpecError(
            f"{where}.success_threshold", f"must be 1 for a {kind} probe (the API requires it)"
        )
    return out


def _first_port(spec: AppSpec, where: str) -> Port:
    if not spec.ports:
        raise KubernetesSpecError(where, "required: the app declares no ports")
    return spec.ports[0]


def _port_number(spec: AppSpec, port: str | int | None, where: str) -> int:
    if port is None:
        return _first_port(spec, where).port
    if isinstance(port, int):
        return port
    for p in spec.ports:
        if p.name == port:
            return p.port
    raise KubernetesSpecError(where, f"no port named {port!r}")


def _checked_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or len(key.rpartition("/")[0]) > 253:
            raise KubernetesSpecError(f"extra_labels.{key}", "not a valid label key")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value):
            raise KubernetesSpecError(f"extra_labels.{key}", f"{value!r} is not a label value")
    return dict(labels)


def _minor(version: str) -> int:
    return int(version.split(".")[1])

"""The app spec: a concise description of an application, read from a ``.tsk`` map.

``@kubernetes.app({...})`` takes a map like::

    name: "shop"
    namespace: "shop"
    image: "ghcr.io/acme/shop:1.4.2"
    replicas: 3
    ports: [{ name: "http", port: 8080 }]          # or port: 8080
    env: { LOG_LEVEL: "info" }
    secrets: { DATABASE_URL: @secret(@env("DATABASE_URL")) }
    probes: { readiness: { http: "/ready", port: "http" }, liveness: { http: "/healthz" } }
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } }
    autoscaling: { min: 3, max: 10, cpu: 70 }
    ingress: { host: "shop.example.com", tls: true }
    permissions: [{ resources: ["configmaps"], verbs: ["get", "list", "watch"] }]

:func:`parse_app_spec` checks it and fills :class:`AppSpec`; every problem is a
:class:`~tuskops.errors.KubernetesSpecError` naming the field (``app.probes.liveness.port``),
with a suggestion for a misspelt key. The builders (``tuskops.kubernetes.builders``) turn an
``AppSpec`` into manifests; they never see the raw map.

Keys use snake_case (``max_surge``); Kubernetes' own camelCase spellings are accepted too
(``maxSurge``), since people copy them from manifests.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tuskops.errors import KubernetesSpecError

__all__ = [
    "AppSpec",
    "Autoscaling",
    "DisruptionBudget",
    "Ingress",
    "MetricTarget",
    "NamespacePolicy",
    "PermissionRule",
    "Port",
    "Probe",
    "Resources",
    "Security",
    "ServiceSpec",
    "Strategy",
    "parse_app_spec",
]

#: RFC 1123 label: names of most objects, ports' names (15 chars), namespaces.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: RFC 1123 subdomain: host names, secret names.
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: A quantity: "100m", "0.5", "128Mi", "1e3", "2G".
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")
#: An int-or-percent such as maxSurge: "25%".
PERCENT = re.compile(r"^\d+%$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")

DEFAULT_KUBERNETES_VERSION = "1.33"


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    #: The Service's port, when not the container's.
    service_port: int | None = None


@dataclass(frozen=True)
class Probe:
    """One probe: exactly one of ``http`` (a path), ``tcp`` or ``command``."""

    http: str | None = None
    tcp: bool = False
    command: tuple[str, ...] | None = None
    grpc: bool = False
    #: A port name or number; default: the first port.
    port: str | int | None = None
    initial_delay: int | None = None
    period: int | None = None
    timeout: int | None = None
    failure_threshold: int | None = None
    success_threshold: int | None = None


@dataclass(frozen=True)
class Resources:
    requests: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Strategy:
    max_surge: int | str = "25%"
    max_unavailable: int | str = 0
    #: progressDeadlineSeconds.
    progress_deadline: int = 600
    min_ready: int = 0
    revision_history: int = 10


@dataclass(frozen=True)
class MetricTarget:
    """A custom HPA metric: ``type`` Pods, Object or External, averaged per pod by default."""

    type: Literal["Pods", "Object", "External"]
    name: str
    #: A quantity: the target average (Pods/External) or value (Object).
    target: str
    #: Object metrics: the object described, ``{api_version, kind, name}``.
    described: Mapping[str, str] | None = None
    selector: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Autoscaling:
    min: int
    max: int
    #: Target average utilization, percent of requests.
    cpu: int | None = None
    memory: int | None = None
    metrics: tuple[MetricTarget, ...] = ()
    #: HPA ``behavior`` as written (``scaleUp``/``scaleDown`` with stabilization and policies),
    #: passed through after a shape check.
    behavior: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Ingress:
    host: str
    path: str = "/"
    path_type: Literal["Prefix", "Exact", "ImplementationSpecific"] = "Prefix"
    class_name: str | None = None
    #: The TLS secret's name; None without TLS (``tls: true`` means ``<name>-tls``).
    tls_secret: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    #: The port (name or number) the Ingress sends to; default: the first port.
    port: str | int | None = None


@dataclass(frozen=True)
class ServiceSpec:
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "None"] = "ClusterIP"
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PermissionRule:
    """One RBAC rule the app needs."""

    verbs: tuple[str, ...]
    resources: tuple[str, ...]
    api_groups: tuple[str, ...] = ("",)
    resource_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DisruptionBudget:
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


@dataclass(frozen=True)
class NamespacePolicy:
    """What the app's namespace gets when tuskops manages it."""

    #: Create (and own) the Namespace object.
    create: bool = True
    #: ResourceQuota ``hard`` limits, e.g. ``{"requests.cpu": "4", "pods": "20"}``. None:
    #: derived from the app (see ``builders/namespace.py``); empty (``quota: false``): none.
    quota: Mapping[str, str] | None = None
    #: LimitRange for containers: ``default``, ``default_request``, ``max``, ``min`` maps.
    #: None: derived from the app; empty (``limits: false``): none.
    limits: Mapping[str, Mapping[str, str]] | None = None
    #: Default-deny NetworkPolicy plus the allows the spec implies.
    default_deny: bool = True
    #: Namespaces (by name) whose pods may reach the app's ports (the ingress controller's is
    #: added when there is an ingress).
    allow_from_namespaces: tuple[str, ...] = ()
    #: CIDRs the app may reach besides DNS (and the API server, when it has permissions).
    allow_egress: tuple[str, ...] = ()
    #: The ingress controller's namespace (allowed in when the app has an ingress).
    ingress_namespace: str = "ingress-nginx"


@dataclass(frozen=True)
class Security:
    """The container's securityContext; restrictive by default."""

    run_as_non_root: bool = True
    run_as_user: int | None = None
    run_as_group: int | None = None
    fs_group: int | None = None
    read_only_root_filesystem: bool = True
    allow_privilege_escalation: bool = False
    #: Capabilities added back after dropping ALL.
    add_capabilities: tuple[str, ...] = ()
    seccomp_profile: Literal["RuntimeDefault", "Unconfined", "Localhost"] = "RuntimeDefault"


@dataclass(frozen=True)
class Metrics:
    """Where the app serves Prometheus metrics."""

    port: str | int
    path: str = "/metrics"
    interval: str = "30s"
    #: A Prometheus Operator ServiceMonitor (its CRD must exist in the cluster); otherwise the
    #: pods carry ``prometheus.io/*`` scrape annotations.
    service_monitor: bool = False


@dataclass(frozen=True)
class AppSpec:
    name: str
    image: str
    namespace: str = "default"
    replicas: int = 1
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    ports: tuple[Port, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    #: Secret values (kept in a Secret, given to the container by secretKeyRef).
    secrets: Mapping[str, str] = field(default_factory=dict)
    #: Non-secret config (kept in a ConfigMap, given by configMapKeyRef).
    config: Mapping[str, str] = field(default_factory=dict)
    liveness: Probe | None = None
    readiness: Probe | None = None
    startup: Probe | None = None
    resources: Resources = field(default_factory=Resources)
    strategy: Strategy = field(default_factory=Strategy)
    autoscaling: Autoscaling | None = None
    ingress: Ingress | None = None
    service: ServiceSpec = field(default_factory=ServiceSpec)
    permissions: tuple[PermissionRule, ...] = ()
    #: Grant ``permissions`` cluster-wide (ClusterRole + ClusterRoleBinding): only when asked.
    cluster_permissions: bool = False
    disruption: DisruptionBudget | None = None
    namespace_policy: NamespacePolicy | None = None
    security: Security = field(default_factory=Security)
    metrics: Metrics | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    image_pull_secrets: tuple[str, ...] = ()
    #: The Kubernetes version manifests are validated against ("1.33").
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    #: The kubeconfig context to apply to when a file spans several clusters (None: the
    #: target's context).
    context: str | None = None


# --- reading ------------------------------------------------------------------------------------


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


class _Map:
    """A map being read: values by snake_case key (camelCase accepted), unknown keys refused."""

    def __init__(self, data: object, where: str, allowed: Sequence[str]) -> None:
        if not isinstance(data, Mapping):
            raise KubernetesSpecError(where, f"expected a map, got {_kind(data)}")
        self.where = where
        aliases = {_camel(k): k for k in allowed if "_" in k}
        self.values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = aliases.get(str(raw_key), str(raw_key))
            if key not in allowed:
                close = difflib.get_close_matches(key, [*allowed, *aliases], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise KubernetesSpecError(f"{where}.{raw_key}", f"unknown key{hint}")
            self.values[key] = value

    def at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return self.values.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def text(self, key: str, default: str | None = None, *, pattern: re.Pattern[str] | None = None,
            what: str = "") -> str | None:  # fmt: skip
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise KubernetesSpecError(
                self.at(key), f"expected a non-empty string, got {_kind(value)}"
            )
        if pattern is not None and not pattern.match(value):
            raise KubernetesSpecError(self.at(key), f"{value!r} is not {what}")
        return value

    def req_str(self, key: str, *, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        value = self.text(key, pattern=pattern, what=what)
        if value is None:
            raise KubernetesSpecError(self.at(key), "required")
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0,
            maximum: int | None = None) -> int | None:  # fmt: skip
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise KubernetesSpecError(self.at(key), f"expected a whole number, got {_kind(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise KubernetesSpecError(self.at(key), f"must be {bound}, got {value}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise KubernetesSpecError(self.at(key), f"expected true or false, got {_kind(value)}")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise KubernetesSpecError(self.at(key), "expected a list of strings")
        return tuple(value)

    def string_map(self, key: str, *, keys: re.Pattern[str] | None = None,
                   what: str = "") -> dict[str, str]:  # fmt: skip
        value = self.values.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise KubernetesSpecError(self.at(key), f"expected a map, got {_kind(value)}")
        out: dict[str, str] = {}
        for k, v in value.items():
            if keys is not None and not keys.match(str(k)):
                raise KubernetesSpecError(f"{self.at(key)}.{k}", f"not {what}")
            out[str(k)] = _scalar_text(v, f"{self.at(key)}.{k}")
        return out

    def int_or_percent(self, key: str, default: int | str) -> int | str:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and PERCENT.match(value):
            return value
        raise KubernetesSpecError(self.at(key), f"expected a count or a percentage, got {value!r}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _scalar_text(value: object, where: str) -> str:
    """Env and config values: strings, numbers and booleans, as text (secrets revealed)."""
    reveal = getattr(value, "reveal", None)  # tuskops.core.resource.Sensitive and the like
    if callable(reveal):
        value = reveal()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise KubernetesSpecError(where, f"expected a string, number or boolean, got {_kind(value)}")


def _quantities(m: _Map, key: str) -> dict[str, str]:
    out = m.string_map(key)
    for name, value in out.items():
        if not QUANTITY.match(value):
            raise KubernetesSpecError(f"{m.at(key)}.{name}", f"{value!r} is not a quantity")
    return out


def _ports(m: _Map) -> tuple[Port, ...]:
    if m.has("port") and m.has("ports"):
        raise KubernetesSpecError(m.at("port"), "give either port or ports, not both")
    if m.has("port"):
        number = m.integer("port", minimum=1, maximum=65535)
        assert number is not None
        return (Port("http", number),)
    raw = m.raw("ports")
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise KubernetesSpecError(m.at("ports"), f"expected a list, got {_kind(raw)}")
    ports: list[Port] = []
    for i, item in enumerate(raw):
        where = f"{m.at('ports')}[{i}]"
        if isinstance(item, int) and not isinstance(item, bool):
            item = {"port": item}
        p = _Map(item, where, ["name", "port", "protocol", "service_port"])
        number = p.integer("port", minimum=1, maximum=65535)
        if number is None:
            raise KubernetesSpecError(p.at("port"), "required")
        name = p.text("name", "http" if i == 0 else f"port-{number}", pattern=DNS_LABEL,
                     what="a port name (lower-case letters, digits and '-')")  # fmt: skip
        assert name is not None
        if len(name) > 15:
            raise KubernetesSpecError(p.at("name"), "a port name has at most 15 characters")
        protocol = p.text("protocol", "TCP")
        if protocol not in ("TCP", "UDP", "SCTP"):
            raise KubernetesSpecError(p.at("protocol"), "must be TCP, UDP or SCTP")
        service_port = p.integer("service_port", minimum=1, maximum=65535)
        ports.append(Port(name, number, protocol, service_port))  # type: ignore[arg-type]
    names = [p.name for p in ports]
    for name in names:
        if names.count(name) > 1:
            raise KubernetesSpecError(m.at("ports"), f"port name {name!r} is used twice")
    return tuple(ports)


def _probe(data: object, where: str, ports: tuple[Port, ...]) -> Probe:
    if isinstance(data, str):  # shorthand: an HTTP path
        data = {"http": data}
    p = _Map(data, where, ["http", "tcp", "command", "grpc", "port", "initial_delay", "period",
                           "timeout", "failure_threshold", "success_threshold"])  # fmt: skip
    kinds = [k for k in ("http", "tcp", "command", "grpc") if p.has(k) and p.raw(k) is not False]
    if len(kinds) != 1:
        raise KubernetesSpecError(where, "give exactly one of http, tcp, command, grpc")
    http = p.text("http")
    if http is not None and not http.startswith("/"):
        raise KubernetesSpecError(p.at("http"), "an HTTP probe path starts with '/'")
    command = p.strings("command") if p.has("command") else None
    port = p.raw("port")
    if port is not None:
        if isinstance(port, str):
            if port not in {x.name for x in ports}:
                raise KubernetesSpecError(p.at("port"), f"no port named {port!r}")
        elif not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536):
            raise KubernetesSpecError(p.at("port"), "expected a port name or number")
    elif kinds[0] != "command" and not ports:
        raise KubernetesSpecError(p.at("port"), "required: the app declares no ports")
    return Probe(
        http=http,
        tcp=p.flag("tcp", False),
        command=command,
        grpc=p.flag("grpc", False),
        port=port,
        initial_delay=p.integer("initial_delay"),
        period=p.integer("period", minimum=1),
        timeout=p.integer("timeout", minimum=1),
        failure_threshold=p.integer("failure_threshold", minimum=1),
        success_threshold=p.integer("success_threshold", minimum=1),
    )


def _autoscaling(data: object, where: str, replicas: int) -> Autoscaling:
    a = _Map(data, where, ["min", "max", "cpu", "memory", "metrics", "behavior"])
    low = a.integer("min", replicas, minimum=1)
    high = a.integer("max", minimum=1)
    assert low is not None
    if high is None:
        raise KubernetesSpecError(a.at("max"), "required")
    if high < low:
        raise KubernetesSpecError(a.at("max"), f"must be at least min ({low}), got {high}")
    metrics: list[MetricTarget] = []
    raw_metrics = a.raw("metrics") or []
    if not isinstance(raw_metrics, list | tuple):
        raise KubernetesSpecError(a.at("metrics"), "expected a list")
    for i, item in enumerate(raw_metrics):
        mw = f"{a.at('metrics')}[{i}]"
        m = _Map(item, mw, ["type", "name", "target", "described", "selector"])
        kind = m.text("type", "Pods")
        if kind not in ("Pods", "Object", "External"):
            raise KubernetesSpecError(m.at("type"), "must be Pods, Object or External")
        target = _scalar_text(m.raw("target"), m.at("target")) if m.has("target") else None
        if target is None or not QUANTITY.match(target):
            raise KubernetesSpecError(m.at("target"), "required: a quantity")
        described = m.string_map("described") or None
        if kind == "Object" and not (described and {"kind", "name"} <= set(described)):
            raise KubernetesSpecError(m.at("described"), "an Object metric needs kind and name")
        selector = m.string_map("selector") or None
        name = m.req_str("name")
        metrics.append(MetricTarget(kind, name, target, described, selector))  # type: ignore[arg-type]
    behavior = a.raw("behavior")
    if behavior is not None:
        b = _Map(behavior, a.at("behavior"), ["scale_up", "scale_down"])
        behavior = {_camel(k): v for k, v in b.values.items()}
        for key, value in behavior.items():
            allowed = ["stabilization_window_seconds", "select_policy", "policies"]
            _Map(value, f"{a.at('behavior')}.{key}", allowed)
    cpu = a.integer("cpu", minimum=1)
    memory = a.integer("memory", minimum=1)
    if cpu is None and memory is None and not metrics:
        raise KubernetesSpecError(where, "give a target: cpu, memory or metrics")
    return Autoscaling(low, high, cpu, memory, tuple(metrics), behavior)


def _ingress(data: object, where: str, name: str, ports: tuple[Port, ...]) -> Ingress:
    if isinstance(data, str):
        data = {"host": data}
    i = _Map(data, where, ["host", "path", "path_type", "class_name", "tls", "annotations", "port"])
    host = i.req_str("host", pattern=DNS_SUBDOMAIN, what="a host name")
    path = i.text("path", "/")
    assert path is not None
    if not path.startswith("/"):
        raise KubernetesSpecError(i.at("path"), "an Ingress path starts with '/'")
    path_type = i.text("path_type", "Prefix")
    if path_type not in ("Prefix", "Exact", "ImplementationSpecific"):
        raise KubernetesSpecError(
            i.at("path_type"), "must be Prefix, Exact or ImplementationSpecific"
        )
    tls = i.raw("tls")
    tls_secret: str | None
    if tls is None or tls is False:
        tls_secret = None
    elif tls is True:
        tls_secret = f"{name}-tls"
    elif isinstance(tls, str) and DNS_SUBDOMAIN.match(tls):
        tls_secret = tls
    else:
        raise KubernetesSpecError(i.at("tls"), "expected true, false or a secret name")
    if not ports:
        raise KubernetesSpecError(where, "an ingress needs the app to declare a port")
    return Ingress(host, path, path_type, i.text("class_name"), tls_secret,  # type: ignore[arg-type]
                   i.string_map("annotations"), i.raw("port"))  # fmt: skip


def _permissions(raw: object, where: str) -> tuple[PermissionRule, ...]:
    if not isinstance(raw, list | tuple):
        raise KubernetesSpecError(where, f"expected a list of rules, got {_kind(raw)}")
    rules: list[PermissionRule] = []
    for i, item in enumerate(raw):
        r = _Map(item, f"{where}[{i}]", ["verbs", "resources", "api_groups", "resource_names"])
        verbs = r.strings("verbs")
        resources = r.strings("resources")
        if not verbs:
            raise KubernetesSpecError(r.at("verbs"), "required")
        if not resources:
            raise KubernetesSpecError(r.at("resources"), "required")
        if "*" in verbs or "*" in resources:
            raise KubernetesSpecError(
                f"{where}[{i}]", "wildcards are not least privilege: name the verbs and resources"
            )
        rules.append(PermissionRule(verbs, resources, r.strings("api_groups", ("",)),
                                    r.strings("resource_names")))  # fmt: skip
    return tuple(rules)


def _namespace_policy(data: object, where: str) -> NamespacePolicy:
    if data is True:
        data = {}
    n = _Map(data, where, ["create", "quota", "limits", "default_deny", "allow_from_namespaces",
                           "allow_egress", "ingress_namespace"])  # fmt: skip
    limits: dict[str, dict[str, str]] | None = None
    if n.raw("limits") is False:
        limits = {}
    elif n.has("limits"):
        lm = _Map(n.raw("limits"), n.at("limits"), ["default", "default_request", "max", "min"])
        limits = {k: _quantities(lm, k) for k in lm.values}
    quota: dict[str, str] | None = None
    if n.raw("quota") is False:
        quota = {}
    elif n.has("quota"):
        quota = n.string_map("quota")
    return NamespacePolicy(
        create=n.flag("create", True),
        quota=quota,
        limits=limits,
        default_deny=n.flag("default_deny", True),
        allow_from_namespaces=n.strings("allow_from_namespaces"),
        allow_egress=n.strings("allow_egress"),
        ingress_namespace=n.text("ingress_namespace", "ingress-nginx") or "ingress-nginx",
    )


def _security(data: object, where: str) -> Security:
    s = _Map(data, where, ["run_as_non_root", "run_as_user", "run_as_group", "fs_group",
                           "read_only_root_filesystem", "allow_privilege_escalation",
                           "add_capabilities", "seccomp_profile"])  # fmt: skip
    seccomp = s.text("seccomp_profile", "RuntimeDefault")
    if seccomp not in ("RuntimeDefault", "Unconfined", "Localhost"):
        raise KubernetesSpecError(
            s.at("seccomp_profile"), "must be RuntimeDefault, Unconfined or Localhost"
        )
    return Security(
        run_as_non_root=s.flag("run_as_non_root", True),
        run_as_user=s.integer("run_as_user"),
        run_as_group=s.integer("run_as_group"),
        fs_group=s.integer("fs_group"),
        read_only_root_filesystem=s.flag("read_only_root_filesystem", True),
        allow_privilege_escalation=s.flag("allow_privilege_escalation", False),
        add_capabilities=s.strings("add_capabilities"),
        seccomp_profile=seccomp,  # type: ignore[arg-type]
    )


APP_KEYS = [
    "name", "image", "namespace", "replicas", "command", "args", "port", "ports", "env",
    "secrets", "config", "probes", "resources", "strategy", "autoscaling", "ingress", "service",
    "permissions", "cluster_permissions", "disruption", "namespace_policy", "security",
    "metrics", "labels", "annotations", "image_pull_secrets", "kubernetes_version", "context",
]  # fmt: skip


def parse_app_spec(data: object, where: str = "app") -> AppSpec:
    """Check an app spec map and read it into :class:`AppSpec`; errors name the field."""
    m = _Map(data, where, APP_KEYS)
    name = m.req_str(
        "name", pattern=DNS_LABEL, what="a DNS label (lower-case letters, digits, '-')"
    )
    if len(name) > 47:  # leaves room for suffixes such as "-blue" and "-metrics" (63 max)
        raise KubernetesSpecError(m.at("name"), "at most 47 characters")
    namespace = m.text("namespace", "default", pattern=DNS_LABEL, what="a namespace name")
    image = m.req_str("image")
    if any(c.isspace() for c in image):
        raise KubernetesSpecError(m.at("image"), "an image reference has no spaces")
    replicas = m.integer("replicas", 1)
    ports = _ports(m)
    probes_map = _Map(m.raw("probes") or {}, m.at("probes"), ["liveness", "readiness", "startup"])
    probes = {
        k: _probe(v, probes_map.at(k), ports) for k, v in probes_map.values.items() if v is not None
    }
    res = _Map(m.raw("resources") or {}, m.at("resources"), ["requests", "limits"])
    strategy_keys = ["max_surge", "max_unavailable", "progress_deadline", "min_ready",
                     "revision_history"]  # fmt: skip
    st = _Map(m.raw("strategy") or {}, m.at("strategy"), strategy_keys)
    strategy = Strategy(
        max_surge=st.int_or_percent("max_surge", "25%"),
        max_unavailable=st.int_or_percent("max_unavailable", 0),
        progress_deadline=st.integer("progress_deadline", 600, minimum=1) or 600,
        min_ready=st.integer("min_ready", 0) or 0,
        revision_history=st.integer("revision_history", 10) or 0,
    )
    if strategy.max_surge in (0, "0%") and strategy.max_unavailable in (0, "0%"):
        raise KubernetesSpecError(
            st.at("max_surge"), "max_surge and max_unavailable cannot both be 0"
        )
    svc = _Map(m.raw("service") or {}, m.at("service"), ["type", "annotations"])
    service_type = svc.text("type", "ClusterIP")
    if service_type not in ("ClusterIP", "NodePort", "LoadBalancer", "None"):
        raise KubernetesSpecError(
            svc.at("type"), "must be ClusterIP, NodePort, LoadBalancer or None"
        )
    disruption = None
    if m.has("disruption"):
        d = _Map(m.raw("disruption"), m.at("disruption"), ["min_available", "max_unavailable"])
        if d.has("min_available") == d.has("max_unavailable"):
            raise KubernetesSpecError(
                m.at("disruption"), "give one of min_available, max_unavailable"
            )
        disruption = DisruptionBudget(
            d.int_or_percent("min_available", 0) if d.has("min_available") else None,
            d.int_or_percent("max_unavailable", 0) if d.has("max_unavailable") else None,
        )
    metrics = None
    if m.has("metrics"):
        mm = _Map(
            m.raw("metrics"), m.at("metrics"), ["port", "path", "interval", "service_monitor"]
        )
        port = mm.raw("port") or (ports[0].name if ports else None)
        if port is None:
            raise KubernetesSpecError(mm.at("port"), "required: the app declares no ports")
        metrics = Metrics(
            port,
            mm.text("path", "/metrics") or "/metrics",
            mm.text("interval", "30s") or "30s",
            mm.flag("service_monitor", False),
        )
    version = m.text("kubernetes_version", DEFAULT_KUBERNETES_VERSION)
    assert version is not None
    if not re.match(r"^1\.\d+$", version):
        raise KubernetesSpecError(
            m.at("kubernetes_version"), f"expected a minor version such as '1.33', got {version!r}"
        )
    return AppSpec(
        name=name,
        image=image,
        namespace=namespace or "default",
        replicas=replicas if replicas is not None else 1,
        command=m.strings("command") if m.has("command") else None,
        args=m.strings("args") if m.has("args") else None,
        ports=ports,
        env=m.string_map("env", keys=ENV_NAME, what="an environment variable name"),
        secrets=m.string_map("secrets", keys=ENV_NAME, what="an environment variable name"),
        config=m.string_map("config", keys=ENV_NAME, what="an environment variable name"),
        liveness=probes.get("liveness"),
        readiness=probes.get("readiness"),
        startup=probes.get("startup"),
        resources=Resources(_quantities(res, "requests"), _quantities(res, "limits")),
        strategy=strategy,
        autoscaling=_autoscaling(m.raw("autoscaling"), m.at("autoscaling"), replicas or 1)
        if m.has("autoscaling")
        else None,
        ingress=_ingress(m.raw("ingress"), m.at("ingress"), name, ports)
        if m.has("ingress")
        else None,
        service=ServiceSpec(service_type, svc.string_map("annotations")),  # type: ignore[arg-type]
        permissions=_permissions(m.raw("permissions"), m.at("permissions"))
        if m.has("permissions")
        else (),
        cluster_permissions=m.flag("cluster_permissions", False),
        disruption=disruption,
        namespace_policy=_namespace_policy(m.raw("namespace_policy"), m.at("namespace_policy"))
        if m.has("namespace_policy")
        else None,
        security=_security(m.raw("security") or {}, m.at("security")),
        metrics=metrics,
        labels=m.string_map("labels"),
        annotations=m.string_map("annotations"),
        image_pull_secrets=m.strings("image_pull_secrets"),
        kubernetes_version=version,
        context=m.text("context"),
    )

"""Resource usage from the metrics API, ``top`` rows, and request/limit recommendations.

Reading (``metrics.k8s.io/v1beta1``, served by metrics-server; Kubernetes docs "Resource
metrics pipeline"): a ``PodMetricsList`` holds, per pod, a ``timestamp``, a ``window`` (a Go
duration such as ``"15s"``; the usage is the average over it) and per container ``usage.cpu``
and ``usage.memory`` (the working set) as quantities. :func:`parse_pod_metrics` turns it into
:class:`UsageSample` values (cores and bytes); :func:`parse_node_metrics` does the same for a
``NodeMetricsList``. Errors name the field (``PodMetricsList: items[2].containers[0].usage.cpu``).

``top``: :func:`top_pods` and :func:`top_nodes` build the rows of ``tuskops k8s top`` like
``kubectl top``: per pod (or per container) usage, and, when the pod objects are given, the
percentage of the requests and limits of the running containers (app containers and sidecars);
per node, the percentage of ``status.allocatable``. A percentage whose base is missing is None,
never a guess; a node without metrics is listed with unknown usage, as kubectl does.

Availability: :func:`metrics_unavailable` reads the discovery response (``/apis``, either the
``APIGroupList`` or the aggregated ``APIGroupDiscoveryList``) and optionally the
``v1beta1.metrics.k8s.io`` ``APIService``, and says why the metrics API cannot be used.

Recommendations: :func:`recommend` follows the Vertical Pod Autoscaler recommender
(kubernetes/autoscaler, ``vertical-pod-autoscaler/docs`` and ``pkg/recommender/logic``):

* CPU target: the ``cpu_percentile`` (0.9, VPA's ``--target-cpu-percentile``) of the usage
  samples; memory target: the ``memory_percentile`` (0.9, ``--target-memory-percentile``) of the
  *peaks*, the highest working set of each container instance in each
  ``memory_peak_interval`` (24 h, ``--memory-aggregation-interval``), since what must fit is a
  peak, not an average;
* lower and upper bounds: the 0.5 and 0.95 percentiles, widened by VPA's confidence factor,
  ``upper × (1 + 1/confidence)`` and ``lower × (1 + 0.001/confidence)^-2``, where confidence is
  ``min(span in days, samples / 1440)`` (about "days of one sample a minute");
* a safety margin (``margin``, 0.15: ``--recommendation-margin-fraction``) on all three, then
  floors ``min_cpu`` and ``min_memory``; CPU is rounded up to a millicore, memory to a MiB;
* limits: ``request × cpu_limit_ratio`` (no CPU limit by default, to avoid throttling) and
  ``request × memory_limit_ratio`` (1.0), the memory limit never below the highest observed
  working set plus the margin, so the recommendation does not OOM-kill what was just seen.

Deviations from VPA, said plainly: VPA keeps *decaying histograms* (exponential buckets, a
24 h half-life) built continuously from every sample; that needs a long-running process and is
out of scope. Here the percentiles are nearest-rank percentiles of the samples given (each
sample counts once; VPA weights CPU samples by the request), and there is no OOM bump. With
fewer than ``min_samples`` samples the result is ``unknown``, not a made-up number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any, Literal

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.cost import container_amount, running_containers
from tuskops.kubernetes.quantity import (
    ceil_to,
    format_cpu,
    format_memory,
    parse_quantity,
)

__all__ = [
    "MetricsUnavailable",
    "NodeTop",
    "NodeUsage",
    "PodTop",
    "Recommendation",
    "UsageSample",
    "metrics_unavailable",
    "parse_go_duration",
    "parse_node_metrics",
    "parse_pod_metrics",
    "recommend",
    "recommend_workloads",
    "top_nodes",
    "top_pods",
    "workload_of",
]

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
MIB = Decimal(2**20)
MILLICORE = Decimal("0.001")


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageSample:
    """One container's usage at one time: CPU in cores, memory (working set) in bytes."""

    namespace: str
    pod: str
    container: str
    cpu: Decimal
    memory: Decimal
    timestamp: datetime
    window: timedelta


@dataclass(frozen=True)
class NodeUsage:
    node: str
    cpu: Decimal
    memory: Decimal
    timestamp: datetime
    window: timedelta


_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": Decimal("1e-9"), "us": Decimal("1e-6"), "µs": Decimal("1e-6"), "μs": Decimal("1e-6"),
    "ms": Decimal("1e-3"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600),
}  # fmt: skip


def parse_go_duration(text: str, *, field: str = "duration") -> timedelta:
    """A Go ``time.Duration`` string (``"15s"``, ``"1m0.5s"``, ``"250ms"``, ``"0"``)."""
    if not isinstance(text, str):
        raise KubernetesSpecError(field, f"expected a duration string, got {text!r}")
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return timedelta(0)
    pos = 0
    total = Decimal(0)
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if m is None:
            break
        total += Decimal(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        raise KubernetesSpecError(field, f"{text!r} is not a duration such as '15s' or '1m30s'")
    return timedelta(seconds=float(-total if text.startswith("-") else total))


def _timestamp(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise KubernetesSpecError(field, f"expected an RFC 3339 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise KubernetesSpecError(field, f"{value!r} is not an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _map(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise KubernetesSpecError(field, "expected a map")
    return value


def _items(doc: object, list_kind: str, item_kind: str) -> list[tuple[str, Mapping[str, Any]]]:
    doc = _map(doc, list_kind)
    kind = doc.get("kind")
    if kind == item_kind:
        return [(item_kind, doc)]
    if kind not in (None, list_kind):
        raise KubernetesSpecError(f"{list_kind}: kind", f"expected {list_kind}, got {kind!r}")
    api = doc.get("apiVersion")
    if api not in (None, f"{GROUP}/{VERSION}", f"{GROUP}/v1"):
        raise KubernetesSpecError(f"{list_kind}: apiVersion", f"unexpected {api!r}")
    items = doc.get("items") or []
    if not isinstance(items, list):
        raise KubernetesSpecError(f"{list_kind}: items", "expected a list")
    return [(f"{list_kind}: items[{i}]", _map(it, f"{list_kind}: items[{i}]"))
            for i, it in enumerate(items)]  # fmt: skip


def _usage(item: Mapping[str, Any], where: str) -> tuple[Decimal, Decimal]:
    usage = _map(item.get("usage"), f"{where}.usage")
    out = []
    for resource in ("cpu", "memory"):
        if resource not in usage:
            raise KubernetesSpecError(f"{where}.usage.{resource}", "missing")
        out.append(parse_quantity(usage[resource], field=f"{where}.usage.{resource}"))
    return out[0], out[1]


def parse_pod_metrics(doc: Mapping[str, Any]) -> list[UsageSample]:
    """The samples of a ``PodMetricsList`` (or one ``PodMetrics``), one per container."""
    samples = []
    for where, item in _items(doc, "PodMetricsList", "PodMetrics"):
        meta = _map(item.get("metadata"), f"{where}.metadata")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise KubernetesSpecError(f"{where}.metadata.name", "missing")
        namespace = str(meta.get("namespace") or "default")
        ts = _timestamp(item.get("timestamp"), f"{where}.timestamp")
        window = parse_go_duration(item.get("window", "0"), field=f"{where}.window")
        containers = item.get("containers") or []
        if not isinstance(containers, list):
            raise KubernetesSpecError(f"{where}.containers", "expected a list")
        for j, c in enumerate(containers):
            cw = f"{where}.containers[{j}]"
            c = _map(c, cw)
            cpu, memory = _usage(c, cw)
            samples.append(
                UsageSample(namespace, name, str(c.get("name", "")), cpu, memory, ts, window)
            )
    return samples


def parse_node_metrics(doc: Mapping[str, Any]) -> list[NodeUsage]:
    """The usage of each node in a ``NodeMetricsList`` (or one ``NodeMetrics``)."""
    out = []
    for where, item in _items(doc, "NodeMetricsList", "NodeMetrics"):
        meta = _map(item.get("metadata"), f"{where}.metadata")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise KubernetesSpecError(f"{where}.metadata.name", "missing")
        cpu, memory = _usage(item, where)
        ts = _timestamp(item.get("timestamp"), f"{where}.timestamp")
        window = parse_go_duration(item.get("window", "0"), field=f"{where}.window")
        out.append(NodeUsage(name, cpu, memory, ts, window))
    return out


# --- availability -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsUnavailable:
    """Why ``metrics.k8s.io`` cannot be used; ``message`` says what to do."""

    reason: Literal["NotServed", "VersionNotServed", "NotAvailable"]
    message: str


def _groups(discovery: Mapping[str, Any]) -> dict[str, list[str]]:
    """Group name -> versions, from an ``APIGroupList`` or an ``APIGroupDiscoveryList``."""
    out: dict[str, list[str]] = {}
    for g in discovery.get("groups") or []:  # APIGroupList
        if isinstance(g, Mapping) and "name" in g:
            out[str(g["name"])] = [str(v.get("version")) for v in g.get("versions") or []
                                   if isinstance(v, Mapping)]  # fmt: skip
    for g in discovery.get("items") or []:  # apidiscovery.k8s.io APIGroupDiscoveryList
        if isinstance(g, Mapping):
            name = (g.get("metadata") or {}).get("name")
            if name is not None:
                out[str(name)] = [str(v.get("version")) for v in g.get("versions") or []
                                  if isinstance(v, Mapping)]  # fmt: skip
    return out


def metrics_unavailable(
    discovery: Mapping[str, Any], api_service: Mapping[str, Any] | None = None
) -> MetricsUnavailable | None:
    """None when ``metrics.k8s.io/v1beta1`` is served and Available, else why not.

    ``discovery`` is the ``/apis`` response; ``api_service`` the ``v1beta1.metrics.k8s.io``
    APIService (``apiregistration.k8s.io/v1``) when the caller could read it. An aggregated API
    that is registered but whose backend is down stays in discovery (in the aggregated form
    with ``freshness: Stale``), so its ``Available`` condition decides.
    """
    groups = _groups(_map(discovery, "discovery"))
    if GROUP not in groups:
        return MetricsUnavailable(
            "NotServed", f"{GROUP} is not served: install metrics-server "
            "(https://github.com/kubernetes-sigs/metrics-server)"
        )  # fmt: skip
    if VERSION not in groups[GROUP]:
        served = ", ".join(groups[GROUP]) or "none"
        return MetricsUnavailable(
            "VersionNotServed", f"{GROUP} serves {served}, not {VERSION}: upgrade metrics-server"
        )
    for g in discovery.get("items") or []:
        if isinstance(g, Mapping) and (g.get("metadata") or {}).get("name") == GROUP:
            stale = [v for v in g.get("versions") or [] if isinstance(v, Mapping)
                     and v.get("version") == VERSION and v.get("freshness") == "Stale"]  # fmt: skip
            if stale:
                return MetricsUnavailable(
                    "NotAvailable",
                    f"{GROUP}/{VERSION} is registered but its discovery is stale: "
                    "check the metrics-server pods",
                )
    if api_service is not None:
        conditions = (api_service.get("status") or {}).get("conditions") or []
        found = [c for c in conditions if isinstance(c, Mapping) and c.get("type") == "Available"]
        available = found[0] if found else None
        if available is None or available.get("status") != "True":
            detail = ""
            if available is not None:
                detail = f" ({available.get('reason', '')}: {available.get('message', '')})"
            elif not conditions:
                detail = " (no status yet)"
            return MetricsUnavailable(
                "NotAvailable",
                f"{GROUP} is registered but not Available{detail}: "
                "check the metrics-server pods and its APIService",
            )
    return None


# --- top ----------------------------------------------------------------------------------------


def _percent(used: Decimal | None, base: Decimal | None) -> float | None:
    if used is None or base is None or base <= 0:
        return None
    return float(used * 100 / base)


@dataclass(frozen=True)
class PodTop:
    """A row of ``top pods``: a pod (``container`` None) or one of its containers."""

    namespace: str
    pod: str
    container: str | None
    cpu: Decimal
    memory: Decimal
    #: Requests and limits of the row's running containers; None when not all are set or the
    #: pod object was not given.
    cpu_request: Decimal | None = None
    cpu_limit: Decimal | None = None
    memory_request: Decimal | None = None
    memory_limit: Decimal | None = None
    problems: tuple[str, ...] = ()

    @property
    def cpu_of_request(self) -> float | None:
        return _percent(self.cpu, self.cpu_request)

    @property
    def cpu_of_limit(self) -> float | None:
        return _percent(self.cpu, self.cpu_limit)

    @property
    def memory_of_request(self) -> float | None:
        return _percent(self.memory, self.memory_request)

    @property
    def memory_of_limit(self) -> float | None:
        return _percent(self.memory, self.memory_limit)


def _latest(samples: Iterable[UsageSample]) -> dict[tuple[str, str, str], UsageSample]:
    latest: dict[tuple[str, str, str], UsageSample] = {}
    for s in samples:
        key = (s.namespace, s.pod, s.container)
        if key not in latest or s.timestamp > latest[key].timestamp:
            latest[key] = s
    return latest


def _sum_amounts(
    containers: Sequence[tuple[str, Any]], kind: Literal["requests", "limits"], resource: str
) -> Decimal | None:
    total = Decimal(0)
    for where, c in containers:
        amount = container_amount(c, kind, resource, where)
        if amount is None:
            return None
        total += amount
    return total


def _pod_key(pod: Mapping[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name", ""))


SortKey = Literal["cpu", "memory", "name"]


def _sort_key(by: SortKey) -> Any:
    if by == "cpu":
        return lambda r: (-r.cpu, -r.memory, *_names(r))
    if by == "memory":
        return lambda r: (-r.memory, -r.cpu, *_names(r))
    if by == "name":
        return _names
    raise KubernetesSpecError("sort_by", f"expected cpu, memory or name, got {by!r}")


def _names(r: PodTop | NodeTop) -> tuple[str, ...]:
    if isinstance(r, NodeTop):
        return (r.node,)
    return (r.namespace, r.pod, r.container or "")


def top_pods(
    samples: Iterable[UsageSample],
    pods: Iterable[Mapping[str, Any]] | None = None,
    *,
    containers: bool = False,
    sort_by: SortKey = "cpu",
) -> list[PodTop]:
    """``top pods`` rows from the latest sample of each container, highest usage first.

    ``pods`` are Pod objects (``v1``); with them each row carries the requests and limits of
    its running containers, so the usage can be read as a percentage of them.
    """
    order = _sort_key(sort_by)
    specs = {_pod_key(p): p for p in pods or ()}
    have_specs = pods is not None
    grouped: dict[tuple[str, str], list[UsageSample]] = {}
    for s in _latest(samples).values():
        grouped.setdefault((s.namespace, s.pod), []).append(s)
    rows: list[PodTop] = []
    for (namespace, pod), group in grouped.items():
        obj = specs.get((namespace, pod))
        running: list[tuple[str, Any]] = []
        problems: tuple[str, ...] = ()
        if obj is not None:
            running = running_containers(obj.get("spec") or {}, f"Pod/{namespace}/{pod}: spec")
        elif have_specs:
            problems = ("pod object not given (deleted?): requests and limits unknown",)
        by_name = {str(c.get("name", "")): (w, c) for w, c in running}
        if containers:
            for s in group:
                chosen = [by_name[s.container]] if s.container in by_name else []
                rows.append(_top_row(namespace, pod, s.container, s.cpu, s.memory, chosen,
                                     obj is not None, problems))  # fmt: skip
        else:
            cpu = sum((s.cpu for s in group), Decimal(0))
            memory = sum((s.memory for s in group), Decimal(0))
            rows.append(_top_row(namespace, pod, None, cpu, memory, running, obj is not None,
                                 problems))  # fmt: skip
    rows.sort(key=order)
    return rows


def _top_row(
    namespace: str,
    pod: str,
    container: str | None,
    cpu: Decimal,
    memory: Decimal,
    running: Sequence[tuple[str, Any]],
    known: bool,
    problems: tuple[str, ...],
) -> PodTop:
    if not known or not running:
        if known and container is not None:
            problems = (*problems, f"container {container!r} is not in the pod's spec")
        return PodTop(namespace, pod, container, cpu, memory, problems=problems)
    return PodTop(
        namespace, pod, container, cpu, memory,
        _sum_amounts(running, "requests", "cpu"), _sum_amounts(running, "limits", "cpu"),
        _sum_amounts(running, "requests", "memory"), _sum_amounts(running, "limits", "memory"),
        problems,
    )  # fmt: skip


@dataclass(frozen=True)
class NodeTop:
    """A row of ``top nodes``; usage None when the node has no metrics."""

    node: str
    cpu: Decimal | None
    memory: Decimal | None
    cpu_allocatable: Decimal | None = None
    memory_allocatable: Decimal | None = None
    problems: tuple[str, ...] = ()

    @property
    def cpu_percent(self) -> float | None:
        return _percent(self.cpu, self.cpu_allocatable)

    @property
    def memory_percent(self) -> float | None:
        return _percent(self.memory, self.memory_allocatable)


def top_nodes(
    usage: Iterable[NodeUsage],
    nodes: Iterable[Mapping[str, Any]] | None = None,
    *,
    sort_by: SortKey = "cpu",
) -> list[NodeTop]:
    """``top nodes`` rows: usage and, with the Node objects, percentages of allocatable.

    A node that is given but has no metrics is listed with unknown usage, after the others.
    """
    _sort_key(sort_by)
    latest: dict[str, NodeUsage] = {}
    for u in usage:
        if u.node not in latest or u.timestamp > latest[u.node].timestamp:
            latest[u.node] = u
    allocatable: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for n in nodes or ():
        name = str((n.get("metadata") or {}).get("name", ""))
        alloc = (n.get("status") or {}).get("allocatable") or {}
        where = f"Node/{name}: status.allocatable"
        allocatable[name] = (
            parse_quantity(alloc["cpu"], field=f"{where}.cpu") if "cpu" in alloc else None,
            parse_quantity(alloc["memory"], field=f"{where}.memory") if "memory" in alloc else None,
        )
    rows: list[NodeTop] = []
    for name, u in latest.items():
        cpu_a, mem_a = allocatable.get(name, (None, None))
        problems = () if name in allocatable or nodes is None else ("node object not given",)
        rows.append(NodeTop(name, u.cpu, u.memory, cpu_a, mem_a, problems))
    missing = [
        NodeTop(name, None, None, cpu_a, mem_a, ("no metrics for this node",))
        for name, (cpu_a, mem_a) in allocatable.items()
        if name not in latest
    ]

    def key(r: NodeTop) -> tuple[Any, ...]:
        cpu, memory = r.cpu or Decimal(0), r.memory or Decimal(0)
        if sort_by == "cpu":
            return (-cpu, -memory, r.node)
        if sort_by == "memory":
            return (-memory, -cpu, r.node)
        return (r.node,)

    rows.sort(key=key)
    missing.sort(key=lambda r: r.node)
    return rows + missing


# --- recommendations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """Requests and limits for one container, or ``status == "unknown"`` and why.

    Amounts are cores and bytes; bounds are the VPA-style lower and upper bounds of the request
    (``cpu_upper`` None when all samples are from one instant: no confidence at all).
    """

    status: Literal["ok", "unknown"]
    reason: str
    samples: int
    span: timedelta
    #: VPA's confidence: about the number of days of one sample a minute.
    confidence: float
    cpu_request: Decimal | None = None
    memory_request: Decimal | None = None
    cpu_limit: Decimal | None = None
    memory_limit: Decimal | None = None
    cpu_lower: Decimal | None = None
    cpu_upper: Decimal | None = None
    memory_lower: Decimal | None = None
    memory_upper: Decimal | None = None
    #: The highest usage seen.
    cpu_peak: Decimal | None = None
    memory_peak: Decimal | None = None

    def requests(self) -> dict[str, str]:
        """``{"cpu": "250m", "memory": "128Mi"}``; empty when unknown."""
        return self._format(self.cpu_request, self.memory_request)

    def limits(self) -> dict[str, str]:
        return self._format(self.cpu_limit, self.memory_limit)

    @staticmethod
    def _format(cpu: Decimal | None, memory: Decimal | None) -> dict[str, str]:
        out = {}
        if cpu is not None:
            out["cpu"] = format_cpu(cpu)
        if memory is not None:
            out["memory"] = format_memory(memory)
        return out


def _fraction(value: float | Decimal, name: str, *, low: float, high: float | None) -> Decimal:
    d = Decimal(str(value))
    if not d.is_finite() or d < Decimal(str(low)) or (high is not None and d > Decimal(str(high))):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise KubernetesSpecError(f"recommend.{name}", f"must be {bound}, got {value}")
    return d


def _percentile(values: Sequence[Decimal], p: Decimal) -> Decimal:
    """Nearest-rank percentile: the smallest value with at least ``p`` of the values <= it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]


def recommend(
    samples: Sequence[UsageSample],
    *,
    cpu_percentile: float = 0.9,
    memory_percentile: float = 0.9,
    lower_percentile: float = 0.5,
    upper_percentile: float = 0.95,
    margin: float = 0.15,
    min_cpu: str = "10m",
    min_memory: str = "16Mi",
    cpu_limit_ratio: float | None = None,
    memory_limit_ratio: float | None = 1.0,
    min_samples: int = 10,
    memory_peak_interval: timedelta = timedelta(hours=24),
) -> Recommendation:
    """Requests and limits for one container from its usage samples (see the module).

    ``samples`` are one container's (same name, same workload; any number of pods): group them
    first, e.g. with :func:`recommend_workloads`. Duplicate samples (same pod, container and
    timestamp, as when the API is polled faster than metrics-server scrapes) count once.
    """
    p_cpu = _fraction(cpu_percentile, "cpu_percentile", low=0.01, high=1)
    p_mem = _fraction(memory_percentile, "memory_percentile", low=0.01, high=1)
    p_low = _fraction(lower_percentile, "lower_percentile", low=0.01, high=1)
    p_up = _fraction(upper_percentile, "upper_percentile", low=0.01, high=1)
    safety = 1 + _fraction(margin, "margin", low=0, high=None)
    cpu_ratio = (
        None if cpu_limit_ratio is None
        else _fraction(cpu_limit_ratio, "cpu_limit_ratio", low=1, high=None)
    )  # fmt: skip
    mem_ratio = (
        None if memory_limit_ratio is None
        else _fraction(memory_limit_ratio, "memory_limit_ratio", low=1, high=None)
    )  # fmt: skip
    floor_cpu = parse_quantity(min_cpu, field="recommend.min_cpu")
    floor_mem = parse_quantity(min_memory, field="recommend.min_memory")
    if memory_peak_interval <= timedelta(0):
        raise KubernetesSpecError("recommend.memory_peak_interval", "must be positive")

    unique = list({(s.namespace, s.pod, s.container, s.timestamp): s for s in samples}.values())
    n = len(unique)
    if n == 0:
        return Recommendation("unknown", "no usage samples", 0, timedelta(0), 0.0)
    first = min(s.timestamp for s in unique)
    span = max(s.timestamp for s in unique) - first
    confidence = min(span / timedelta(days=1), n / (60 * 24))
    if n < min_samples:
        return Recommendation(
            "unknown", f"{n} usage sample(s), fewer than {min_samples}: too few to recommend",
            n, span, confidence,
        )  # fmt: skip

    cpu = [s.cpu for s in unique]
    peaks: dict[tuple[str, str, int], Decimal] = {}
    for s in unique:
        key = (s.namespace, s.pod, int((s.timestamp - first) // memory_peak_interval))
        peaks[key] = max(peaks.get(key, s.memory), s.memory)
    memory = list(peaks.values())

    upper_factor: Decimal | None
    if confidence > 0:
        upper_factor = Decimal(repr(1 + 1 / confidence))
        lower_factor = Decimal(repr((1 + 0.001 / confidence) ** -2))
    else:
        upper_factor, lower_factor = None, Decimal(0)

    def shaped(value: Decimal, floor: Decimal, step: Decimal) -> Decimal:
        with localcontext(prec=50):
            return ceil_to(max(value * safety, floor), step)

    with localcontext(prec=50):
        cpu_request = shaped(_percentile(cpu, p_cpu), floor_cpu, MILLICORE)
        mem_request = shaped(_percentile(memory, p_mem), floor_mem, MIB)
        cpu_lower = shaped(_percentile(cpu, p_low) * lower_factor, floor_cpu, MILLICORE)
        mem_lower = shaped(_percentile(memory, p_low) * lower_factor, floor_mem, MIB)
        cpu_upper = mem_upper = None
        if upper_factor is not None:
            cpu_upper = shaped(_percentile(cpu, p_up) * upper_factor, floor_cpu, MILLICORE)
            mem_upper = shaped(_percentile(memory, p_up) * upper_factor, floor_mem, MIB)
        cpu_peak, mem_peak = max(cpu), max(memory)
        cpu_limit = None if cpu_ratio is None else ceil_to(cpu_request * cpu_ratio, MILLICORE)
        mem_limit = None
        if mem_ratio is not None:
            mem_limit = ceil_to(max(mem_request * mem_ratio, mem_peak * safety), MIB)
    reason = f"{n} samples over {span}"
    if upper_factor is None:
        reason += "; all at one instant, so no upper bound"
    return Recommendation(
        "ok", reason, n, span, confidence, cpu_request, mem_request, cpu_limit, mem_limit,
        cpu_lower, cpu_upper, mem_lower, mem_upper, cpu_peak, mem_peak,
    )  # fmt: skip


def workload_of(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, name)`` of the workload owning a Pod: a ReplicaSet's Deployment when the
    ReplicaSet's name is the Deployment's plus the ``pod-template-hash``; None for a bare pod."""
    meta = pod.get("metadata") or {}
    owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
    if not owners:
        return None
    kind, name = str(owners[0].get("kind", "")), str(owners[0].get("name", ""))
    template_hash = (meta.get("labels") or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
        return "Deployment", name.removesuffix(f"-{template_hash}")
    return kind, name


def recommend_workloads(
    samples: Iterable[UsageSample], pods: Iterable[Mapping[str, Any]], **options: Any
) -> dict[tuple[str, str, str, str], Recommendation]:
    """A :func:`recommend` per ``(namespace, workload kind, workload name, container)``.

    Pods are matched to workloads by their controller (:func:`workload_of`); samples of pods
    not given, or without a controller, are grouped under the pod itself (kind ``Pod``).
    """
    owners = {}
    for p in pods:
        owner = workload_of(p)
        if owner is not None:
            owners[_pod_key(p)] = owner
    groups: dict[tuple[str, str, str, str], list[UsageSample]] = {}
    for s in samples:
        kind, name = owners.get((s.namespace, s.pod), ("Pod", s.pod))
        groups.setdefault((s.namespace, kind, name, s.container), []).append(s)
    return {key: recommend(group, **options) for key, group in sorted(groups.items())}

"""Monthly cost of workloads from their resource *requests*, per workload and per namespace.

What a pod reserves is what the cluster must provide, whether or not it is used, so cost is
priced on requests: ``replicas × pod request × hours × price`` for CPU (core-hours) and memory
(GiB-hours, 2^30 bytes), with 730 hours a month by default (365 × 24 / 12). Prices are given,
never assumed: tuskops does not know what a cluster costs.

A pod's request is its *effective request* as the scheduler computes it (Kubernetes docs,
"Init Containers: Resource sharing within containers", and "Sidecar Containers: Resource
sharing"; ``k8s.io/component-helpers/resource.PodRequests``):

* app containers' requests are summed; sidecars (init containers with ``restartPolicy:
  Always``) run beside them and are added to that sum;
* each ordinary init container needs its own request plus the sidecars started before it; the
  largest of these is the effective init request;
* the pod's request is the larger of the two, plus ``spec.overhead`` (RuntimeClass);
* a pod-level ``spec.resources.requests`` (KEP-2837) replaces the containers' sum for that
  resource;
* a container with a limit and no request gets a request equal to the limit (API defaulting).

An app container or sidecar with no request for CPU or memory makes that resource's cost
*unknown*, not zero: the row says ``no requests: cost unknown`` and the totals say they are
incomplete. (The scheduler counts a missing request as 0, which is exactly why such pods cost
more than they appear to.) An ordinary init container without a request counts as 0, as it
does for the scheduler, since it has finished before the pod's steady state. LimitRange
defaults applied at admission are not simulated: pass the live objects to see them.

Per-node-shape pricing: a workload whose pod template selects a node shape by
``nodeSelector`` (``node.kubernetes.io/instance-type`` by default) is priced with that shape's
:class:`Prices`; :func:`prices_for_node` derives them from a node's hourly price by splitting it
between CPU and memory in the proportion of the base prices (the approach OpenCost documents
for its CPU/RAM split), so that a full node's requests cost exactly the node. Node affinity is
not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Literal

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.quantity import parse_quantity

__all__ = [
    "NO_REQUESTS",
    "CostReport",
    "NamespaceCost",
    "PodRequests",
    "Prices",
    "WorkloadCost",
    "WorkloadPods",
    "container_amount",
    "monthly_costs",
    "pod_requests",
    "prices_for_node",
    "running_containers",
    "workload_pods",
]

Resource = Literal["cpu", "memory"]
RESOURCES: tuple[Resource, ...] = ("cpu", "memory")
GIB = Decimal(2**30)
HOURS_PER_MONTH = Decimal(730)
NO_REQUESTS = "no requests: cost unknown"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


# --- effective requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class PodRequests:
    """A pod's effective requests; ``None`` for a resource some running container omits."""

    cpu: Decimal | None
    memory: Decimal | None
    #: What is missing, e.g. ``container 'app' has no cpu request``.
    missing: tuple[str, ...] = ()
    #: The requests counting a missing one as 0, as the scheduler does (a lower bound).
    scheduled_cpu: Decimal = Decimal(0)
    scheduled_memory: Decimal = Decimal(0)

    def get(self, resource: Resource) -> Decimal | None:
        return self.cpu if resource == "cpu" else self.memory


def _map(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KubernetesSpecError(where, "expected a map")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise KubernetesSpecError(where, "expected a list")
    return value


def container_amount(
    container: Mapping[str, Any], kind: Literal["requests", "limits"], resource: str, where: str
) -> Decimal | None:
    """A container's request or limit for ``resource``; a missing request defaults to the limit."""
    resources = _map(container.get("resources"), f"{where}.resources")
    values = _map(resources.get(kind), f"{where}.resources.{kind}")
    if resource in values:
        return parse_quantity(values[resource], field=f"{where}.resources.{kind}.{resource}")
    if kind == "requests":
        limits = _map(resources.get("limits"), f"{where}.resources.limits")
        if resource in limits:
            return parse_quantity(limits[resource], field=f"{where}.resources.limits.{resource}")
    return None


def _is_sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def running_containers(pod_spec: Mapping[str, Any], where: str = "spec") -> list[tuple[str, Any]]:
    """``(field path, container)`` for the containers running in a pod's steady state: the app
    containers and the sidecars."""
    out = [
        (f"{where}.containers[{i}]", c)
        for i, c in enumerate(_list(pod_spec.get("containers"), f"{where}.containers"))
    ]
    for i, c in enumerate(_list(pod_spec.get("initContainers"), f"{where}.initContainers")):
        if isinstance(c, Mapping) and _is_sidecar(c):
            out.append((f"{where}.initContainers[{i}]", c))
    return out


def pod_requests(pod_spec: Mapping[str, Any], where: str = "spec") -> PodRequests:
    """The effective CPU (cores) and memory (bytes) requests of a pod spec (see the module)."""
    pod_spec = _map(pod_spec, where)
    containers = _list(pod_spec.get("containers"), f"{where}.containers")
    inits = _list(pod_spec.get("initContainers"), f"{where}.initContainers")
    overhead = _map(pod_spec.get("overhead"), f"{where}.overhead")
    pod_level = _map(_map(pod_spec.get("resources"), f"{where}.resources").get("requests"),
                     f"{where}.resources.requests")  # fmt: skip
    result: dict[str, Decimal | None] = {}
    scheduled: dict[str, Decimal] = {}
    missing: list[str] = []
    for resource in RESOURCES:
        total = Decimal(0)
        unknown: list[str] = []
        for i, c in enumerate(containers):
            c = _map(c, f"{where}.containers[{i}]")
            amount = container_amount(c, "requests", resource, f"{where}.containers[{i}]")
            if amount is None:
                unknown.append(f"container {c.get('name', i)!r} has no {resource} request")
            total += amount or 0
        sidecars = Decimal(0)
        init_peak = Decimal(0)
        for i, c in enumerate(inits):
            c = _map(c, f"{where}.initContainers[{i}]")
            amount = container_amount(c, "requests", resource, f"{where}.initContainers[{i}]")
            if _is_sidecar(c):
                if amount is None:
                    unknown.append(f"sidecar {c.get('name', i)!r} has no {resource} request")
                total += amount or 0
                sidecars += amount or 0
                init_peak = max(init_peak, sidecars)
            else:
                init_peak = max(init_peak, (amount or 0) + sidecars)
        floor = max(total, init_peak)
        if resource in pod_level:
            floor = parse_quantity(
                pod_level[resource], field=f"{where}.resources.requests.{resource}"
            )
            unknown = []
        if resource in overhead:
            floor += parse_quantity(overhead[resource], field=f"{where}.overhead.{resource}")
        value: Decimal | None = None if unknown else floor
        scheduled[resource] = floor
        if not containers and resource not in pod_level:
            unknown.append("the pod template has no containers")
            value = None
        result[resource] = value
        missing.extend(unknown)
    return PodRequests(
        result["cpu"],
        result["memory"],
        tuple(dict.fromkeys(missing)),
        scheduled["cpu"],
        scheduled["memory"],
    )


@dataclass(frozen=True)
class WorkloadPods:
    kind: str
    namespace: str
    name: str
    replicas: int
    pod_spec: Mapping[str, Any]
    #: Where the pod spec is, for error messages: ``Deployment/shop/web: spec.template.spec``.
    where: str

    @property
    def node_selector(self) -> Mapping[str, Any]:
        return _map(self.pod_spec.get("nodeSelector"), f"{self.where}.nodeSelector")


def workload_pods(obj: Mapping[str, Any]) -> WorkloadPods:
    """A Deployment, StatefulSet or ReplicaSet's replicas (default 1) and pod template."""
    obj = _map(obj, "object")
    kind = str(obj.get("kind", ""))
    meta = _map(obj.get("metadata"), f"{kind}.metadata")
    namespace = str(meta.get("namespace") or "default")
    name = str(meta.get("name", "?"))
    ident = f"{kind}/{namespace}/{name}"
    if kind not in WORKLOAD_KINDS:
        raise KubernetesSpecError(ident, f"expected one of {', '.join(WORKLOAD_KINDS)}")
    spec = _map(obj.get("spec"), f"{ident}: spec")
    replicas = spec.get("replicas", 1)
    if replicas is None:
        replicas = 1
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise KubernetesSpecError(f"{ident}: spec.replicas", f"expected a count, got {replicas!r}")
    template = _map(spec.get("template"), f"{ident}: spec.template")
    where = f"{ident}: spec.template.spec"
    return WorkloadPods(kind, namespace, name, replicas, _map(template.get("spec"), where), where)


# --- prices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """Prices per core-hour and per GiB-hour of requests."""

    cpu_core_hour: Decimal
    memory_gib_hour: Decimal
    hours_per_month: Decimal = HOURS_PER_MONTH

    def __post_init__(self) -> None:
        for name in ("cpu_core_hour", "memory_gib_hour", "hours_per_month"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, value := Decimal(str(value)))
            if not value.is_finite() or value < 0:
                raise KubernetesSpecError(f"prices.{name}", f"must be >= 0, got {value}")


def prices_for_node(
    hourly: Decimal, cpu: Decimal, memory: Decimal, *, base: Prices
) -> Prices:  # fmt: skip
    """Prices for a node shape costing ``hourly``, with ``cpu`` cores and ``memory`` bytes.

    The node's price is split between CPU and memory in the proportion of ``base``'s prices,
    so that requesting the whole node costs exactly ``hourly``.
    """
    with localcontext(prec=50):
        whole = cpu * base.cpu_core_hour + memory / GIB * base.memory_gib_hour
        if whole <= 0:
            raise KubernetesSpecError(
                "prices", "the node shape and base prices give a zero price for the whole node"
            )
        scale = Decimal(hourly) / whole
        return Prices(
            base.cpu_core_hour * scale, base.memory_gib_hour * scale, base.hours_per_month
        )


# --- costs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadCost:
    kind: str
    namespace: str
    name: str
    replicas: int
    #: The node shape whose prices were used; None for the default prices.
    shape: str | None
    #: Effective requests of one pod (cores, bytes); None when unknown.
    cpu_per_pod: Decimal | None
    memory_per_pod: Decimal | None
    #: Monthly costs; None when unknown.
    cpu_cost: Decimal | None
    memory_cost: Decimal | None
    problems: tuple[str, ...] = ()

    @property
    def cost(self) -> Decimal | None:
        """The monthly cost, or None when either part is unknown."""
        if self.cpu_cost is None or self.memory_cost is None:
            return None
        return self.cpu_cost + self.memory_cost

    @property
    def known(self) -> bool:
        return self.cost is not None


@dataclass(frozen=True)
class NamespaceCost:
    namespace: str
    #: The sum over the namespace's workloads whose cost is known.
    cost: Decimal
    workloads: int
    #: Names of the workloads whose cost is unknown (then ``cost`` is a lower bound).
    unknown: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unknown


@dataclass(frozen=True)
class CostReport:
    rows: tuple[WorkloadCost, ...]
    namespaces: tuple[NamespaceCost, ...]
    #: The sum of the known costs (a lower bound when ``complete`` is False).
    total: Decimal
    notes: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return all(r.known for r in self.rows)

    @property
    def unknown(self) -> tuple[WorkloadCost, ...]:
        return tuple(r for r in self.rows if not r.known)


def _workload_cost(
    w: WorkloadPods, prices: Prices, shape: str | None, problems: list[str]
) -> WorkloadCost:
    req = pod_requests(w.pod_spec, w.where)
    if req.missing and w.replicas > 0:
        problems = [NO_REQUESTS, *req.missing, *problems]
    with localcontext(prec=50):
        hours = Decimal(w.replicas) * prices.hours_per_month
        cpu_cost = None if req.cpu is None else req.cpu * hours * prices.cpu_core_hour
        memory_cost = (
            None if req.memory is None else req.memory / GIB * hours * prices.memory_gib_hour
        )
    if w.replicas == 0:  # nothing runs: nothing to pay, requests or not
        cpu_cost = cpu_cost if cpu_cost is not None else Decimal(0)
        memory_cost = memory_cost if memory_cost is not None else Decimal(0)
    return WorkloadCost(w.kind, w.namespace, w.name, w.replicas, shape, req.cpu, req.memory,
                        cpu_cost, memory_cost, tuple(problems))  # fmt: skip


def monthly_costs(
    workloads: Iterable[Mapping[str, Any]],
    prices: Prices,
    *,
    shapes: Mapping[str, Prices] | None = None,
    shape_label: str = INSTANCE_TYPE_LABEL,
) -> CostReport:
    """Monthly cost of Deployments, StatefulSets and ReplicaSets from their requests.

    ``shapes`` maps a node shape (the value of the pod template's ``nodeSelector[shape_label]``)
    to its prices; other workloads use ``prices``. Rows are sorted by cost, highest first, the
    ones of unknown cost last.
    """
    shapes = shapes or {}
    rows: list[WorkloadCost] = []
    notes: list[str] = []
    for obj in workloads:
        w = workload_pods(obj)
        problems: list[str] = []
        selected = w.node_selector.get(shape_label)
        shape: str | None = None
        use = prices
        if selected is not None:
            if str(selected) in shapes:
                shape = str(selected)
                use = shapes[shape]
            elif shapes:
                problems.append(f"no prices for node shape {selected!r}: default prices used")
        rows.append(_workload_cost(w, use, shape, problems))
    rows.sort(key=lambda r: (r.cost is None, -(r.cost or 0), r.namespace, r.kind, r.name))
    by_ns: dict[str, list[WorkloadCost]] = {}
    for r in rows:
        by_ns.setdefault(r.namespace, []).append(r)
    namespaces = [
        NamespaceCost(
            ns,
            sum((r.cost for r in rs if r.cost is not None), Decimal(0)),
            len(rs),
            tuple(f"{r.kind}/{r.name}" for r in rs if not r.known),
        )
        for ns, rs in by_ns.items()
    ]
    namespaces.sort(key=lambda n: (-n.cost, n.namespace))
    total = sum((n.cost for n in namespaces), Decimal(0))
    unknown = [r for r in rows if not r.known]
    if unknown:
        notes.append(
            f"{len(unknown)} workload(s) without requests are not in the totals: "
            + ", ".join(f"{r.namespace}/{r.name}" for r in unknown)
        )
    return CostReport(tuple(rows), tuple(namespaces), total, tuple(notes))

"""How many nodes of one shape a set of pods needs: bin packing of their requests.

Each node offers its *allocatable* resources (Kubernetes docs, "Reserve Compute Resources for
System Daemons"): ``capacity - kube-reserved - system-reserved - hard eviction threshold``
(the kubelet's default ``memory.available<100Mi``), minus what the DaemonSets put on every
node, and at most ``max_pods`` pods (110 is the kubelet's default). ``headroom`` keeps a
fraction of CPU and memory free on every node (for bursts, rolling updates and failover); it
does not reduce the pod count.

The packing is *first-fit decreasing* on the dominant resource: every pod's share of a node is
computed per resource (cpu / node cpu, memory / node memory, 1 / max pods), its largest share
is its *dominant* resource (the idea of Dominant Resource Fairness, Ghodsi et al. 2011), pods
are placed largest dominant share first, each on the first node with room in every resource,
and a node is added when none has room. Sorting by the dominant share makes CPU-heavy and
memory-heavy pods comparable, and placing the big ones first leaves the small ones to fill the
gaps; in one dimension FFD needs at most 11/9 of the optimum plus one node. Several
dimensions have no such bound, so the result also gives ``lower_bound``, the count no packing
can beat (total requests / node capacity per resource): the gap says how good the answer is.

A pod whose requests exceed an empty node is reported in ``too_big`` (an error: no number of
such nodes runs it), not silently dropped. Pods without a request for a resource count it as
0, as the scheduler does; :func:`pods_from_workloads` lists them in ``problems``.

Not modelled: affinity and anti-affinity, topology spread, taints, extended resources and
the scheduler's scoring; a real scheduler may need more nodes than this when those apply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.cost import pod_requests, workload_pods
from tuskops.kubernetes.quantity import parse_quantity

__all__ = [
    "NodePlan",
    "NodeShape",
    "PodRequest",
    "Unplaceable",
    "pack",
    "pods_from_workloads",
]


def _amount(value: str | int | Decimal, where: str) -> Decimal:
    amount = parse_quantity(value, field=where)
    if amount < 0:
        raise KubernetesSpecError(where, f"must not be negative, got {value}")
    return amount


@dataclass(frozen=True)
class PodRequest:
    """One pod to place: CPU in cores, memory in bytes."""

    name: str
    cpu: Decimal
    memory: Decimal


@dataclass(frozen=True)
class NodeShape:
    """A node type: its capacity and what the kubelet keeps back."""

    name: str
    cpu: Decimal
    memory: Decimal
    max_pods: int = 110
    reserved_cpu: Decimal = Decimal(0)
    reserved_memory: Decimal = Decimal(0)
    eviction_memory: Decimal = Decimal(100 * 2**20)

    @classmethod
    def of(
        cls,
        name: str,
        cpu: str | int | Decimal,
        memory: str | int | Decimal,
        *,
        max_pods: int = 110,
        reserved_cpu: str | int | Decimal = 0,
        reserved_memory: str | int | Decimal = 0,
        eviction_memory: str | int | Decimal = "100Mi",
    ) -> NodeShape:
        """A shape from quantities: ``NodeShape.of("m5.large", "2", "8Gi", reserved_cpu="70m")``."""
        if max_pods < 1:
            raise KubernetesSpecError(f"node_shape.{name}.max_pods", "must be at least 1")
        where = f"node_shape.{name}"
        return cls(
            name,
            _amount(cpu, f"{where}.cpu"),
            _amount(memory, f"{where}.memory"),
            max_pods,
            _amount(reserved_cpu, f"{where}.reserved_cpu"),
            _amount(reserved_memory, f"{where}.reserved_memory"),
            _amount(eviction_memory, f"{where}.eviction_memory"),
        )

    @property
    def allocatable_cpu(self) -> Decimal:
        return max(Decimal(0), self.cpu - self.reserved_cpu)

    @property
    def allocatable_memory(self) -> Decimal:
        return max(Decimal(0), self.memory - self.reserved_memory - self.eviction_memory)


@dataclass(frozen=True)
class Unplaceable:
    pod: str
    reason: str


@dataclass(frozen=True)
class NodePlan:
    """The result of :func:`pack`."""

    shape: NodeShape
    #: Nodes needed (at least ``min_nodes``; 0 when there is nothing to place).
    nodes: int
    #: The pods on each node, by name, in placement order.
    assignments: tuple[tuple[str, ...], ...]
    #: Fraction (0..1) of the nodes' allocatable resources the placed pods (and the DaemonSets)
    #: request: ``cpu``, ``memory``, ``pods``.
    utilisation: Mapping[str, float]
    #: No packing needs fewer nodes than this.
    lower_bound: int
    #: Pods that fit on no node of this shape: errors.
    too_big: tuple[Unplaceable, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.too_big

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"pod {u.pod}: {u.reason}" for u in self.too_big)


def pack(
    pods: Sequence[PodRequest],
    shape: NodeShape,
    *,
    headroom: float = 0.0,
    daemonsets: Sequence[PodRequest] = (),
    min_nodes: int = 0,
) -> NodePlan:
    """Place ``pods`` on nodes of ``shape`` by first-fit decreasing (see the module)."""
    if not 0 <= headroom < 1:
        raise KubernetesSpecError("binpack.headroom", f"must be in [0, 1), got {headroom}")
    if min_nodes < 0:
        raise KubernetesSpecError("binpack.min_nodes", "must be >= 0")
    with localcontext(prec=50):
        keep = 1 - Decimal(str(headroom))
        ds_cpu = sum((d.cpu for d in daemonsets), Decimal(0))
        ds_mem = sum((d.memory for d in daemonsets), Decimal(0))
        cap_cpu = shape.allocatable_cpu * keep - ds_cpu
        cap_mem = shape.allocatable_memory * keep - ds_mem
        cap_pods = shape.max_pods - len(daemonsets)
        notes: list[str] = []
        if cap_cpu <= 0 or cap_mem <= 0 or cap_pods <= 0:
            notes.append(f"the DaemonSets and headroom leave no room on a {shape.name} node")

        def share(p: PodRequest) -> Decimal:
            shares = [Decimal(1) / cap_pods if cap_pods > 0 else Decimal("Infinity")]
            for used, cap in ((p.cpu, cap_cpu), (p.memory, cap_mem)):
                if used > 0:
                    shares.append(used / cap if cap > 0 else Decimal("Infinity"))
            return max(shares)

        too_big: list[Unplaceable] = []
        placeable: list[PodRequest] = []
        for p in pods:
            reasons = []
            if p.cpu > cap_cpu:
                reasons.append(f"requests {p.cpu} cpu, a node has {max(cap_cpu, Decimal(0))}")
            if p.memory > cap_mem:
                reasons.append(
                    f"requests {p.memory} bytes of memory, a node has {max(cap_mem, Decimal(0))}"
                )
            if cap_pods <= 0:
                reasons.append("no pod slots left after the DaemonSets")
            if reasons:
                too_big.append(Unplaceable(p.name, "; ".join(reasons) + f" ({shape.name})"))
            else:
                placeable.append(p)
        placeable.sort(key=lambda p: (-share(p), p.name))

        bins: list[list[PodRequest]] = []
        free: list[list[Decimal]] = []  # per node: cpu, memory, pods
        for p in placeable:
            fits = (i for i, room in enumerate(free)
                    if p.cpu <= room[0] and p.memory <= room[1] and room[2] >= 1)  # fmt: skip
            i = next(fits, len(bins))
            if i == len(bins):
                bins.append([])
                free.append([cap_cpu, cap_mem, Decimal(cap_pods)])
            bins[i].append(p)
            free[i][0] -= p.cpu
            free[i][1] -= p.memory
            free[i][2] -= 1

        while len(bins) < min_nodes:
            bins.append([])
        nodes = len(bins)
        total_cpu = sum((p.cpu for p in placeable), Decimal(0))
        total_mem = sum((p.memory for p in placeable), Decimal(0))
        bound = 0
        if placeable:
            bound = max(
                math.ceil(total_cpu / cap_cpu),
                math.ceil(total_mem / cap_mem),
                math.ceil(Decimal(len(placeable)) / cap_pods),
            )
        bound = max(bound, min_nodes)

        def used(requested: Decimal, per_node: Decimal) -> float:
            whole = per_node * nodes
            return float(requested / whole) if whole > 0 else 0.0

        utilisation = {
            "cpu": used(total_cpu + ds_cpu * nodes, shape.allocatable_cpu),
            "memory": used(total_mem + ds_mem * nodes, shape.allocatable_memory),
            "pods": used(
                Decimal(len(placeable) + len(daemonsets) * nodes), Decimal(shape.max_pods)
            ),
        }
    return NodePlan(
        shape,
        nodes,
        tuple(tuple(p.name for p in b) for b in bins),
        utilisation,
        bound,
        tuple(too_big),
        tuple(notes),
    )


def pods_from_workloads(
    workloads: Iterable[Mapping[str, Any]],
) -> tuple[list[PodRequest], list[str]]:
    """The pods of Deployments, StatefulSets and ReplicaSets (replicas × effective requests),
    named ``namespace/name-<i>``, and the problems found (missing requests, counted as 0)."""
    pods: list[PodRequest] = []
    problems: list[str] = []
    for obj in workloads:
        w = workload_pods(obj)
        req = pod_requests(w.pod_spec, w.where)
        if req.missing and w.replicas:
            problems.append(
                f"{w.kind}/{w.namespace}/{w.name}: {'; '.join(req.missing)} (counted as 0)"
            )
        pods.extend(
            PodRequest(f"{w.namespace}/{w.name}-{i}", req.scheduled_cpu, req.scheduled_memory)
            for i in range(w.replicas)
        )
    return pods, problems

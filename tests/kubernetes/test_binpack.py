"""Node-pool sizing by first-fit decreasing on the dominant resource."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.binpack import NodeShape, PodRequest, pack, pods_from_workloads

GIB = Decimal(2**30)
SHAPE = NodeShape.of("n4", "4", "16Gi", eviction_memory=0)


def pod(name: str, cpu: str, memory: str) -> PodRequest:
    from tuskops.kubernetes.quantity import parse_quantity

    return PodRequest(name, parse_quantity(cpu), parse_quantity(memory))


def test_allocatable_subtracts_reserves_and_eviction() -> None:
    shape = NodeShape.of("n", "2", "8Gi", reserved_cpu="100m", reserved_memory="1Gi")
    assert shape.allocatable_cpu == Decimal("1.9")
    assert shape.allocatable_memory == 7 * GIB - 100 * 2**20


def test_packs_and_reports_utilisation() -> None:
    pods = [pod(f"p{i}", "1", "2Gi") for i in range(8)]
    plan = pack(pods, SHAPE)
    assert plan.nodes == 2
    assert plan.lower_bound == 2
    assert plan.ok
    assert plan.utilisation["cpu"] == 1.0
    assert plan.utilisation["memory"] == 0.5
    assert sorted(len(a) for a in plan.assignments) == [4, 4]


def test_dominant_resource_ordering_mixes_cpu_and_memory_heavy_pods() -> None:
    cpu_heavy = [pod(f"c{i}", "3", "2Gi") for i in range(2)]
    mem_heavy = [pod(f"m{i}", "500m", "12Gi") for i in range(2)]
    plan = pack(cpu_heavy + mem_heavy, SHAPE)
    assert plan.nodes == 2  # each node gets one of each
    assert all({n[0] for n in a} == {"c", "m"} for a in plan.assignments)


def test_too_big_pods_are_errors_not_dropped() -> None:
    plan = pack([pod("huge", "8", "1Gi"), pod("ok", "1", "1Gi")], SHAPE)
    assert not plan.ok
    assert [u.pod for u in plan.too_big] == ["huge"]
    assert "requests 8 cpu" in plan.errors[0]
    assert plan.nodes == 1


def test_headroom_daemonsets_max_pods_and_min_nodes() -> None:
    pods = [pod(f"p{i}", "1", "1Gi") for i in range(4)]
    assert pack(pods, SHAPE).nodes == 1
    assert pack(pods, SHAPE, headroom=0.25).nodes == 2  # 3 cores usable per node
    assert pack(pods, SHAPE, daemonsets=[pod("ds", "500m", "0")]).nodes == 2
    small = NodeShape.of("tiny-pods", "64", "256Gi", max_pods=3)
    assert pack(pods, small, daemonsets=[pod("ds", "0", "0")]).nodes == 2
    assert pack(pods, SHAPE, min_nodes=3).nodes == 3
    assert pack([], SHAPE).nodes == 0
    with pytest.raises(KubernetesSpecError):
        pack(pods, SHAPE, headroom=1.0)


def test_pods_from_workloads() -> None:
    objs = [
        {
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "replicas": 3,
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}
                        ]
                    }
                },
            },
        },
        {
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "2"}}}]}
                }
            },
        },
    ]
    pods, problems = pods_from_workloads(objs)
    assert [p.name for p in pods] == ["shop/web-0", "shop/web-1", "shop/web-2", "default/db-0"]
    assert pods[3].cpu == 2
    assert pods[3].memory == 0
    assert problems == [
        "StatefulSet/default/db: container 'a' has no memory request (counted as 0)"
    ]


sizes = st.tuples(st.integers(1, 4000), st.integers(1, 16 * 1024))


@given(st.lists(sizes, max_size=40), st.floats(0, 0.5))
def test_every_node_fits_and_the_bound_holds(items: list[tuple[int, int]], headroom: float) -> None:
    pods = [
        PodRequest(f"p{i}", Decimal(c) / 1000, Decimal(m) * 2**20) for i, (c, m) in enumerate(items)
    ]
    plan = pack(pods, SHAPE, headroom=headroom)
    by_name = {p.name: p for p in pods}
    placed = [n for a in plan.assignments for n in a]
    assert sorted(placed + [u.pod for u in plan.too_big]) == sorted(by_name)
    keep = 1 - Decimal(str(headroom))
    for a in plan.assignments:
        assert sum(by_name[n].cpu for n in a) <= SHAPE.allocatable_cpu * keep
        assert sum(by_name[n].memory for n in a) <= SHAPE.allocatable_memory * keep
        assert a  # no empty node unless asked for
    assert plan.lower_bound <= plan.nodes

"""Request-based monthly cost, and the pod's effective request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.cost import (
    NO_REQUESTS,
    Prices,
    monthly_costs,
    pod_requests,
    prices_for_node,
    workload_pods,
)

GIB = 2**30


def container(
    name: str, cpu: str | None = None, memory: str | None = None, **extra: Any
) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": name, "image": "x", "resources": {"requests": requests}, **extra}


def deployment(
    name: str,
    namespace: str = "shop",
    replicas: int | None = 2,
    kind: str = "Deployment",
    **pod: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "template": {"spec": {"containers": [container("app", "500m", "1Gi")], **pod}}
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


PRICES = Prices(Decimal("0.04"), Decimal("0.005"))


# --- effective requests (Kubernetes docs: init containers, sidecars) ------------------------------


def test_app_containers_are_summed() -> None:
    r = pod_requests(
        {"containers": [container("a", "100m", "64Mi"), container("b", "250m", "1Gi")]}
    )
    assert r.cpu == Decimal("0.35")
    assert r.memory == 64 * 2**20 + GIB
    assert r.missing == ()


def test_init_containers_take_the_max_rule() -> None:
    spec = {
        "initContainers": [container("migrate", "2", "128Mi"), container("warm", "100m", "3Gi")],
        "containers": [container("a", "500m", "1Gi"), container("b", "500m", "1Gi")],
    }
    r = pod_requests(spec)
    assert r.cpu == 2  # the biggest init container beats the sum of the app containers (1)
    assert r.memory == 3 * GIB  # the biggest init container beats 2Gi


def test_sidecars_add_to_the_app_and_to_later_init_containers() -> None:
    spec = {
        "initContainers": [
            container("proxy", "200m", "256Mi", restartPolicy="Always"),
            container("migrate", "1", "64Mi"),
        ],
        "containers": [container("a", "300m", "512Mi")],
    }
    r = pod_requests(spec)
    assert r.cpu == Decimal("1.2")  # migrate (1) + the proxy started before it (0.2) > 0.5
    assert r.memory == 768 * 2**20  # app + proxy > migrate + proxy


def test_overhead_pod_level_and_limit_defaulting() -> None:
    spec = {
        "containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
        "overhead": {"cpu": "250m", "memory": "120Mi"},
    }
    r = pod_requests(spec)
    assert r.cpu == Decimal("1.25")
    assert r.memory == GIB + 120 * 2**20
    pod_level = {
        "containers": [container("a")],
        "resources": {"requests": {"cpu": "2", "memory": "2Gi"}},
    }
    assert pod_requests(pod_level).cpu == 2
    assert pod_requests(pod_level).missing == ()


def test_missing_requests_are_unknown_not_zero() -> None:
    r = pod_requests({"containers": [container("a", "100m"), container("b")]})
    assert r.cpu is None
    assert r.memory is None
    assert "container 'b' has no cpu request" in r.missing
    assert "container 'a' has no memory request" in r.missing
    assert r.scheduled_cpu == Decimal("0.1")  # what the scheduler counts
    # An ordinary init container without requests counts as 0, as for the scheduler.
    r = pod_requests(
        {"initContainers": [container("i")], "containers": [container("a", "1", "1Gi")]}
    )
    assert (r.cpu, r.memory, r.missing) == (Decimal(1), Decimal(GIB), ())


def test_bad_quantities_name_the_field() -> None:
    with pytest.raises(KubernetesSpecError) as info:
        pod_requests({"containers": [container("a", "lots", "1Gi")]}, "Deployment/shop/web: spec")
    assert info.value.field == "Deployment/shop/web: spec.containers[0].resources.requests.cpu"


def test_workload_pods() -> None:
    w = workload_pods(deployment("web", replicas=None))
    assert (w.kind, w.namespace, w.name, w.replicas) == ("Deployment", "shop", "web", 1)
    with pytest.raises(KubernetesSpecError, match="expected one of"):
        workload_pods({"kind": "DaemonSet", "metadata": {"name": "x"}})
    with pytest.raises(KubernetesSpecError) as info:
        workload_pods(deployment("web", replicas=-1))
    assert info.value.field == "Deployment/shop/web: spec.replicas"


# --- costs ----------------------------------------------------------------------------------------


def test_monthly_cost_is_replicas_times_requests_times_hours_times_price() -> None:
    report = monthly_costs([deployment("web", replicas=2)], PRICES)
    (row,) = report.rows
    # cpu: 2 × 0.5 core × 730 h × 0.04; memory: 2 × 1 GiB × 730 h × 0.005
    assert row.cpu_cost == Decimal("29.2")
    assert row.memory_cost == Decimal("7.3")
    assert row.cost == Decimal("36.5")
    assert report.total == Decimal("36.5")
    assert report.complete


def test_rows_and_namespace_totals() -> None:
    objs = [
        deployment("web", "shop", 2),
        deployment("db", "shop", 1, kind="StatefulSet"),
        deployment("api", "billing", 4),
    ]
    report = monthly_costs(
        objs,
        PRICES,
    )
    assert [r.name for r in report.rows] == ["api", "web", "db"]
    assert [(n.namespace, n.cost, n.workloads) for n in report.namespaces] == [
        ("billing", Decimal("73.0"), 1),
        ("shop", Decimal("54.75"), 2),
    ]
    assert report.total == Decimal("127.75")


def test_pods_without_requests_are_flagged_and_left_out_of_totals() -> None:
    bare = deployment("bare", containers=[{"name": "app", "image": "x"}])
    report = monthly_costs([deployment("web"), bare], PRICES)
    row = next(r for r in report.rows if r.name == "bare")
    assert row.cost is None
    assert row.cpu_cost is None
    assert NO_REQUESTS in row.problems
    assert report.rows[-1] is row
    assert not report.complete
    assert report.unknown == (row,)
    assert report.total == Decimal("36.5")
    (shop,) = report.namespaces
    assert shop.unknown == ("Deployment/bare",)
    assert not shop.complete
    assert "shop/bare" in report.notes[0]


def test_zero_replicas_cost_nothing_even_without_requests() -> None:
    bare = deployment("bare", replicas=0, containers=[{"name": "app", "image": "x"}])
    (row,) = monthly_costs([bare], PRICES).rows
    assert row.cost == 0
    assert row.problems == ()


def test_per_node_shape_pricing() -> None:
    big = prices_for_node(Decimal("0.192"), Decimal(4), Decimal(16 * GIB), base=PRICES)
    # The whole node costs exactly the node's price, split in the base prices' proportion.
    assert 4 * big.cpu_core_hour + 16 * big.memory_gib_hour == Decimal("0.192")
    assert big.cpu_core_hour / big.memory_gib_hour == PRICES.cpu_core_hour / PRICES.memory_gib_hour
    on_big = deployment("web", nodeSelector={"node.kubernetes.io/instance-type": "m5.xlarge"})
    elsewhere = deployment("api", nodeSelector={"node.kubernetes.io/instance-type": "t3.small"})
    report = monthly_costs([on_big, elsewhere], PRICES, shapes={"m5.xlarge": big})
    web = next(r for r in report.rows if r.name == "web")
    api = next(r for r in report.rows if r.name == "api")
    assert web.shape == "m5.xlarge"
    assert web.cpu_cost == Decimal(1) * 730 * big.cpu_core_hour
    assert api.shape is None
    assert api.cost == Decimal("36.5")
    assert any("t3.small" in p for p in api.problems)


def test_prices_are_checked() -> None:
    with pytest.raises(KubernetesSpecError) as info:
        Prices(Decimal(-1), Decimal(1))
    assert info.value.field == "prices.cpu_core_hour"
    assert Prices(0.04, 0.005).cpu_core_hour == Decimal("0.04")  # type: ignore[arg-type]

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from _support.kube import EmulatedCluster
from _support.kube_metrics import (
    node,
    node_metrics,
    pod_metrics,
    register_kinds,
    register_metrics,
)
from tuskops.errors import KubernetesError
from tuskops.kubernetes.cluster import KubeClient, RetryPolicy
from tuskops.kubernetes.kubeconfig import load_cluster
from tuskops.kubernetes.metrics import recommend
from tuskops.kubernetes.observe import (
    MetricsUnavailableError,
    collect_samples,
    metrics_status,
    node_usage,
    pod_usage,
    service_monitor_available,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
R = TypeVar("R")


def with_client(cluster: EmulatedCluster, call: Callable[[KubeClient], Awaitable[R]]) -> R:
    async def main() -> R:
        config = load_cluster(kubeconfig=cluster.kubeconfig)
        async with KubeClient(config, retry=RetryPolicy(attempts=1)) as kube:
            return await call(kube)

    return asyncio.run(main())


def test_pod_usage_reads_pod_metrics(kube_emulator: EmulatedCluster) -> None:
    em = kube_emulator.emulator
    register_metrics(em)
    em.put(pod_metrics("web-1", {"web": ("250m", "128Mi"), "proxy": ("5m", "20Mi")}, T0))
    samples = with_client(kube_emulator, lambda kube: pod_usage(kube, "default"))
    by_container = {s.container: s for s in samples}
    assert by_container["web"].cpu == Decimal("0.25")
    assert by_container["web"].memory == 128 * 2**20
    assert by_container["web"].timestamp == T0
    assert by_container["proxy"].pod == "web-1"


def test_no_metrics_api_is_a_clear_error(kube_emulator: EmulatedCluster) -> None:
    with pytest.raises(MetricsUnavailableError, match="install metrics-server") as info:
        with_client(kube_emulator, lambda kube: pod_usage(kube))
    assert info.value.detail.reason == "NotServed"


def test_unavailable_api_service_is_reported(kube_emulator: EmulatedCluster) -> None:
    register_metrics(kube_emulator.emulator, available=False)
    found = with_client(kube_emulator, metrics_status)
    assert found is not None
    assert found.reason == "NotAvailable"
    assert "FailedDiscoveryCheck" in found.message
    with pytest.raises(MetricsUnavailableError, match="not Available"):
        with_client(kube_emulator, node_usage)


def test_node_usage(kube_emulator: EmulatedCluster) -> None:
    em = kube_emulator.emulator
    register_metrics(em)
    em.put(node("node-1", "4", "16Gi"))
    em.put(node_metrics("node-1", "1500m", "6Gi", T0))
    [usage] = with_client(kube_emulator, node_usage)
    assert (usage.node, usage.cpu, usage.memory) == ("node-1", Decimal("1.5"), 6 * 2**30)


def test_service_monitor_available(kube_emulator: EmulatedCluster) -> None:
    assert with_client(kube_emulator, service_monitor_available) is False
    register_kinds(kube_emulator.emulator, service_monitor=True)
    assert with_client(kube_emulator, service_monitor_available) is True


def test_collect_samples_reads_several_rounds(kube_emulator: EmulatedCluster) -> None:
    em = kube_emulator.emulator
    register_metrics(em)
    em.put(pod_metrics("web-1", {"web": ("100m", "64Mi")}, T0))
    slept: list[float] = []
    progress: list[tuple[int, int]] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def collect(kube: KubeClient) -> Any:
        return collect_samples(kube, "default", rounds=3, interval=15, sleep=sleep,
                               progress=lambda d, t: progress.append((d, t)))  # fmt: skip

    samples = with_client(kube_emulator, collect)
    assert len(samples) == 3
    assert slept == [15, 15]
    assert progress == [(1, 3), (2, 3), (3, 3)]
    # metrics-server's window did not move: the same sample three times counts once, which is
    # too few to recommend anything.
    result = recommend(samples)
    assert result.status == "unknown"
    assert result.samples == 1


def test_collect_samples_checks_its_arguments(kube_emulator: EmulatedCluster) -> None:
    with pytest.raises(KubernetesError, match="rounds"):
        with_client(kube_emulator, lambda kube: collect_samples(kube, None, rounds=0, interval=1))

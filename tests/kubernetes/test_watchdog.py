from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from _support.kube import EmulatedCluster
from _support.kube_metrics import backoff_event, crashloop_pod, deployment, healthy_pod
from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.cluster import KubeClient, RetryPolicy
from tuskops.kubernetes.health import AutoRestartPolicy, RestartHistory
from tuskops.kubernetes.kubeconfig import load_cluster
from tuskops.kubernetes.rollout import RESTARTED_AT
from tuskops.kubernetes.watchdog import (
    FIELD_MANAGER,
    auto_restart,
    plan_round,
    restart_manifest,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = AutoRestartPolicy(
    max_restarts=2, backoff_base=timedelta(minutes=1), backoff_max=timedelta(minutes=10)
)


def client(cluster: EmulatedCluster) -> KubeClient:
    return KubeClient(load_cluster(kubeconfig=cluster.kubeconfig), retry=RetryPolicy(attempts=1))


def clock(*offsets: float) -> Any:
    times: Iterator[datetime] = iter(T0 + timedelta(seconds=s) for s in offsets)
    return lambda: next(times)


def seed_crashloop(cluster: EmulatedCluster, *, paused: bool = False) -> None:
    em = cluster.emulator
    em.put(deployment("web", paused=paused))
    pod = crashloop_pod("web", T0)
    em.put(pod)
    em.put(backoff_event(pod, T0))
    em.put(healthy_pod("api", T0))


def annotation(cluster: EmulatedCluster) -> str | None:
    obj = cluster.emulator.find("Deployment", "web", "default")
    assert obj is not None
    annotations = obj["spec"]["template"].get("metadata", {}).get("annotations", {})
    return annotations.get(RESTARTED_AT)


def run_loop(cluster: EmulatedCluster, offsets: tuple[float, ...], **kw: Any) -> tuple[
    RestartHistory, list[str], list[float]
]:  # fmt: skip
    lines: list[str] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> RestartHistory:
        async with client(cluster) as kube:
            return await auto_restart(
                kube, namespace="default", interval=10, iterations=len(offsets),
                now=clock(*offsets), sleep=sleep, log=lines.append, **{"policy": POLICY, **kw},
            )  # fmt: skip

    return asyncio.run(main()), lines, slept


def test_restarts_once_then_backs_off_then_gives_up(kube_emulator: EmulatedCluster) -> None:
    seed_crashloop(kube_emulator)
    history, lines, slept = run_loop(kube_emulator, (0, 10, 20, 70, 80, 90))
    assert slept == [10] * 5
    assert history.within("default/Deployment/web", T0 - timedelta(seconds=1)) == (
        T0,
        T0 + timedelta(seconds=70),
    )
    assert annotation(kube_emulator) == "2025-03-01T12:01:10Z"
    obj = kube_emulator.emulator.find("Deployment", "web", "default")
    assert obj is not None
    assert FIELD_MANAGER in {m["manager"] for m in obj["metadata"]["managedFields"]}
    # one line per change: restart, wait (logged once for rounds 2 and 3), restart, give up
    assert len(lines) == 4, lines
    first, wait, second, give_up = lines
    assert first.startswith(
        "2025-03-01T12:00:00Z default/Deployment/web: restarted: restart 1 of 2"
    )
    assert "CrashLoopBackOff" in first
    assert "exit code 1" in first
    assert "wait: backing off until 2025-03-01T12:01:00+00:00 after restart 1" in wait
    assert "restart 2 of 2" in second
    assert "give_up: restarted 2 times" in give_up
    assert "api" not in "".join(lines)  # the healthy workload is left alone


def test_paused_deployment_is_skipped(kube_emulator: EmulatedCluster) -> None:
    seed_crashloop(kube_emulator, paused=True)
    history, lines, _ = run_loop(kube_emulator, (0,))
    assert history.restarts == {}
    assert annotation(kube_emulator) is None
    assert lines == [
        "2025-03-01T12:00:00Z default/Deployment/web: skip: the Deployment is paused "
        "(resume it to restart)"
    ]


def test_bare_pod_cannot_be_restarted(kube_emulator: EmulatedCluster) -> None:
    pod = crashloop_pod("solo", T0)
    del pod["metadata"]["ownerReferences"]
    kube_emulator.emulator.put(pod)
    history, lines, _ = run_loop(kube_emulator, (0,))
    assert history.restarts == {}
    assert len(lines) == 1
    assert "skip: a Pod cannot be restarted" in lines[0]


def test_listing_failures_are_logged_then_raised(kube_emulator: EmulatedCluster) -> None:
    kube_emulator.emulator.fail_next(403, times=2)
    with pytest.raises(ClusterError):
        run_loop(kube_emulator, (0, 10, 20), max_failed_rounds=2)


def test_plan_round_logs_a_wait_once() -> None:
    pod = crashloop_pod("web", T0)
    history = RestartHistory().record("default/Deployment/web", T0)
    first = plan_round([pod], [], policy=POLICY, history=history, now=T0 + timedelta(seconds=5))
    assert [d.action for d in first.to_log] == ["wait"]
    again = plan_round([pod], [], policy=POLICY, history=history,
                       now=T0 + timedelta(seconds=15), logged=first.logged)  # fmt: skip
    assert again.to_log == ()
    assert [d.action for d in again.decisions] == ["wait"]


def test_plan_round_ignores_healthy_pods() -> None:
    plan = plan_round([healthy_pod("api", T0)], [], policy=POLICY, history=RestartHistory(), now=T0)
    assert plan.decisions == ()
    assert plan.to_log == ()


def test_restart_manifest() -> None:
    doc = restart_manifest("shop/StatefulSet/db", T0)
    assert doc == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2025-03-01T12:00:00Z"}}}},
    }
    with pytest.raises(KubernetesError, match="a Job cannot be restarted"):
        restart_manifest("shop/Job/migrate", T0)

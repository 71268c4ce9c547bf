from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from _support.kube import EmulatedCluster
from _support.kube_metrics import (
    backoff_event,
    crashloop_pod,
    deployment,
    healthy_pod,
    node,
    node_metrics,
    pod_metrics,
    register_kinds,
    register_metrics,
)
from tuskops.cli import k8s_health_cmd
from tuskops.kubernetes.rollout import RESTARTED_AT

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Invoke = Callable[..., Result]


@click.group()
def k8s() -> None:
    """The commands as the integrator will register them."""


for command in (
    k8s_health_cmd.health_command,
    k8s_health_cmd.top_command,
    k8s_health_cmd.recommend_command,
    k8s_health_cmd.cost_command,
    k8s_health_cmd.nodes_command,
):
    k8s.add_command(command)


@pytest.fixture
def k8s_run(kube_emulator: EmulatedCluster, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setattr(k8s_health_cmd, "CLOCK", lambda: T0)

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(k8s_health_cmd, "SLEEP", no_sleep)

    def invoke(*args: str) -> Result:
        argv = [*args, "--kubeconfig", str(kube_emulator.kubeconfig)]
        return CliRunner().invoke(k8s, argv, catch_exceptions=False)

    return invoke


def fake_clock(monkeypatch: pytest.MonkeyPatch, *offsets: float) -> None:
    times: Iterator[datetime] = iter(T0 + timedelta(seconds=s) for s in offsets)
    monkeypatch.setattr(k8s_health_cmd, "CLOCK", lambda: next(times))


def seed_crashloop(cluster: EmulatedCluster) -> None:
    em = cluster.emulator
    em.put(deployment("web"))
    pod = crashloop_pod("web", T0, exit_code=137, reason="OOMKilled")
    em.put(pod)
    em.put(backoff_event(pod, T0))
    em.put(healthy_pod("api", T0))


# --- health -------------------------------------------------------------------------------------


def test_health_reports_the_cause_and_fails(
    kube_emulator: EmulatedCluster, k8s_run: Invoke
) -> None:
    seed_crashloop(kube_emulator)
    result = k8s_run("health")
    assert result.exit_code == 1
    out = result.stdout
    assert "web-5d8f7c9b6-xyz12" in out
    assert "default/Deployment/web" in out
    assert "CrashLoopBackOff (restarted 5 times; last exit: OOMKilled, exit code 137" in out
    assert "memory limit 256Mi" in out
    assert "BackOff (x12): Back-off restarting failed container web" in out
    assert "1 unhealthy pod in namespace default" in out
    assert "api-" not in out


def test_health_json(kube_emulator: EmulatedCluster, k8s_run: Invoke) -> None:
    seed_crashloop(kube_emulator)
    result = k8s_run("health", "-o", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["healthy"] is False
    [problem] = doc["problems"]
    assert problem["reason"] == "OOMKilled"
    assert problem["containers"][0]["last_exit_code"] == 137
    assert problem["events"][0]["reason"] == "BackOff"


def test_health_when_healthy(kube_emulator: EmulatedCluster, k8s_run: Invoke) -> None:
    kube_emulator.emulator.put(healthy_pod("api", T0))
    result = k8s_run("health")
    assert result.exit_code == 0
    assert "all pods healthy in namespace default" in result.stdout


def test_health_watch_restarts_backs_off_and_gives_up(
    kube_emulator: EmulatedCluster, k8s_run: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_crashloop(kube_emulator)
    fake_clock(monkeypatch, 0, 10, 20, 70)
    result = k8s_run("health", "--watch", "--max-restarts", "1", "--interval", "10s",
                     "--rounds", "4")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("watching namespace default every 10s")
    assert "default/Deployment/web: restarted: restart 1 of 1" in lines[1]
    assert "give_up: restarted 1 times" in lines[2]
    assert len(lines) == 3  # the give-up is logged once, not every round
    obj = kube_emulator.emulator.find("Deployment", "web", "default")
    assert obj is not None
    annotations = obj["spec"]["template"]["metadata"]["annotations"]
    assert annotations[RESTARTED_AT] == "2025-03-01T12:00:00Z"


# --- top ----------------------------------------------------------------------------------------


def seed_metrics(cluster: EmulatedCluster) -> None:
    em = cluster.emulator
    register_metrics(em)
    em.put(healthy_pod("api", T0))
    em.put(pod_metrics("api-5d8f7c9b6-abcde", {"web": ("125m", "128Mi")}, T0))
    em.put(node("node-1", "4", "16Gi"))
    em.put(node("node-2", "4", "16Gi"))
    em.put(node_metrics("node-1", "1", "4Gi", T0))


def test_top_pods(kube_emulator: EmulatedCluster, k8s_run: Invoke) -> None:
    seed_metrics(kube_emulator)
    result = k8s_run("top", "pods")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "api-" in line)
    assert row.split() == ["default", "api-5d8f7c9b6-abcde", "125m", "50%", "-", "128Mi",
                           "50%", "50%"]  # fmt: skip
    doc = json.loads(k8s_run("top", "pods", "-o", "json").stdout)
    assert doc[0]["cpu"] == "0.125"
    assert doc[0]["cpu_limit"] is None


def test_top_nodes(kube_emulator: EmulatedCluster, k8s_run: Invoke) -> None:
    seed_metrics(kube_emulator)
    result = k8s_run("top", "nodes")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["node-1", "1000m", "25%", "4096Mi", "25%"]
    assert "node-2" in lines[2]
    assert "no metrics for this node" in lines[2]


@pytest.mark.parametrize("what", ["pods", "nodes"])
def test_top_without_metrics_api(k8s_run: Invoke, what: str) -> None:
    result = k8s_run("top", what)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "metrics API not available: metrics.k8s.io is not served: install metrics-server" in (
        result.stderr
    )


def test_recommend_with_too_few_samples_says_unknown(
    kube_emulator: EmulatedCluster, k8s_run: Invoke
) -> None:
    seed_metrics(kube_emulator)
    result = k8s_run("recommend", "--rounds", "2", "--interval", "15s", "-o", "json")
    assert result.exit_code == 0, result.output
    [rec] = json.loads(result.stdout)
    assert (rec["kind"], rec["workload"], rec["container"]) == ("Deployment", "api", "web")
    assert rec["status"] == "unknown"
    assert "too few" in rec["reason"]
    assert rec["requests"] == {}


def test_recommend_without_metrics_api(k8s_run: Invoke) -> None:
    result = k8s_run("recommend", "--rounds", "1")
    assert result.exit_code == 1
    assert "install metrics-server" in result.stderr


# --- cost and nodes -----------------------------------------------------------------------------


def test_cost_per_workload_and_namespace(kube_emulator: EmulatedCluster, k8s_run: Invoke) -> None:
    em = kube_emulator.emulator
    em.put(deployment("web", replicas=2))
    em.put(deployment("batch", cpu=None, memory=None))
    args = ("cost", "--cpu-price", "0.04", "--memory-price", "0.005")
    doc = json.loads(k8s_run(*args, "-o", "json").stdout)
    web, batch = doc["workloads"]
    assert web["name"] == "web"
    assert float(web["cpu_cost"]) == pytest.approx(14.6)  # 2 x 0.25 cores x 730 h x 0.04
    assert float(web["memory_cost"]) == pytest.approx(1.825)  # 2 x 0.25 GiB x 730 h x 0.005
    assert batch["cost"] is None
    assert doc["complete"] is False
    assert any("StatefulSet" in note for note in doc["notes"])
    text = k8s_run(*args)
    assert text.exit_code == 0
    assert "total per month: 16.43 (at least: some unknown)" in text.stdout


def test_cost_requires_prices(k8s_run: Invoke) -> None:
    result = k8s_run("cost", "--cpu-price", "0.04")
    assert result.exit_code == 2
    assert "--memory-price" in result.stderr


def test_nodes_packs_workloads_with_daemonsets(
    kube_emulator: EmulatedCluster, k8s_run: Invoke
) -> None:
    em = kube_emulator.emulator
    register_kinds(em)
    em.put(deployment("web", replicas=3, cpu="1", memory="1Gi"))
    args = ("nodes", "--node-cpu", "2", "--node-memory", "4Gi")
    doc: dict[str, Any] = json.loads(k8s_run(*args, "-o", "json").stdout)
    assert (doc["nodes"], doc["pods"]) == (2, 3)
    ds = deployment("agent", cpu="500m", memory="64Mi") | {"kind": "DaemonSet"}
    em.put(ds)
    doc = json.loads(k8s_run(*args, "-o", "json").stdout)
    assert doc["daemonsets"] == ["DaemonSet/default/agent"]
    assert doc["nodes"] == 3  # 1.5 cores left per node: one web pod each
    text = k8s_run(*args)
    assert text.exit_code == 0
    assert "3 pods from 1 workload(s) in namespace default need 3 node nodes" in text.stdout


def test_nodes_fails_when_a_pod_fits_nowhere(
    kube_emulator: EmulatedCluster, k8s_run: Invoke
) -> None:
    kube_emulator.emulator.put(deployment("big", cpu="8", memory="1Gi"))
    result = k8s_run("nodes", "--node-cpu", "4", "--node-memory", "16Gi")
    assert result.exit_code == 1
    assert "error: pod default/big-0: requests 8 cpu" in result.stdout

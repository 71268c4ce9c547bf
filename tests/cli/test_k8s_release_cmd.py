"""tuskops k8s release / switch-back against the emulator; the test plays the controllers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from _support.kube import EmulatedCluster
from _support.kube_release import Controllers, job_status, release_cluster, rolled_out_status
from tuskops.cli import k8s_release_cmd
from tuskops.cli.k8s_cmd import Duration
from tuskops.cli.k8s_release_cmd import (
    load_app_spec,
    release_command,
    switch_back_command,
)
from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.bluegreen import TRACK_LABEL
from tuskops.kubernetes.builders.networking import service
from tuskops.kubernetes.builders.workload import deployment
from tuskops.kubernetes.cluster import CircuitBreaker, KubeClient, load_cluster

NS = "shop"
Run = Callable[..., Result]

APP = """
apps {
    shop {
        name: "shop"
        image: "ghcr.io/acme/shop:VERSION"
        replicas: 4
        ports: [{ name: "http", port: 8080 }]
        probes: { readiness: { http: "/ready", port: "http" } }
    }
}
"""


@click.group()
def group() -> None:
    """A local group: the integrator registers the commands on `tuskops k8s`."""


group.add_command(release_command)
group.add_command(switch_back_command)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmulatedCluster]:
    with release_cluster(tmp_path) as emulated:
        emulated.emulator.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        yield emulated


@pytest.fixture
def controllers(cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch) -> Controllers:
    """Play the controllers whenever the command sleeps (and do not really sleep)."""
    played = Controllers(cluster.emulator, NS)

    async def sleep(seconds: float) -> None:
        played.slept.append(seconds)
        played.play()

    monkeypatch.setattr(k8s_release_cmd, "_sleep", sleep)
    return played


@pytest.fixture
def run(cluster: EmulatedCluster, tmp_path: Path) -> Run:
    def invoke(*args: str, version: str = "1.0") -> Result:
        app = tmp_path / "app.tsk"
        app.write_text(APP.replace("VERSION", version))
        argv = [args[0], str(app), "apps.shop", *args[1:]]
        argv += ["--kubeconfig", str(cluster.kubeconfig), "-n", NS]
        return CliRunner().invoke(group, argv, catch_exceptions=False)

    return invoke


def service_track(cluster: EmulatedCluster) -> str:
    found = cluster.emulator.find("Service", "shop", NS)
    assert found is not None
    return str(found["spec"]["selector"][TRACK_LABEL])


def replicas(cluster: EmulatedCluster, name: str) -> int:
    found = cluster.emulator.find("Deployment", name, NS)
    assert found is not None
    return int(found["spec"]["replicas"])


def test_blue_green_release_then_switch_back(
    run: Run, cluster: EmulatedCluster, controllers: Controllers
) -> None:
    first = run("release", "--strategy", "blue-green", "--wait", "--scale-down-delay", "0s")
    assert first.exit_code == 0, first.output
    assert "deploy-idle: deploying the release to blue" in first.stdout
    assert first.stdout.splitlines()[-1].startswith("released: shop-blue serves")

    second = run(
        "release",
        "--strategy",
        "blue-green",
        "--verify-path",
        "/healthz",
        "--no-wait",
        "-o",
        "json",
        version="2.0",
    )
    assert second.exit_code == 0, second.output
    outcome = json.loads(second.stdout)
    assert (outcome["result"], outcome["serving"], outcome["previous"]) == (
        "released",
        "shop-green",
        "shop-blue",
    )
    assert outcome["scale_down_after"] is not None
    assert "switch: switching the Service to green" in second.stderr  # progress on stderr
    assert service_track(cluster) == "green"
    assert replicas(cluster, "shop-blue") == 4  # kept for an instant switch back

    back = run("switch-back")
    assert back.exit_code == 0, back.output
    assert "switched-back: shop-blue serves again" in back.stdout
    assert service_track(cluster) == "blue"


def test_failed_verification_exits_1_and_does_not_switch(
    run: Run, cluster: EmulatedCluster, controllers: Controllers
) -> None:
    assert run("release", "--strategy", "blue-green", "--no-wait").exit_code == 0
    controllers.job_result = job_status(False, "DeadlineExceeded", "Job was active too long")
    result = run("release", "--strategy", "blue-green", "--no-wait", "-o", "json", version="2.0")
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "aborted"
    assert outcome["ok"] is False
    assert "DeadlineExceeded" in outcome["reason"]
    assert service_track(cluster) == "blue"
    assert replicas(cluster, "shop-green") == 0


def deploy_stable(cluster: EmulatedCluster, tmp_path: Path) -> None:
    app = tmp_path / "stable.tsk"
    app.write_text(APP.replace("VERSION", "1.0"))
    spec = load_app_spec(app, "apps.shop", NS)

    async def go() -> None:
        config = load_cluster(kubeconfig=cluster.kubeconfig)
        async with KubeClient(config, breaker=CircuitBreaker(cluster.url)) as kube:
            await kube.apply(deployment(spec), force=True)
            svc = service(spec)
            assert svc is not None
            await kube.apply(svc, force=True)

    asyncio.run(go())
    stable = cluster.emulator.store[("apps/v1", "deployments", NS, "shop")]
    stable["status"] = rolled_out_status(stable)


def test_canary_release_through_every_step(
    run: Run, cluster: EmulatedCluster, controllers: Controllers, tmp_path: Path
) -> None:
    deploy_stable(cluster, tmp_path)
    result = run(
        "release", "--strategy", "canary", "--steps", "25,50", "--pause", "0s", version="2.0"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("step 0 (25%): canary 1, stable 3") for line in lines)
    assert any(line.startswith("step 1 (50%): canary 2, stable 2") for line in lines)
    assert any(line.startswith("promote:") for line in lines)
    assert lines[-1].startswith("released:")
    assert (replicas(cluster, "shop"), replicas(cluster, "shop-canary")) == (4, 0)


def test_canary_rollback_exits_1(
    run: Run, cluster: EmulatedCluster, controllers: Controllers, tmp_path: Path
) -> None:
    deploy_stable(cluster, tmp_path)
    controllers.stuck.add("shop-canary")
    result = run(
        "release",
        "--strategy",
        "canary",
        "--pause",
        "0",
        "--timeout",
        "0s",
        "-o",
        "json",
        version="2.0",
    )
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "rolled-back"
    assert "step 0 did not roll out" in outcome["reason"]
    assert (replicas(cluster, "shop"), replicas(cluster, "shop-canary")) == (4, 0)


def test_spec_errors_name_the_key(run: Run, cluster: EmulatedCluster, tmp_path: Path) -> None:
    app = tmp_path / "other.tsk"
    app.write_text('apps { shop { name: "shop", namespace: "prod", image: "x:1" } }\n')
    with pytest.raises(KubernetesSpecError, match=r"apps\.shop\.namespace"):
        load_app_spec(app, "apps.shop", NS)
    with pytest.raises(KubernetesSpecError, match="no such key"):
        load_app_spec(app, "apps.web")
    result = CliRunner().invoke(
        group, ["release", str(app), "apps.nope", "--strategy", "canary"], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "apps.nope: no such key" in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("90", 90), ("60s", 60), ("5m", 300), ("1h30m", 5400)]
)
def test_durations(text: str, seconds: float) -> None:
    assert Duration(allow_zero=True).convert(text, None, None).total_seconds() == seconds


def test_bad_options_are_usage_errors(run: Run) -> None:
    assert run("release", "--strategy", "canary", "--steps", "ten").exit_code == 2
    assert run("release", "--strategy", "canary", "--pause", "-5s").exit_code == 2
    result = run("release", "--strategy", "rolling")
    assert result.exit_code == 2
    assert "Invalid value for '--strategy'" in result.stderr

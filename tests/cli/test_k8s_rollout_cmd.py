"""``tuskops k8s status | history | rollback | restart`` against the emulator.

The commands are registered on a local group here (the integrator adds them to ``k8s``);
between polls a fake sleep runs the toy controller of ``_support/kube_rollout.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import click
import pytest
from click.testing import CliRunner, Result

from _support.kube import EmulatedCluster
from _support.kube_rollout import Behaviour, RolloutController, deployment_manifest
from tuskops.cli import k8s_rollout_cmd
from tuskops.cli.k8s_rollout_cmd import (
    history_command,
    restart_command,
    rollback_command,
    status_command,
)
from tuskops.kubernetes.cluster import CircuitBreaker, KubeClient
from tuskops.kubernetes.kubeconfig import load_cluster

GOOD, NEXT, BAD = "registry.example/web:1", "registry.example/web:2", "registry.example/web:3"

Invoke = Callable[..., Result]


@click.group()
def group() -> None:
    """A stand-in for ``tuskops k8s``."""


for command in (status_command, history_command, rollback_command, restart_command):
    group.add_command(command)


def behaviour(image: str) -> Behaviour:
    return "crash" if image == BAD else "ready"


@pytest.fixture
def controller(
    kube_emulator: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> RolloutController:
    """A controller tracking ``default/web``; the commands' waits step it instead of sleeping."""
    sim = RolloutController(kube_emulator.emulator, behaviour)
    sim.track("default", "web")

    async def sleep(seconds: float) -> None:
        sim.step()

    monkeypatch.setattr(k8s_rollout_cmd, "_sleep", sleep)
    return sim


@pytest.fixture
def invoke(kube_emulator: EmulatedCluster) -> Invoke:
    def run(*args: str) -> Result:
        return CliRunner().invoke(
            group,
            [*args, "--kubeconfig", str(kube_emulator.kubeconfig)],
            catch_exceptions=False,
        )

    return run


def apply(cluster: EmulatedCluster, image: str, **annotations: str) -> None:
    manifest = deployment_manifest(image)
    if annotations:
        manifest["metadata"]["annotations"] = annotations

    async def go() -> None:
        config = load_cluster(kubeconfig=cluster.kubeconfig)
        async with KubeClient(config, breaker=CircuitBreaker(cluster.url)) as kube:
            await kube.apply(manifest)

    asyncio.run(go())


def released(cluster: EmulatedCluster, controller: RolloutController, *images: str) -> None:
    """One revision per image, each rolled out."""
    for index, image in enumerate(images, 1):
        apply(cluster, image, **{"kubernetes.io/change-cause": f"release {index}"})
        controller.settle()


def image_of(cluster: EmulatedCluster) -> str:
    found = cluster.emulator.find("Deployment", "web", "default")
    assert found is not None
    return str(found["spec"]["template"]["spec"]["containers"][0]["image"])


# --- status ---------------------------------------------------------------------------------------


def test_status_of_a_complete_rollout(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)

    result = invoke("status", "web")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == 'deployment "web" successfully rolled out'

    doc = json.loads(invoke("status", "web", "-o", "json", "-n", "default").stdout)
    assert (doc["state"], doc["revision"], doc["desired"], doc["available"]) == (
        "complete",
        1,
        2,
        2,
    )
    assert doc["failures"] == []


def test_status_of_a_crash_looping_rollout_says_why_and_exits_1(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)
    apply(kube_emulator, BAD)
    controller.settle(3)

    result = invoke("status", "web")
    assert result.exit_code == 1
    assert 'deployment "web" rollout failed' in result.stdout
    assert "CrashLoopBackOff" in result.stdout
    assert image_of(kube_emulator) == BAD  # status never rolls back

    doc = json.loads(invoke("status", "web", "-o", "json").stdout)
    assert doc["state"] == "failed"
    assert {f["reason"] for f in doc["failures"]} == {"CrashLoopBackOff"}


def test_status_watch_waits_for_the_rollout(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)
    apply(kube_emulator, NEXT)

    result = invoke("status", "web", "--watch")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("default/web rev 1: ")  # the new spec is not observed yet
    assert any("default/web rev 2: 1/2 updated" in line for line in lines)
    assert lines[-1] == 'deployment "web" successfully rolled out'


def test_status_watch_times_out_with_exit_1(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)
    apply(kube_emulator, NEXT)
    controller.tracked.clear()  # the controller is down: nothing moves

    result = invoke("status", "web", "--watch", "--timeout", "0", "-o", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["state"], doc["timed_out"]) == ("unknown", True)


def test_status_of_a_missing_deployment_is_an_error(invoke: Invoke) -> None:
    result = invoke("status", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == 'error: deployment "nope" not found in namespace "default"'


# --- history --------------------------------------------------------------------------------------


def test_history_lists_revisions_with_the_current_one_marked(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD, NEXT)

    result = invoke("history", "web")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["revision", "images", "change-cause", "created", "current"]
    assert rows[1][:4] == ["1", GOOD, "release", "1"]
    assert rows[2][:4] == ["2", NEXT, "release", "2"]
    assert rows[2][-1] == "*"
    assert rows[1][-1] != "*"

    doc = json.loads(invoke("history", "web", "-o", "json").stdout)
    assert [(r["revision"], r["images"], r["current"]) for r in doc] == [
        (1, [GOOD], False),
        (2, [NEXT], True),
    ]


# --- rollback -------------------------------------------------------------------------------------


def test_rollback_to_a_revision_waits_for_it(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD, NEXT)

    result = invoke("rollback", "web", "--to-revision", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == 'deployment "web" rolled back from revision 2 to revision 1'
    assert lines[-1] == 'deployment "web" successfully rolled out'
    assert image_of(kube_emulator) == GOOD
    found = kube_emulator.emulator.find("Deployment", "web", "default")
    assert found is not None
    # The old ReplicaSet's change-cause came back, and the controller re-numbered it.
    assert found["metadata"]["annotations"]["kubernetes.io/change-cause"] == "release 1"
    assert found["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_rollback_no_wait_json(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD, NEXT)

    result = invoke("rollback", "web", "--no-wait", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "namespace": "default",
        "name": "web",
        "from_revision": 2,
        "to_revision": 1,
    }
    assert image_of(kube_emulator) == GOOD


def test_rollback_to_an_unknown_revision_is_an_error(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD, NEXT)

    result = invoke("rollback", "web", "--to-revision", "9")
    assert result.exit_code == 1
    assert "unable to find specified revision 9" in result.stderr
    assert image_of(kube_emulator) == NEXT


def test_rollback_to_a_crashing_revision_exits_1_with_the_reason(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, BAD, GOOD)

    result = invoke("rollback", "web")
    assert result.exit_code == 1
    assert "CrashLoopBackOff" in result.stdout


# --- restart --------------------------------------------------------------------------------------


def test_restart_patches_the_template_and_waits(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)

    result = invoke("restart", "web")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == 'deployment "web" restarted'
    assert lines[-1] == 'deployment "web" successfully rolled out'
    found = kube_emulator.emulator.find("Deployment", "web", "default")
    assert found is not None
    assert (
        "kubectl.kubernetes.io/restartedAt" in found["spec"]["template"]["metadata"]["annotations"]
    )
    assert found["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


def test_restart_no_wait_json(
    kube_emulator: EmulatedCluster, controller: RolloutController, invoke: Invoke
) -> None:
    released(kube_emulator, controller, GOOD)

    result = invoke("restart", "web", "--no-wait", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"namespace": "default", "name": "web", "restarted": True}

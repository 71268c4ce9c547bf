"""Watching rollouts against the emulator, the test playing the controllers between polls."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from rich.console import Console

from _support.kube import EmulatedCluster
from _support.kube_rollout import Behaviour, RolloutController, deployment_manifest
from tuskops.errors import KubernetesError
from tuskops.kubernetes.cluster import CircuitBreaker, KubeClient
from tuskops.kubernetes.kubeconfig import load_cluster
from tuskops.kubernetes.rollout import RolloutFailure, RolloutStatus
from tuskops.kubernetes.watch import (
    RolloutOutcome,
    RolloutProgress,
    failure_reasons,
    restart,
    rollback,
    selector_string,
    watch_rollouts,
)

T = TypeVar("T")
GOOD, BAD, SLOW = "registry.example/web:1", "registry.example/web:2", "registry.example/web:3"


def behaviour(image: str) -> Behaviour:
    return {BAD: "crash", SLOW: "unready"}.get(image, "ready")


class Sim:
    """A fake clock and sleep: each sleep advances the clock and runs one controller step."""

    def __init__(self, controller: RolloutController) -> None:
        self.controller = controller
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.controller.step()


def with_kube(cluster: EmulatedCluster, body: Callable[[KubeClient], Awaitable[T]]) -> T:
    async def go() -> T:
        config = load_cluster(kubeconfig=cluster.kubeconfig)
        async with KubeClient(config, breaker=CircuitBreaker(cluster.url)) as kube:
            return await body(kube)

    return asyncio.run(go())


def released(
    cluster: EmulatedCluster, *names: str, first: str = GOOD
) -> tuple[RolloutController, Sim]:
    """Deployments at revision 1 (``first``), rolled out; the controller tracks them."""
    controller = RolloutController(cluster.emulator, behaviour)
    for name in names:
        controller.track("default", name)

    async def body(kube: KubeClient) -> None:
        for name in names:
            await kube.apply(deployment_manifest(first, name=name))

    with_kube(cluster, body)
    controller.settle()
    return controller, Sim(controller)


def watch(
    cluster: EmulatedCluster,
    sim: Sim,
    new_images: dict[str, str],
    *,
    progress: Callable[[str, RolloutStatus], None] | None = None,
    **kw: Any,
) -> list[RolloutOutcome]:
    """``tuskops apply`` of the new images, then the watch."""

    async def body(kube: KubeClient) -> list[RolloutOutcome]:
        for name, image in new_images.items():
            await kube.apply(deployment_manifest(image, name=name))
        return await watch_rollouts(
            kube,
            [("default", name) for name in new_images],
            sleep=sim.sleep,
            clock=sim.clock,
            on_progress=progress,
            **kw,
        )

    return with_kube(cluster, body)


def image_of(cluster: EmulatedCluster, name: str = "web") -> str:
    found = cluster.emulator.find("Deployment", name, "default")
    assert found is not None
    return str(found["spec"]["template"]["spec"]["containers"][0]["image"])


# --- pure helpers ---------------------------------------------------------------------------------


def test_selector_string_covers_match_labels_and_expressions() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
            {"key": "team", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert selector_string(selector) == (
        "app=web,tier in (api,web),track notin (canary),team,!legacy"
    )
    with pytest.raises(KubernetesError, match=r"no spec\.selector"):
        selector_string({})
    with pytest.raises(KubernetesError, match="operator"):
        selector_string({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_failure_reasons_put_fatal_first_and_name_the_reason() -> None:
    status = RolloutStatus(
        name="web",
        namespace="default",
        state="failed",
        message="",
        desired=1,
        updated=1,
        ready=0,
        available=0,
        total=1,
        failures=(
            RolloutFailure("Unhealthy", "pod p: Readiness probe failed"),
            RolloutFailure("ProgressDeadlineExceeded", "took too long", fatal=True),
        ),
    )
    assert failure_reasons(status) == (
        "ProgressDeadlineExceeded: took too long",
        "Unhealthy: pod p: Readiness probe failed",
    )


# --- watching -------------------------------------------------------------------------------------


def test_a_rollout_that_completes_is_reported_with_progress(
    kube_emulator: EmulatedCluster,
) -> None:
    _, sim = released(kube_emulator, "web")
    seen: list[tuple[str, str, int, int]] = []

    def progress(key: str, status: RolloutStatus) -> None:
        seen.append((key, status.state, status.updated, status.available))

    [outcome] = watch(kube_emulator, sim, {"web": SLOW.replace("3", "4")}, progress=progress)

    assert outcome.state == "complete"
    assert outcome.ok
    assert outcome.reasons == ()
    assert outcome.from_revision == 2
    assert seen[0] == ("default/web", "unknown", 2, 2)  # the spec change is not observed yet
    assert ("default/web", "progressing", 1, 2) in seen  # old pods still available
    assert seen[-1] == ("default/web", "complete", 2, 2)
    assert set(sim.sleeps) == {2.0}


def test_crash_looping_pods_are_rolled_back_to_the_previous_revision(
    kube_emulator: EmulatedCluster,
) -> None:
    _, sim = released(kube_emulator, "web")

    [outcome] = watch(kube_emulator, sim, {"web": BAD})

    assert outcome.state == "rolled_back"
    assert (outcome.from_revision, outcome.to_revision) == (2, 1)
    assert any("CrashLoopBackOff" in r for r in outcome.reasons)
    assert image_of(kube_emulator) == GOOD
    assert outcome.status is not None
    assert outcome.status.state == "complete"
    # The controller re-numbered the old ReplicaSet as the newest revision.
    assert outcome.status.revision == 3
    # The rollback is tuskops' applied configuration: replicas kept, no other manager.
    found = kube_emulator.emulator.find("Deployment", "web", "default")
    assert found is not None
    assert found["spec"]["replicas"] == 2
    assert {m["manager"] for m in found["metadata"]["managedFields"]} == {"tuskops"}


def test_without_rollback_a_failed_rollout_is_left_and_reported(
    kube_emulator: EmulatedCluster,
) -> None:
    _, sim = released(kube_emulator, "web")

    [outcome] = watch(kube_emulator, sim, {"web": BAD}, rollback=False)

    assert outcome.state == "failed"
    assert outcome.to_revision is None
    assert any("CrashLoopBackOff" in r for r in outcome.reasons)
    assert image_of(kube_emulator) == BAD


def test_a_rollout_that_never_finishes_times_out_and_is_rolled_back(
    kube_emulator: EmulatedCluster,
) -> None:
    _, sim = released(kube_emulator, "web")

    [outcome] = watch(kube_emulator, sim, {"web": SLOW}, timeout=10, poll=3)

    assert outcome.state == "rolled_back"
    assert outcome.reasons[0].startswith("timed out after 10s: ")
    assert any("Readiness probe failed" in r for r in outcome.reasons)
    assert image_of(kube_emulator) == GOOD
    assert max(sim.sleeps) == 3
    assert 1 in sim.sleeps  # the last sleep stops at the deadline


def test_progress_deadline_exceeded_is_rolled_back(kube_emulator: EmulatedCluster) -> None:
    controller, sim = released(kube_emulator, "web")
    controller.deadline_steps = 3

    [outcome] = watch(kube_emulator, sim, {"web": SLOW})

    assert outcome.state == "rolled_back"
    assert outcome.reasons[0] == (
        'ProgressDeadlineExceeded: ReplicaSet "'
        + outcome.reasons[0].split('"')[1]
        + '" has timed out progressing.'
    )
    assert any("Readiness probe failed" in r for r in outcome.reasons)
    assert image_of(kube_emulator) == GOOD


def test_a_first_revision_that_fails_cannot_be_rolled_back(
    kube_emulator: EmulatedCluster,
) -> None:
    controller = RolloutController(kube_emulator.emulator, behaviour)
    controller.track("default", "web")
    sim = Sim(controller)

    [outcome] = watch(kube_emulator, sim, {"web": BAD})

    assert outcome.state == "failed"
    assert outcome.reasons[-1].startswith("rollback failed: no rollout history found")


def test_several_deployments_are_watched_concurrently(kube_emulator: EmulatedCluster) -> None:
    _, sim = released(kube_emulator, "web", "api", "gone")
    kube_emulator.emulator.store.pop(("apps/v1", "deployments", "default", "gone"))

    async def body(kube: KubeClient) -> list[RolloutOutcome]:
        await kube.apply(deployment_manifest(BAD, name="web"))
        await kube.apply(deployment_manifest(SLOW.replace("3", "5"), name="api"))
        return await watch_rollouts(
            kube,
            [("default", "web"), ("default", "api"), ("default", "gone")],
            sleep=sim.sleep,
            clock=sim.clock,
        )

    web, api, gone = with_kube(kube_emulator, body)

    assert (web.name, web.state) == ("web", "rolled_back")
    assert (api.name, api.state) == ("api", "complete")
    assert gone.state == "failed"
    assert "not found" in gone.reasons[0]


def test_a_rollback_that_fails_too_is_failed(kube_emulator: EmulatedCluster) -> None:
    controller, sim = released(kube_emulator, "web")
    # Revision 1 now crashes as well (a dependency it needs went away, say).
    controller.behaviour = lambda image: "crash"
    for (av, plural, _ns, _name), obj in list(kube_emulator.emulator.store.items()):
        if (av, plural) == ("v1", "pods"):
            obj["status"] = {}

    [outcome] = watch(kube_emulator, sim, {"web": BAD}, timeout=20)

    assert outcome.state == "failed"
    assert outcome.to_revision == 1
    assert "the rollback to revision 1 did not complete" in outcome.reasons[-1]


# --- rollback and restart -------------------------------------------------------------------------


def test_rollback_to_a_revision_and_restart(kube_emulator: EmulatedCluster) -> None:
    controller, _ = released(kube_emulator, "web")

    async def body(kube: KubeClient) -> tuple[int | None, int]:
        await kube.apply(deployment_manifest(SLOW.replace("3", "6"), name="web"))
        controller.settle()
        return await rollback(kube, "default", "web", to_revision=1)

    assert with_kube(kube_emulator, body) == (2, 1)
    assert image_of(kube_emulator) == GOOD

    import datetime

    when = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)

    async def restart_body(kube: KubeClient) -> dict[str, Any]:
        return await restart(kube, "default", "web", when)

    patched = with_kube(kube_emulator, restart_body)
    annotations = patched["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}
    managers = {(m["manager"], m["operation"]) for m in patched["metadata"]["managedFields"]}
    assert ("tuskops-rollout", "Update") in managers


def test_restart_refuses_a_paused_deployment(kube_emulator: EmulatedCluster) -> None:
    released(kube_emulator, "web")
    kube_emulator.emulator.store[("apps/v1", "deployments", "default", "web")]["spec"]["paused"] = (
        True
    )
    import datetime

    async def body(kube: KubeClient) -> None:
        await restart(kube, "default", "web", datetime.datetime.now(datetime.UTC))

    with pytest.raises(KubernetesError, match="paused"):
        with_kube(kube_emulator, body)


# --- progress display -----------------------------------------------------------------------------


def status(state: str, updated: int, available: int) -> RolloutStatus:
    return RolloutStatus(
        name="web",
        namespace="shop",
        state=state,  # type: ignore[arg-type]
        message="",
        desired=3,
        updated=updated,
        ready=available,
        available=available,
        total=3,
        revision=4,
    )


def test_progress_prints_plain_lines_when_not_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    with RolloutProgress(console) as progress:
        progress("shop/web", status("progressing", 1, 0))
        progress("shop/web", status("progressing", 1, 0))  # unchanged: not repeated
        progress("shop/web", status("complete", 3, 3))
    assert buffer.getvalue().splitlines() == [
        "shop/web rev 4: 1/3 updated, 0 ready, 0 available — progressing",
        "shop/web rev 4: 3/3 updated, 3 ready, 3 available — complete",
    ]


def test_progress_draws_a_live_table_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=True)
    with RolloutProgress(console) as progress:
        assert progress.live
        progress("shop/web", status("progressing", 1, 0))
        progress("shop/api", status("complete", 3, 3))
    text = buffer.getvalue()
    assert "deployment" in text
    assert "available" in text
    assert "shop/api" in text

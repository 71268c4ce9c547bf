"""Blue-green and canary releases driven against the emulator; the test plays the controllers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from _support.kube import EmulatedCluster
from _support.kube_release import Controllers, job_status, release_cluster, rolled_out_status
from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.bluegreen import TRACK_LABEL, ScaleTo, switched_at
from tuskops.kubernetes.builders.common import selector_labels
from tuskops.kubernetes.builders.networking import service
from tuskops.kubernetes.builders.workload import deployment
from tuskops.kubernetes.canary import CanaryPlan, StepResult
from tuskops.kubernetes.cluster import CircuitBreaker, KubeClient, load_cluster
from tuskops.kubernetes.release import (
    ReleaseOutcome,
    run_bluegreen,
    run_canary,
    scale_deployment,
    switch_back,
)
from tuskops.kubernetes.spec import AppSpec, parse_app_spec

T = TypeVar("T")
NS = "shop"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmulatedCluster]:
    with release_cluster(tmp_path) as emulated:
        emulated.emulator.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        yield emulated


@pytest.fixture
def controllers(cluster: EmulatedCluster) -> Controllers:
    return Controllers(cluster.emulator, NS)


def make_spec(version: str = "1.0", **keys: Any) -> AppSpec:
    base: dict[str, Any] = {
        "name": "shop",
        "namespace": NS,
        "image": f"ghcr.io/acme/shop:{version}",
        "replicas": 3,
        "ports": [{"name": "http", "port": 8080, "service_port": 80}],
        "probes": {"readiness": {"http": "/ready", "port": "http"}},
    }
    return parse_app_spec({**base, **keys})


def with_client(
    cluster: EmulatedCluster, body: Callable[[KubeClient], Coroutine[Any, Any, T]]
) -> T:
    async def go() -> T:
        config = load_cluster(kubeconfig=cluster.kubeconfig)
        async with KubeClient(config, breaker=CircuitBreaker(cluster.url)) as kube:
            return await body(kube)

    return asyncio.run(go())


def bluegreen(
    cluster: EmulatedCluster, controllers: Controllers, spec: AppSpec, **kw: Any
) -> tuple[ReleaseOutcome, list[str]]:
    events: list[str] = []

    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await run_bluegreen(
            kube,
            spec,
            sleep=controllers.sleep,
            now=controllers.clock,
            on_event=events.append,
            **kw,
        )

    return with_client(cluster, body), events


def stored(cluster: EmulatedCluster, kind: str, name: str) -> dict[str, Any]:
    found = cluster.emulator.find(kind, name, NS)
    assert found is not None, f"{kind} {name} is not stored"
    return found


def track_of(cluster: EmulatedCluster) -> str:
    return str(stored(cluster, "Service", "shop")["spec"]["selector"][TRACK_LABEL])


def replicas(cluster: EmulatedCluster, name: str) -> int:
    return int(stored(cluster, "Deployment", name)["spec"]["replicas"])


def image(cluster: EmulatedCluster, name: str) -> str:
    template = stored(cluster, "Deployment", name)["spec"]["template"]
    return str(template["spec"]["containers"][0]["image"])


# --- blue-green ------------------------------------------------------------------------------


def test_first_release_goes_to_blue_and_creates_the_service(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    outcome, events = bluegreen(cluster, controllers, make_spec())
    assert outcome.result == "released"
    assert outcome.ok
    assert (outcome.serving, outcome.previous) == ("shop-blue", None)
    assert track_of(cluster) == "blue"
    assert replicas(cluster, "shop-blue") == 3
    assert cluster.emulator.find("Service", "shop-blue-preview", NS) is None
    assert any("first release" in line for line in events)
    job = next(k for k in cluster.emulator.store if k[1] == "jobs")
    assert cluster.emulator.store[job]["status"]["succeeded"] == 1


def test_release_switches_the_service_and_scales_the_old_colour_down_after_the_delay(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    delay = timedelta(minutes=5)
    outcome, events = bluegreen(
        cluster, controllers, make_spec("2.0"), scale_down_delay=delay, wait_for_scale_down=True
    )
    assert outcome.result == "released", outcome.reason
    assert (outcome.serving, outcome.previous) == ("shop-green", "shop-blue")
    assert track_of(cluster) == "green"
    assert image(cluster, "shop-green") == "ghcr.io/acme/shop:2.0"
    assert replicas(cluster, "shop-green") == 3
    # The old colour was scaled through the scale subresource (its template is untouched)...
    blue = stored(cluster, "Deployment", "shop-blue")
    assert blue["spec"]["replicas"] == 0
    assert image(cluster, "shop-blue") == "ghcr.io/acme/shop:1.0"
    scalers = [e for e in blue["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert [e["manager"] for e in scalers] == ["tuskops"]
    # ...and only once the delay had passed since the switch (on the fake clock).
    switch_time = switched_at(stored(cluster, "Service", "shop"))
    assert switch_time is not None
    assert controllers.now - switch_time >= delay
    assert cluster.emulator.find("Service", "shop-green-preview", NS) is None
    steps = [line.split(":")[0] for line in events]
    for step in ("deploy-idle", "wait-available", "verify", "switch", "scale-down"):
        assert step in steps


def test_without_waiting_the_old_colour_keeps_its_pods_and_the_due_time_is_reported(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    outcome, _ = bluegreen(cluster, controllers, make_spec("2.0"), scale_down_delay=timedelta(60))
    assert outcome.result == "released"
    assert track_of(cluster) == "green"
    assert replicas(cluster, "shop-blue") == 3
    switch_time = switched_at(stored(cluster, "Service", "shop"))
    assert switch_time is not None
    assert outcome.scale_down_after == switch_time + timedelta(60)
    assert any("kubectl scale deployment/shop-blue" in note for note in outcome.notes)
    assert cluster.emulator.find("Service", "shop-green-preview", NS) is None
    assert outcome.to_dict()["scale_down_after"] == outcome.scale_down_after.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_failed_verification_aborts_without_switching(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    controllers.job_result = job_status(
        False, "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    )
    outcome, events = bluegreen(cluster, controllers, make_spec("2.0"))
    assert outcome.result == "aborted"
    assert not outcome.ok
    assert "BackoffLimitExceeded" in outcome.reason
    assert "the Service was not switched" in outcome.reason
    assert outcome.serving == "shop-blue"
    assert track_of(cluster) == "blue"
    assert replicas(cluster, "shop-green") == 0
    assert replicas(cluster, "shop-blue") == 3
    assert cluster.emulator.find("Service", "shop-green-preview", NS) is None
    assert events[-1].startswith("aborted:")


def test_an_idle_colour_that_never_becomes_available_times_out_and_aborts(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    controllers.stuck.add("shop-green")
    outcome, _ = bluegreen(cluster, controllers, make_spec("2.0"), timeout=30, poll=5)
    assert outcome.result == "aborted"
    assert "timed out after 30s at wait-available" in outcome.reason
    assert track_of(cluster) == "blue"
    assert replicas(cluster, "shop-green") == 0
    assert not any(k[1] == "jobs" and "2.0" in str(v) for k, v in cluster.emulator.store.items())


def test_switch_back_is_instant_while_the_old_colour_has_its_pods(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    bluegreen(cluster, controllers, make_spec("2.0"))
    assert track_of(cluster) == "green"
    slept_before = len(controllers.slept)

    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await switch_back(
            kube, make_spec("2.0"), sleep=controllers.sleep, now=controllers.clock
        )

    outcome = with_client(cluster, body)
    assert outcome.result == "switched-back"
    assert (outcome.serving, outcome.previous) == ("shop-blue", "shop-green")
    assert track_of(cluster) == "blue"
    assert replicas(cluster, "shop-green") == 3  # the way forward again
    assert len(controllers.slept) == slept_before  # nothing to wait for


def test_switch_back_scales_a_scaled_down_colour_up_before_switching(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    bluegreen(cluster, controllers, make_spec("2.0"), wait_for_scale_down=True)
    assert replicas(cluster, "shop-blue") == 0
    events: list[str] = []

    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await switch_back(
            kube,
            make_spec("2.0"),
            sleep=controllers.sleep,
            now=controllers.clock,
            on_event=events.append,
        )

    outcome = with_client(cluster, body)
    assert outcome.result == "switched-back"
    assert replicas(cluster, "shop-blue") == 3
    assert track_of(cluster) == "blue"
    assert any("scaling it to 3" in line for line in events)


def test_switch_back_refuses_a_colour_that_does_not_roll_out(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    bluegreen(cluster, controllers, make_spec("1.0"))
    bluegreen(cluster, controllers, make_spec("2.0"), wait_for_scale_down=True)
    controllers.stuck.add("shop-blue")

    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await switch_back(
            kube,
            make_spec("2.0"),
            timeout=10,
            poll=5,
            sleep=controllers.sleep,
            now=controllers.clock,
        )

    outcome = with_client(cluster, body)
    assert outcome.result == "failed"
    assert "not switching to blue" in outcome.reason
    assert track_of(cluster) == "green"


def test_switch_back_without_a_blue_green_service_is_an_error(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await switch_back(kube, make_spec(), sleep=controllers.sleep, now=controllers.clock)

    with pytest.raises(KubernetesError, match="nothing to switch back"):
        with_client(cluster, body)


def test_scaling_a_missing_deployment_down_is_nothing_to_do_but_up_is_an_error(
    cluster: EmulatedCluster,
) -> None:
    async def body(kube: KubeClient) -> tuple[bool, bool]:
        down = await scale_deployment(kube, ScaleTo("shop-blue", NS, 0))
        with pytest.raises(ClusterError):
            await scale_deployment(kube, ScaleTo("shop-blue", NS, 2))
        with pytest.raises(KubernetesError):
            await scale_deployment(kube, ScaleTo("shop-blue", NS, -1))
        return down, True

    assert with_client(cluster, body) == (False, True)


# --- canary ----------------------------------------------------------------------------------


def deploy_stable(cluster: EmulatedCluster, spec: AppSpec) -> None:
    """The app as a plain Deployment and Service, rolled out (what `tuskops apply` leaves)."""

    async def body(kube: KubeClient) -> None:
        await kube.apply(deployment(spec), force=True)
        svc = service(spec)
        assert svc is not None
        await kube.apply(svc, force=True)

    with_client(cluster, body)
    stable = cluster.emulator.store[("apps/v1", "deployments", NS, spec.name)]
    stable["status"] = rolled_out_status(stable)


def canary(
    cluster: EmulatedCluster, controllers: Controllers, spec: AppSpec, **kw: Any
) -> tuple[ReleaseOutcome, list[str]]:
    events: list[str] = []

    async def body(kube: KubeClient) -> ReleaseOutcome:
        return await run_canary(
            kube,
            spec,
            sleep=controllers.sleep,
            now=controllers.clock,
            on_event=events.append,
            **kw,
        )

    return with_client(cluster, body), events


def test_canary_goes_through_every_step_then_promotes(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    deploy_stable(cluster, make_spec("1.0", replicas=4))
    seen: list[tuple[int, int, int, str]] = []

    async def analysis(kube: KubeClient, spec: AppSpec, plan: CanaryPlan) -> StepResult:
        counts = [
            ((await kube.get("apps/v1", "Deployment", name, NS)) or {}).get("spec", {})
            for name in ("shop", "shop-canary")
        ]
        seen.append((plan.step_index, counts[0]["replicas"], counts[1]["replicas"], plan.kind))
        return StepResult(plan.step_index, True, True, "error rate 0%")

    outcome, events = canary(
        cluster,
        controllers,
        make_spec("2.0", replicas=4),
        steps=(25, 50, 100),
        pause=30,
        analysis=analysis,
    )
    assert outcome.result == "released", outcome.reason
    # (step, stable replicas, canary replicas): the ratio grows stepwise, then promote.
    assert seen == [
        (0, 3, 1, "step"),
        (1, 2, 2, "step"),
        (2, 0, 4, "step"),
        (3, 4, 0, "promote"),
    ]
    assert image(cluster, "shop") == "ghcr.io/acme/shop:2.0"
    assert image(cluster, "shop-canary") == "ghcr.io/acme/shop:2.0"
    assert (replicas(cluster, "shop"), replicas(cluster, "shop-canary")) == (4, 0)
    assert controllers.slept.count(30) == 3  # a pause after each step, none before promote
    assert any(line.startswith("step 1 (50%)") for line in events)
    assert any(line.startswith("promote:") for line in events)


def crash_looping_canary_pod() -> dict[str, Any]:
    spec = make_spec()
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "shop-canary-abc12",
            "namespace": NS,
            "labels": {**selector_labels(spec), TRACK_LABEL: "canary"},
        },
        "spec": {"containers": [{"name": "shop", "image": "ghcr.io/acme/shop:2.0"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "shop",
                    "ready": False,
                    "restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        },
    }


def test_canary_with_an_unhealthy_pod_rolls_back_by_default(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    deploy_stable(cluster, make_spec("1.0", replicas=4))
    cluster.emulator.put(crash_looping_canary_pod())
    outcome, events = canary(cluster, controllers, make_spec("2.0", replicas=4), pause=0)
    assert outcome.result == "rolled-back"
    assert not outcome.ok
    assert "step 0 is unhealthy" in outcome.reason
    assert "CrashLoopBackOff" in outcome.reason
    # The stable never left its template and has every replica again.
    assert image(cluster, "shop") == "ghcr.io/acme/shop:1.0"
    assert (replicas(cluster, "shop"), replicas(cluster, "shop-canary")) == (4, 0)
    assert events[-1].startswith("rolled back:")


def test_canary_step_failure_of_a_custom_analysis_rolls_back(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    deploy_stable(cluster, make_spec("1.0", replicas=4))

    async def analysis(kube: KubeClient, spec: AppSpec, plan: CanaryPlan) -> StepResult:
        healthy = plan.step_index < 1
        return StepResult(plan.step_index, True, healthy, f"error rate {0 if healthy else 5}%")

    outcome, _ = canary(cluster, controllers, make_spec("2.0", replicas=4), analysis=analysis)
    assert outcome.result == "rolled-back"
    assert outcome.reason == "step 1 is unhealthy: error rate 5%"
    assert (replicas(cluster, "shop"), replicas(cluster, "shop-canary")) == (4, 0)
    assert image(cluster, "shop") == "ghcr.io/acme/shop:1.0"


def test_canary_that_does_not_roll_out_rolls_back(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    deploy_stable(cluster, make_spec("1.0", replicas=4))
    controllers.stuck.add("shop-canary")
    outcome, _ = canary(
        cluster, controllers, make_spec("2.0", replicas=4), pause=0, timeout=20, poll=5
    )
    assert outcome.result == "rolled-back"
    assert "step 0 did not roll out" in outcome.reason
    assert "timed out after 20s" in outcome.reason
    assert replicas(cluster, "shop") == 4


def test_an_analysis_without_a_verdict_is_not_a_pass(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    deploy_stable(cluster, make_spec("1.0", replicas=4))

    async def analysis(kube: KubeClient, spec: AppSpec, plan: CanaryPlan) -> StepResult:
        raise KubernetesError("prometheus unreachable")

    outcome, _ = canary(
        cluster,
        controllers,
        make_spec("2.0", replicas=4),
        pause=0,
        analysis=analysis,
        timeout=10,
        poll=5,
    )
    assert outcome.result == "rolled-back"
    assert "no verdict within 10s" in outcome.reason
    assert "prometheus unreachable" in outcome.reason


def test_canary_without_a_stable_deployment_is_refused(
    cluster: EmulatedCluster, controllers: Controllers
) -> None:
    with pytest.raises(KubernetesError, match="deploy it normally first"):
        canary(cluster, controllers, make_spec("2.0"))

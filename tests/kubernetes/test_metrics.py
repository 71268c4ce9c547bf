"""metrics.k8s.io responses, top rows, availability and recommendations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.metrics import (
    NodeUsage,
    UsageSample,
    metrics_unavailable,
    parse_go_duration,
    parse_node_metrics,
    parse_pod_metrics,
    recommend,
    recommend_workloads,
    top_nodes,
    top_pods,
    workload_of,
)

MIB = 2**20
T0 = datetime(2024, 5, 1, tzinfo=UTC)

POD_METRICS: dict[str, Any] = {
    "kind": "PodMetricsList",
    "apiVersion": "metrics.k8s.io/v1beta1",
    "metadata": {},
    "items": [
        {
            "metadata": {"name": "web-7d9f8c-abcde", "namespace": "shop"},
            "timestamp": "2024-05-01T10:00:00Z",
            "window": "15.012s",
            "containers": [
                {"name": "app", "usage": {"cpu": "250123456n", "memory": "100Mi"}},
                {"name": "proxy", "usage": {"cpu": "5m", "memory": "20Mi"}},
            ],
        },
        {
            "metadata": {"name": "db-0", "namespace": "shop"},
            "timestamp": "2024-05-01T10:00:05Z",
            "window": "1m0s",
            "containers": [{"name": "db", "usage": {"cpu": "1", "memory": "1Gi"}}],
        },
    ],
}

NODE_METRICS: dict[str, Any] = {
    "kind": "NodeMetricsList",
    "apiVersion": "metrics.k8s.io/v1beta1",
    "items": [
        {
            "metadata": {"name": "n1"},
            "timestamp": "2024-05-01T10:00:00Z",
            "window": "20s",
            "usage": {"cpu": "1500m", "memory": "4Gi"},
        },
        {
            "metadata": {"name": "n2"},
            "timestamp": "2024-05-01T10:00:00Z",
            "window": "20s",
            "usage": {"cpu": "500m", "memory": "6Gi"},
        },
    ],
}


def pod_object(name: str, containers: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", **meta},
        "spec": {"containers": containers},
    }


def c(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"name": name, "resources": {"requests": requests or {}, "limits": limits or {}}}


# --- reading --------------------------------------------------------------------------------------


def test_parse_pod_metrics() -> None:
    samples = parse_pod_metrics(POD_METRICS)
    assert [(s.pod, s.container) for s in samples] == [
        ("web-7d9f8c-abcde", "app"),
        ("web-7d9f8c-abcde", "proxy"),
        ("db-0", "db"),
    ]
    app = samples[0]
    assert app.cpu == Decimal("0.250123456")
    assert app.memory == 100 * MIB
    assert app.window == timedelta(seconds=15.012)
    assert app.timestamp == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert samples[2].window == timedelta(minutes=1)


def test_parse_node_metrics() -> None:
    nodes = parse_node_metrics(NODE_METRICS)
    assert [(n.node, n.cpu, n.memory) for n in nodes] == [
        ("n1", Decimal("1.5"), Decimal(4 * 2**30)),
        ("n2", Decimal("0.5"), Decimal(6 * 2**30)),
    ]


def test_errors_name_the_field() -> None:
    bad = {
        "kind": "PodMetricsList",
        "items": [
            {
                **POD_METRICS["items"][0],
                "containers": [{"name": "app", "usage": {"cpu": "fast", "memory": "1Mi"}}],
            }
        ],
    }
    with pytest.raises(KubernetesSpecError) as info:
        parse_pod_metrics(bad)
    assert info.value.field == "PodMetricsList: items[0].containers[0].usage.cpu"
    with pytest.raises(KubernetesSpecError, match="expected PodMetricsList"):
        parse_pod_metrics({"kind": "PodList", "items": []})
    with pytest.raises(KubernetesSpecError) as info:
        parse_node_metrics(
            {
                "items": [
                    {
                        "metadata": {"name": "n"},
                        "timestamp": "yesterday",
                        "usage": {"cpu": "1", "memory": "1"},
                    }
                ]
            }
        )
    assert info.value.field == "NodeMetricsList: items[0].timestamp"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15s", timedelta(seconds=15)),
        ("1m0.5s", timedelta(seconds=60.5)),
        ("250ms", timedelta(milliseconds=250)),
        ("1h2m", timedelta(hours=1, minutes=2)),
        ("0", timedelta(0)),
        ("1.5us", timedelta(microseconds=1.5)),
    ],
)
def test_go_durations(text: str, value: timedelta) -> None:
    assert parse_go_duration(text) == value


@pytest.mark.parametrize("text", ["", "15", "s", "1d", "1m x"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(KubernetesSpecError):
        parse_go_duration(text)


# --- availability ---------------------------------------------------------------------------------


def test_metrics_api_not_served() -> None:
    verdict = metrics_unavailable(
        {"kind": "APIGroupList", "groups": [{"name": "apps", "versions": []}]}
    )
    assert verdict is not None
    assert verdict.reason == "NotServed"
    assert verdict.message.startswith("metrics.k8s.io is not served: install metrics-server")


def test_metrics_api_served_and_available() -> None:
    groups = {
        "groups": [
            {
                "name": "metrics.k8s.io",
                "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}],
            }
        ]
    }
    svc = {"status": {"conditions": [{"type": "Available", "status": "True"}]}}
    assert metrics_unavailable(groups) is None
    assert metrics_unavailable(groups, svc) is None
    down = {
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "MissingEndpoints",
                    "message": "endpoints for service/metrics-server have no addresses",
                }
            ]
        }
    }
    verdict = metrics_unavailable(groups, down)
    assert verdict is not None
    assert verdict.reason == "NotAvailable"
    assert "MissingEndpoints" in verdict.message
    assert (
        metrics_unavailable(
            {"groups": [{"name": "metrics.k8s.io", "versions": [{"version": "v1"}]}]}
        )
        is not None
    )


def test_aggregated_discovery_and_stale_freshness() -> None:
    fresh = {
        "kind": "APIGroupDiscoveryList",
        "items": [
            {
                "metadata": {"name": "metrics.k8s.io"},
                "versions": [{"version": "v1beta1", "freshness": "Current"}],
            }
        ],
    }
    stale = {
        "kind": "APIGroupDiscoveryList",
        "items": [
            {
                "metadata": {"name": "metrics.k8s.io"},
                "versions": [{"version": "v1beta1", "freshness": "Stale"}],
            }
        ],
    }
    assert metrics_unavailable(fresh) is None
    verdict = metrics_unavailable(stale)
    assert verdict is not None
    assert verdict.reason == "NotAvailable"


# --- top ------------------------------------------------------------------------------------------


def test_top_pods_sums_containers_and_sorts_by_cpu() -> None:
    rows = top_pods(parse_pod_metrics(POD_METRICS))
    assert [r.pod for r in rows] == ["db-0", "web-7d9f8c-abcde"]
    web = rows[1]
    assert web.cpu == Decimal("0.255123456")
    assert web.memory == 120 * MIB
    assert web.cpu_of_request is None  # no pod objects: no percentages
    assert [r.pod for r in top_pods(parse_pod_metrics(POD_METRICS), sort_by="name")] == [
        "db-0",
        "web-7d9f8c-abcde",
    ]


def test_top_pods_percentages_of_requests_and_limits() -> None:
    pods = [
        pod_object(
            "web-7d9f8c-abcde",
            [
                c("app", {"cpu": "500m", "memory": "200Mi"}, {"memory": "400Mi"}),
                c("proxy", {"cpu": "10m", "memory": "40Mi"}, {"memory": "40Mi"}),
            ],
        ),
    ]
    rows = top_pods(parse_pod_metrics(POD_METRICS), pods)
    web = next(r for r in rows if r.pod.startswith("web"))
    assert web.cpu_request == Decimal("0.51")
    assert web.memory_request == 240 * MIB
    assert web.memory_of_request == pytest.approx(50.0)
    assert web.memory_of_limit == pytest.approx(120 / 440 * 100)
    assert web.cpu_limit is None  # no cpu limits set
    assert web.cpu_of_limit is None
    db = next(r for r in rows if r.pod == "db-0")
    assert db.cpu_request is None
    assert "pod object not given" in db.problems[0]

    per_container = top_pods(
        parse_pod_metrics(POD_METRICS), pods, containers=True, sort_by="memory"
    )
    assert [(r.pod, r.container) for r in per_container][1:] == [
        ("web-7d9f8c-abcde", "app"),
        ("web-7d9f8c-abcde", "proxy"),
    ]
    app = per_container[1]
    assert app.cpu_of_request == pytest.approx(50.0246912)


def test_top_pods_uses_the_latest_sample() -> None:
    old = UsageSample("ns", "p", "c", Decimal(1), Decimal(1), T0, timedelta(seconds=15))
    new = UsageSample(
        "ns", "p", "c", Decimal(2), Decimal(2), T0 + timedelta(minutes=1), timedelta(seconds=15)
    )
    (row,) = top_pods([new, old])
    assert row.cpu == 2


def test_top_nodes_percent_of_allocatable_and_nodes_without_metrics() -> None:
    nodes = [
        {"metadata": {"name": n}, "status": {"allocatable": {"cpu": "2", "memory": "8Gi"}}}
        for n in ("n1", "n2", "n3")
    ]
    rows = top_nodes(parse_node_metrics(NODE_METRICS), nodes)
    assert [r.node for r in rows] == ["n1", "n2", "n3"]
    assert rows[0].cpu_percent == pytest.approx(75.0)
    assert rows[1].memory_percent == pytest.approx(75.0)
    assert rows[2].cpu is None
    assert rows[2].cpu_percent is None
    assert rows[2].problems == ("no metrics for this node",)
    by_memory = top_nodes(parse_node_metrics(NODE_METRICS), sort_by="memory")
    assert [r.node for r in by_memory] == ["n2", "n1"]
    assert by_memory[0].cpu_percent is None
    with pytest.raises(KubernetesSpecError):
        top_nodes([NodeUsage("n", Decimal(1), Decimal(1), T0, timedelta(0))], sort_by="size")  # type: ignore[arg-type]


# --- recommendations ------------------------------------------------------------------------------


def series(
    cpus: list[str], mems: list[int], *, step: timedelta = timedelta(minutes=1), pod: str = "p"
) -> list[UsageSample]:
    from tuskops.kubernetes.quantity import parse_quantity

    return [
        UsageSample(
            "ns",
            pod,
            "app",
            parse_quantity(cpu),
            Decimal(mem),
            T0 + i * step,
            timedelta(seconds=15),
        )
        for i, (cpu, mem) in enumerate(zip(cpus, mems, strict=True))
    ]


def test_no_or_too_few_samples_is_unknown() -> None:
    r = recommend([])
    assert r.status == "unknown"
    assert r.requests() == {}
    assert r.limits() == {}
    r = recommend(series(["100m"] * 3, [MIB] * 3))
    assert r.status == "unknown"
    assert "fewer than 10" in r.reason
    assert r.cpu_request is None


def test_cpu_request_is_the_percentile_plus_margin() -> None:
    cpus = [f"{100 * (i + 1)}m" for i in range(10)]  # 100m .. 1000m
    r = recommend(series(cpus, [100 * MIB] * 10))
    assert r.status == "ok"
    # nearest-rank p90 of 10 samples is the 9th: 900m; + 15% = 1035m
    assert r.cpu_request == Decimal("1.035")
    assert r.requests()["cpu"] == "1035m"
    assert r.cpu_limit is None  # no CPU limit unless asked
    assert recommend(series(cpus, [MIB] * 10), cpu_limit_ratio=2).cpu_limit == Decimal("2.07")
    assert r.cpu_peak == 1


def test_memory_uses_peaks_and_the_limit_is_never_below_the_peak() -> None:
    mems = [100 * MIB] * 19 + [300 * MIB]
    r = recommend(series(["100m"] * 20, mems))
    # one container instance, one 24 h interval: one peak of 300Mi; + 15% -> 345Mi
    assert r.memory_request == 345 * MIB
    assert r.memory_limit == 345 * MIB
    assert r.requests() == {"cpu": "115m", "memory": "345Mi"}
    # Peaks per hour: the 90th percentile of the hourly peaks ignores the one spike...
    hourly = series(["100m"] * 20, mems, step=timedelta(hours=1))
    r = recommend(hourly, memory_peak_interval=timedelta(hours=1))
    assert r.memory_request == 115 * MIB
    # ...but the limit still covers it.
    assert r.memory_limit == 345 * MIB
    assert r.memory_limit >= r.memory_peak  # type: ignore[operator]


def test_floors_rounding_and_bounds() -> None:
    r = recommend(series(["1m"] * 12, [MIB] * 12))
    assert r.cpu_request == Decimal("0.01")  # min_cpu
    assert r.memory_request == 16 * MIB  # min_memory
    assert r.cpu_lower == Decimal("0.01")
    assert r.cpu_upper is not None
    assert r.cpu_upper >= r.cpu_request
    # 12 samples over 11 minutes: confidence = min(11/1440 days, 12/1440)
    assert r.confidence == pytest.approx(11 / 1440)


def test_confidence_widens_the_bounds() -> None:
    short = recommend(series(["500m"] * 20, [500 * MIB] * 20))
    long = recommend(series(["500m"] * 3000, [500 * MIB] * 3000))
    assert long.confidence > short.confidence
    assert long.cpu_upper < short.cpu_upper  # type: ignore[operator]
    assert long.cpu_lower > short.cpu_lower  # type: ignore[operator]
    assert long.cpu_request == short.cpu_request == Decimal("0.575")


def test_one_instant_has_no_upper_bound() -> None:
    samples = [s for i in range(12) for s in series(["200m"], [MIB], pod=f"p{i}")]
    r = recommend(samples)
    assert r.status == "ok"
    assert r.cpu_upper is None
    assert "no upper bound" in r.reason


def test_duplicates_count_once_and_options_are_checked() -> None:
    samples = series(["100m"] * 6, [MIB] * 6)
    assert recommend(samples + samples).status == "unknown"
    with pytest.raises(KubernetesSpecError) as info:
        recommend(samples, cpu_percentile=1.5)
    assert info.value.field == "recommend.cpu_percentile"
    with pytest.raises(KubernetesSpecError):
        recommend(samples, memory_limit_ratio=0.5)


def test_recommend_per_workload_container() -> None:
    rs_owner = [{"kind": "ReplicaSet", "name": "web-7d9f8c", "controller": True}]
    pods = [
        pod_object(
            "web-7d9f8c-a",
            [],
            ownerReferences=rs_owner,
            labels={"pod-template-hash": "7d9f8c"},
            namespace="ns",
        ),
        pod_object(
            "web-7d9f8c-b",
            [],
            ownerReferences=rs_owner,
            labels={"pod-template-hash": "7d9f8c"},
            namespace="ns",
        ),
        pod_object(
            "db-0", [], ownerReferences=[{"kind": "StatefulSet", "name": "db", "controller": True}]
        ),
    ]
    assert workload_of(pods[0]) == ("Deployment", "web")
    assert workload_of(pods[2]) == ("StatefulSet", "db")
    assert workload_of(pod_object("bare", [])) is None
    samples = [
        *series(["100m"] * 6, [MIB] * 6, pod="web-7d9f8c-a"),
        *series(["100m"] * 6, [MIB] * 6, pod="web-7d9f8c-b"),
        *series(["1"] * 3, [MIB] * 3, pod="db-0"),
    ]
    out = recommend_workloads(samples, pods, min_samples=10)
    assert out[("ns", "Deployment", "web", "app")].status == "ok"  # 12 samples from two pods
    assert out[("ns", "Pod", "db-0", "app")].status == "unknown"  # namespace differs from pods'

"""Cluster access: kubeconfig and in-cluster config, requests and responses, retries, the circuit
breaker, error mapping, and round trips against the in-process API emulator (not a cluster)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pytest
import yaml

from _support.kube import EmulatedCluster
from tuskops.errors import ClusterError, KubernetesError
from tuskops.kubernetes.cluster import (
    ApiRequest,
    ApiResponse,
    ApplyConflictError,
    CircuitBreaker,
    KubeClient,
    ResourceInfo,
    RetryPolicy,
    apply_request,
    delete_request,
    error_from_response,
    find_resource,
    format_label_selector,
    list_request,
    parse_list,
    retry_after_seconds,
)
from tuskops.kubernetes.kubeconfig import (
    ClusterConfig,
    in_cluster_config,
    list_contexts,
    load_cluster,
    merge_kubeconfigs,
    select_context,
)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def kubeconfig(
    path: Path,
    *,
    current: str | None,
    contexts: dict[str, dict[str, str]],
    clusters: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]] | None = None,
) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
    }
    if current:
        doc["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


# --- kubeconfig -----------------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    first = kubeconfig(
        tmp_path / "a" / "config",
        current="dev",
        contexts={"dev": {"cluster": "dev", "user": "dev", "namespace": "shop"}},
        clusters={"dev": {"server": "https://dev.example:6443", "certificate-authority": "ca.crt"}},
        users={"dev": {"token": "t-dev"}},
    )
    second = kubeconfig(
        tmp_path / "b" / "config",
        current="prod",
        contexts={
            "prod": {"cluster": "prod", "user": "prod"},
            "dev": {"cluster": "prod", "user": "prod", "namespace": "ignored"},
        },
        clusters={
            "prod": {"server": "https://prod.example"},
            "dev": {"server": "https://ignored.example"},
        },
        users={"prod": {"client-certificate": "certs/prod.crt", "client-key": "/abs/prod.key"}},
    )
    return first, second


def test_kubeconfig_env_with_several_files_merges_as_kubectl(
    tmp_path: Path, two_files: tuple[Path, Path]
) -> None:
    first, second = two_files
    listed = f"{first}:{tmp_path / 'missing'}:{second}"
    env = {"KUBECONFIG": listed}

    config = load_cluster(env=env)
    assert config.context == "dev"  # the first current-context wins
    assert config.server == "https://dev.example:6443"  # the first "dev" cluster wins
    assert config.namespace == "shop"
    assert config.host == "dev.example:6443"
    # relative paths resolved against the file that defined them
    assert config.single.cluster.certificate_auth == str(first.parent / "ca.crt")

    prod = load_cluster("prod", env=env)
    assert (prod.context, prod.server, prod.namespace) == (
        "prod",
        "https://prod.example",
        "default",
    )
    assert prod.single.user is not None
    assert prod.single.user.client_cert == str(second.parent / "certs" / "prod.crt")
    assert prod.single.user.client_key == "/abs/prod.key"
    assert str(first) in prod.source
    assert str(second) in prod.source


def test_list_contexts_marks_the_current_one(two_files: tuple[Path, Path]) -> None:
    first, second = two_files
    contexts = list_contexts(env={"KUBECONFIG": f"{second}:{first}"})
    assert [(c.name, c.namespace, c.current) for c in contexts] == [
        ("prod", "default", True),
        ("dev", "ignored", False),  # second file listed first now: its "dev" wins
    ]


def test_explicit_kubeconfig_beats_the_environment(
    tmp_path: Path, two_files: tuple[Path, Path]
) -> None:
    first, second = two_files
    config = load_cluster(kubeconfig=second, env={"KUBECONFIG": str(first)})
    assert config.context == "prod"


def test_default_kubeconfig_is_home_kube_config(tmp_path: Path) -> None:
    kubeconfig(
        tmp_path / ".kube" / "config",
        current="local",
        contexts={"local": {"cluster": "c"}},
        clusters={"c": {"server": "http://127.0.0.1:8001"}},
    )
    config = load_cluster(env={"HOME": str(tmp_path)})
    assert (config.context, config.server, config.namespace) == (
        "local",
        "http://127.0.0.1:8001",
        "default",
    )
    assert config.single.user is not None  # an empty user, which lightkube's client needs


def test_kubeconfig_errors_name_the_problem(tmp_path: Path, two_files: tuple[Path, Path]) -> None:
    first, _ = two_files
    with pytest.raises(KubernetesError, match=r"context 'nope' not found \(contexts: dev\)"):
        load_cluster("nope", kubeconfig=first)
    with pytest.raises(KubernetesError, match="does not exist"):
        load_cluster(kubeconfig=tmp_path / "absent")
    no_current = kubeconfig(
        tmp_path / "nc", current=None, contexts={"x": {"cluster": "c"}}, clusters={"c": {}}
    )
    with pytest.raises(KubernetesError, match="no current-context"):
        load_cluster(kubeconfig=no_current)
    dangling = kubeconfig(
        tmp_path / "d", current="x", contexts={"x": {"cluster": "gone"}}, clusters={}
    )
    with pytest.raises(KubernetesError, match="names cluster 'gone', not found"):
        load_cluster(kubeconfig=dangling)
    with pytest.raises(KubernetesError, match="no kubeconfig found"):
        load_cluster(env={"HOME": str(tmp_path / "nohome")})


def test_merge_is_pure_and_first_wins() -> None:
    merged = merge_kubeconfigs(
        [
            (Path("/one/config"), {"clusters": [{"name": "c", "cluster": {"server": "s1"}}]}),
            (
                Path("/two/config"),
                {
                    "current-context": "x",
                    "clusters": [{"name": "c", "cluster": {"server": "s2"}}],
                },
            ),
        ]
    )
    assert merged["clusters"] == [{"name": "c", "cluster": {"server": "s1"}}]
    assert merged["current-context"] == "x"


@pytest.fixture
def service_account(tmp_path: Path) -> Path:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token\n")
    (account / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (account / "namespace").write_text("payments")
    return account


def test_in_cluster_config_from_the_service_account(service_account: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    config = in_cluster_config(service_account, env=env)
    assert (config.context, config.server, config.namespace) == (
        "in-cluster",
        "https://10.0.0.1:443",
        "payments",
    )
    assert config.single.user is not None
    assert config.single.user.token_file == str(service_account / "token")
    assert config.single.cluster.certificate_auth == str(service_account / "ca.crt")

    ipv6 = in_cluster_config(
        service_account,
        env={"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"},
    )
    assert ipv6.server == "https://[fd00::1]:6443"


def test_load_cluster_falls_back_to_in_cluster_only_without_kubeconfig(
    tmp_path: Path, service_account: Path
) -> None:
    env = {
        "HOME": str(tmp_path / "nohome"),
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
    }
    config = load_cluster(env=env, service_account_dir=service_account)
    assert config.context == "in-cluster"
    assert "in-cluster service account" in config.source

    (service_account / "token").unlink()
    with pytest.raises(KubernetesError, match="no service account token"):
        load_cluster(env=env, service_account_dir=service_account)
    with pytest.raises(KubernetesError, match="not running in a cluster"):
        in_cluster_config(service_account, env={})


# --- pure requests and responses ------------------------------------------------------------------

DEPLOYMENTS = ResourceInfo("apps/v1", "Deployment", "deployments", True)
NAMESPACES = ResourceInfo("v1", "Namespace", "namespaces", False)


def test_discovery_parsing_and_paths() -> None:
    discovery = {
        "kind": "APIResourceList",
        "resources": [
            {"name": "deployments", "kind": "Deployment", "namespaced": True},
            {"name": "deployments/status", "kind": "Deployment", "namespaced": True},
            {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
        ],
    }
    assert find_resource(discovery, "apps/v1", "Deployment") == DEPLOYMENTS
    assert find_resource(discovery, "apps/v1", "Scale") is None  # only a subresource
    assert DEPLOYMENTS.path("shop", "web", "status") == (
        "/apis/apps/v1/namespaces/shop/deployments/web/status"
    )
    assert DEPLOYMENTS.path(None) == "/apis/apps/v1/deployments"
    assert NAMESPACES.path("ignored", "shop") == "/api/v1/namespaces/shop"
    with pytest.raises(ClusterError, match="invalid apiVersion"):
        ResourceInfo("a/b/c", "X", "xs", False).path()


def test_apply_request_is_server_side_apply() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    request = apply_request(
        DEPLOYMENTS, obj, "shop", field_manager="tuskops", force=True, dry_run=True
    )
    assert request.method == "PATCH"
    assert request.path == "/apis/apps/v1/namespaces/shop/deployments/web"
    assert dict(request.headers)["Content-Type"] == "application/apply-patch+yaml"
    assert request.params == (("fieldManager", "tuskops"), ("force", "true"), ("dryRun", "All"))
    assert request.body is not None
    assert json.loads(request.body) == obj
    assert request.what == "Deployment shop/web"
    with pytest.raises(ClusterError, match=r"without metadata\.name"):
        apply_request(DEPLOYMENTS, {}, "shop", field_manager="m", force=False, dry_run=False)


def test_delete_and_list_requests() -> None:
    request = delete_request(DEPLOYMENTS, "web", "shop", dry_run=True, propagation="Background")
    assert request.method == "DELETE"
    assert request.params == (("dryRun", "All"),)
    assert request.body is not None
    assert json.loads(request.body) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "propagationPolicy": "Background",
        "dryRun": ["All"],
    }
    listing = list_request(DEPLOYMENTS, None, {"tier": "api", "app": "web"}, limit=2)
    assert listing.path == "/apis/apps/v1/deployments"
    assert listing.params == (("limit", "2"), ("labelSelector", "app=web,tier=api"))
    assert format_label_selector("app in (a,b)") == "app in (a,b)"
    assert format_label_selector({}) is None


def test_parse_list_fills_in_kind() -> None:
    items, token = parse_list(
        {"items": [{"metadata": {"name": "a"}}], "metadata": {"continue": "t"}}, "v1", "Pod"
    )
    assert items == [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}]
    assert token == "t"
    with pytest.raises(ClusterError, match="not a list object"):
        parse_list(["x"], "v1", "Pod")


def status_body(code: int, reason: str, message: str, details: Any = None) -> bytes:
    doc = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
    doc.update(reason=reason, message=message)
    if details is not None:
        doc["details"] = details
    return json.dumps(doc).encode()


def test_conflict_status_becomes_structured_conflicts() -> None:
    body = status_body(
        409,
        "Conflict",
        'Apply failed with 2 conflicts: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
        {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "kubectl-edit" using apps/v1',
                    "field": ".spec.replicas",
                },
                {
                    "type": "FieldManagerConflict",  # the Go field name, accepted too
                    "message": 'conflict with "hpa\\"x" with subresource "scale" using '
                    "autoscaling/v2 at 2026-01-01T00:00:00Z",
                    "field": ".spec.template.spec.containers",
                },
                {"reason": "FieldValueInvalid", "field": ".spec"},
            ]
        },
    )
    error = error_from_response(ApiResponse(409, {}, body), "Deployment shop/web", "k8s:6443")
    assert isinstance(error, ApplyConflictError)
    assert error.status == 409
    assert error.reason == "Conflict"
    assert error.conflicts == [
        ("kubectl-edit", ".spec.replicas"),
        ('hpa"x', ".spec.template.spec.containers"),
    ]
    assert error.status_doc["reason"] == "Conflict"
    assert str(error).startswith("Deployment shop/web: API server k8s:6443 answered 409 Conflict:")


def test_error_mapping_without_a_status_body() -> None:
    forbidden = error_from_response(
        ApiResponse(403, {}, status_body(403, "Forbidden", 'pods is forbidden: User "x"')),
        "Pod a",
        "h",
    )
    assert (forbidden.status, forbidden.reason) == (403, "Forbidden")
    assert not isinstance(forbidden, ApplyConflictError)
    plain = error_from_response(ApiResponse(502, {}, b"<html>bad gateway</html>"), "Pod a", "h")
    assert (plain.status, plain.reason) == (502, None)
    assert "bad gateway" in str(plain)


def test_retry_after_and_backoff() -> None:
    assert retry_after_seconds({"Retry-After": "7"}, now=0) == 7.0
    assert retry_after_seconds({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, now=4.0) == 6.0
    assert retry_after_seconds({"Retry-After": "soon"}, now=0) is None
    low = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: 0.0)
    high = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: 0.999)
    assert [low.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 2.5]
    assert all(high.delay(n) < min(5.0, 2**n) + 1e-9 for n in range(6))
    assert low.delay(0, retry_after=120.0) == 60.0  # honoured up to max_retry_after


# --- retries and the circuit breaker, with a mocked transport -------------------------------------

SERVER = "https://k8s.test:6443"
DISCOVERY = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [{"name": "configmaps", "kind": "ConfigMap", "namespaced": True}],
}


def config_for(server: str = SERVER) -> ClusterConfig:
    merged = {
        "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": server}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "namespace": "shop"}}],
        "users": [],
    }
    return select_context(merged, None, "test")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Handler = Callable[[httpx2.Request], httpx2.Response]


def mocked(
    answers: list[httpx2.Response | Exception],
    *,
    breaker: CircuitBreaker | None = None,
    attempts: int = 4,
) -> tuple[KubeClient, list[float], list[str]]:
    """A client whose ConfigMap calls get ``answers`` in turn (discovery always answers)."""
    sleeps: list[float] = []
    seen: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/v1":
            return httpx2.Response(200, json=DISCOVERY)
        seen.append(request.url.path)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = KubeClient(
        config_for(),
        retry=RetryPolicy(attempts=attempts, base_delay=0.25, random=lambda: 0.0),
        breaker=breaker or CircuitBreaker(SERVER, threshold=100),
        sleep=sleep,
        wall_clock=lambda: 0.0,
        transport=httpx2.MockTransport(handle),
    )
    return client, sleeps, seen


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}}


def test_429_is_retried_after_retry_after() -> None:
    client, sleeps, _ = mocked(
        [
            httpx2.Response(429, headers={"Retry-After": "3"}, json={"kind": "Status"}),
            httpx2.Response(200, json=CM),
        ]
    )
    assert run(client.get("v1", "ConfigMap", "a")) == CM
    assert sleeps == [3.0]


def test_5xx_and_connection_errors_back_off_exponentially() -> None:
    refused = httpx2.ConnectError("[Errno 111] Connection refused")
    client, sleeps, seen = mocked(
        [httpx2.Response(503), refused, httpx2.Response(500), httpx2.Response(200, json=CM)]
    )
    assert run(client.get("v1", "ConfigMap", "a", "shop")) == CM
    assert sleeps == [0.125, 0.25, 0.5]  # base * 2**n, jitter factor 0.5 (random=0)
    assert seen == ["/api/v1/namespaces/shop/configmaps/a"] * 4


def test_retries_are_bounded_and_4xx_is_not_retried() -> None:
    client, sleeps, _ = mocked([httpx2.Response(503)] * 4)
    with pytest.raises(ClusterError, match="gave up after 4 attempts") as caught:
        run(client.get("v1", "ConfigMap", "a"))
    assert caught.value.status == 503
    assert len(sleeps) == 3

    client, sleeps, _ = mocked([httpx2.Response(403, content=status_body(403, "Forbidden", "no"))])
    with pytest.raises(ClusterError) as forbidden:
        run(client.get("v1", "ConfigMap", "a"))
    assert (forbidden.value.status, forbidden.value.reason, sleeps) == (403, "Forbidden", [])


def test_connection_refused_by_a_real_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def go() -> None:
        async with KubeClient(
            config_for(f"http://127.0.0.1:{port}"),
            retry=RetryPolicy(attempts=3),
            breaker=CircuitBreaker("closed", threshold=100),
            sleep=sleep,
        ) as client:
            await client.get("v1", "ConfigMap", "a")

    with pytest.raises(ClusterError, match="unreachable: ConnectError") as caught:
        run(go())
    assert caught.value.status is None
    assert len(sleeps) == 2


def test_circuit_breaker_opens_fails_fast_and_recovers_half_open() -> None:
    clock = Clock()
    breaker = CircuitBreaker("k8s.test:6443", threshold=3, cooldown=30.0, clock=clock)
    answers: list[httpx2.Response | Exception] = [httpx2.Response(503)] * 3
    client, _, seen = mocked(answers, breaker=breaker, attempts=3)
    with pytest.raises(ClusterError, match="gave up after 3 attempts"):
        run(client.get("v1", "ConfigMap", "a"))
    assert breaker.state == "open"
    assert len(seen) == 3

    clock.now += 10
    with pytest.raises(ClusterError) as fast:
        run(client.get("v1", "ConfigMap", "a"))
    assert str(fast.value).startswith(
        "API server k8s.test:6443 keeps failing: circuit open for 20s; last error: ConfigMap"
    )
    assert "503" in str(fast.value)
    assert fast.value.reason == "CircuitOpen"
    assert len(seen) == 3  # failed fast: nothing sent

    clock.now += 20  # cooldown over: one trial call; it fails, so the circuit opens again
    answers += [httpx2.Response(502)]
    with pytest.raises(ClusterError, match="circuit open for 30s"):
        run(client.get("v1", "ConfigMap", "a"))
    assert len(seen) == 4
    assert breaker.state == "open"

    clock.now += 30  # the next trial succeeds and closes the circuit
    answers += [httpx2.Response(200, json=CM), httpx2.Response(200, json=CM)]
    assert run(client.get("v1", "ConfigMap", "a")) == CM
    assert breaker.state == "closed"
    assert breaker.failures == 0
    assert run(client.get("v1", "ConfigMap", "a")) == CM


def test_half_open_lets_exactly_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("h", threshold=1, cooldown=5.0, clock=clock)
    breaker.record_failure("boom")
    with pytest.raises(ClusterError, match="circuit open for 5s; last error: boom"):
        breaker.before_call()
    clock.now += 5
    breaker.before_call()  # the trial
    with pytest.raises(ClusterError, match="a trial call is in flight"):
        breaker.before_call()
    breaker.record_success()
    breaker.before_call()
    assert breaker.state == "closed"


def test_404_and_429_do_not_count_as_server_failures() -> None:
    breaker = CircuitBreaker("h", threshold=2)
    client, _, _ = mocked(
        [
            httpx2.Response(429, json={}),
            httpx2.Response(404, content=status_body(404, "NotFound", "x")),
            httpx2.Response(503),
            httpx2.Response(404, content=status_body(404, "NotFound", "x")),
        ],
        breaker=breaker,
    )
    assert run(client.get("v1", "ConfigMap", "a")) is None
    assert run(client.get("v1", "ConfigMap", "a")) is None
    assert breaker.state == "closed"
    assert breaker.failures == 0


# --- against the emulator -------------------------------------------------------------------------


def deployment(replicas: int, *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels or {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def with_client(
    cluster: EmulatedCluster, body: Callable[[KubeClient], Coroutine[Any, Any, T]], **kw: Any
) -> T:
    async def go() -> T:
        async with KubeClient(
            load_cluster(kubeconfig=cluster.kubeconfig),
            breaker=CircuitBreaker(cluster.url),
            **kw,
        ) as client:
            return await body(client)

    return run(go())


def test_emulator_get_apply_list_delete_round_trip(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        assert kube.namespace == "default"
        assert await kube.get("apps/v1", "Deployment", "web") is None
        created = await kube.apply(deployment(2))
        assert created["spec"]["replicas"] == 2
        assert created["metadata"]["generation"] == 1
        assert [m["manager"] for m in created["metadata"]["managedFields"]] == ["tuskops"]

        fetched = await kube.get("apps/v1", "Deployment", "web", "default")
        assert fetched is not None
        assert fetched["metadata"]["uid"] == created["metadata"]["uid"]

        again = await kube.apply(deployment(2))  # a no-op apply writes nothing
        assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        scaled = await kube.apply(deployment(3))
        assert scaled["metadata"]["generation"] == 2
        assert scaled["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]

        listed = await kube.list("apps/v1", "Deployment", label_selector={"app": "web"})
        assert [(d["kind"], d["metadata"]["name"]) for d in listed] == [("Deployment", "web")]
        assert await kube.list("apps/v1", "Deployment", label_selector="app notin (web)") == []

        gone = await kube.delete("apps/v1", "Deployment", "web")
        assert gone is not None
        assert gone["metadata"]["name"] == "web"
        assert await kube.get("apps/v1", "Deployment", "web") is None
        assert await kube.delete("apps/v1", "Deployment", "web") is None

    with_client(kube_emulator, body)


def test_emulator_dry_run_changes_nothing(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        preview = await kube.apply(deployment(2), dry_run=True)
        assert preview["spec"]["replicas"] == 2
        assert await kube.get("apps/v1", "Deployment", "web") is None
        await kube.apply(deployment(2))
        preview = await kube.apply(deployment(5), dry_run=True)
        assert preview["spec"]["replicas"] == 5
        current = await kube.get("apps/v1", "Deployment", "web")
        assert current is not None
        assert current["spec"]["replicas"] == 2
        await kube.delete("apps/v1", "Deployment", "web", dry_run=True)
        assert await kube.get("apps/v1", "Deployment", "web") is not None

    with_client(kube_emulator, body)
    assert kube_emulator.emulator.find("Deployment", "web", "default") is not None


def test_emulator_apply_conflict_carries_managers_and_fields(
    kube_emulator: EmulatedCluster,
) -> None:
    async def body(kube: KubeClient) -> None:
        await kube.apply(deployment(2))
        await kube.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replicas": 4},
            },
            field_manager="kubectl-scale",
            force=True,
        )
        with pytest.raises(ApplyConflictError) as caught:
            await kube.apply(deployment(2))
        assert caught.value.conflicts == [("kubectl-scale", ".spec.replicas")]
        assert caught.value.status == 409
        assert caught.value.reason == "Conflict"

        same = await kube.apply(deployment(4))  # the same value: shared, no conflict
        assert same["spec"]["replicas"] == 4
        taken = await kube.apply(deployment(2), force=True)
        assert taken["spec"]["replicas"] == 2
        managers = {m["manager"]: m["fieldsV1"] for m in taken["metadata"]["managedFields"]}
        assert "f:replicas" in managers["tuskops"]["f:spec"]
        assert "kubectl-scale" not in managers  # it owned only replicas, now taken over

    with_client(kube_emulator, body)


def test_emulator_conflict_with_an_update_manager(kube_emulator: EmulatedCluster) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}

    async def body(kube: KubeClient) -> None:
        await kube.apply({**config_map, "data": {"a": "1", "b": "2"}})
        edit = ApiRequest(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c",
            (("fieldManager", "kubectl-edit"),),
            (("Content-Type", "application/merge-patch+json"),),
            json.dumps({"data": {"a": "9", "b": "8"}}).encode(),
        )
        assert (await kube._send(edit)).status == 200
        with pytest.raises(ApplyConflictError) as caught:
            await kube.apply({**config_map, "data": {"a": "1", "b": "2"}})
        assert caught.value.conflicts == [("kubectl-edit", ".data.a"), ("kubectl-edit", ".data.b")]
        message = str(caught.value)
        assert (
            'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using v1 at ' in message
        )
        cause = caught.value.status_doc["details"]["causes"][0]
        assert cause["reason"] == "FieldManagerConflict"
        assert cause["message"].startswith('conflict with "kubectl-edit" using v1 at 20')

    with_client(kube_emulator, body)


def test_emulator_apply_removes_fields_no_longer_applied(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        await kube.apply(deployment(2, labels={"app": "web", "tier": "front"}))
        applied = await kube.apply(deployment(2, labels={"app": "web"}))
        assert applied["metadata"]["labels"] == {"app": "web"}

    with_client(kube_emulator, body)


def test_emulator_status_subresource(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        obj = deployment(2)
        obj["status"] = {"readyReplicas": 99}  # ignored: status has its own subresource
        created = await kube.apply(obj)
        assert "status" not in created
        patched = await kube.patch_status(
            "apps/v1",
            "Deployment",
            "web",
            None,
            {"readyReplicas": 2, "observedGeneration": 1},
            field_manager="test-controller",
        )
        assert patched["status"] == {"readyReplicas": 2, "observedGeneration": 1}
        assert patched["metadata"]["generation"] == 1  # status changes do not bump generation
        entry = next(
            m for m in patched["metadata"]["managedFields"] if m["manager"] == "test-controller"
        )
        assert (entry["operation"], entry["subresource"]) == ("Update", "status")

    with_client(kube_emulator, body)


def test_emulator_cluster_scoped_kinds_namespaces_and_pagination(
    kube_emulator: EmulatedCluster,
) -> None:
    async def body(kube: KubeClient) -> None:
        missing_ns = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop"},
        }
        with pytest.raises(ClusterError, match='namespaces "shop" not found') as caught:
            await kube.apply(missing_ns)
        assert (caught.value.status, caught.value.reason) == (404, "NotFound")

        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        for name in ("a", "b", "c"):
            await kube.apply({**missing_ns, "metadata": {"name": name, "namespace": "shop"}})
        await kube.apply({**missing_ns, "metadata": {"name": "d", "namespace": "default"}})
        in_shop = await kube.list("v1", "ConfigMap", "shop")
        assert [c["metadata"]["name"] for c in in_shop] == ["a", "b", "c"]
        assert len(await kube.list("v1", "ConfigMap")) == 4  # all namespaces

        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        }
        created = await kube.apply(role)
        assert "namespace" not in created["metadata"]
        assert await kube.get("rbac.authorization.k8s.io/v1", "ClusterRole", "reader", "x")

        await kube.delete("v1", "Namespace", "shop")  # takes its objects with it
        assert len(await kube.list("v1", "ConfigMap")) == 1

    with_client(kube_emulator, body, page_size=2)
    pages = [path for method, path in kube_emulator.emulator.log if "continue=" in path]
    assert pages  # the 4-item list came in two pages


def test_emulator_unknown_kinds(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        with pytest.raises(ClusterError, match=r"does not serve example\.com/v1") as group:
            await kube.get("example.com/v1", "Widget", "w")
        assert group.value.reason == "UnknownKind"
        with pytest.raises(ClusterError, match="serves apps/v1 but not kind Widget"):
            await kube.get("apps/v1", "Widget", "w")

    with_client(kube_emulator, body)


def test_emulator_injected_faults_are_retried(kube_emulator: EmulatedCluster) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    kube_emulator.emulator.fail_next(503, 2)
    kube_emulator.emulator.fail_next(429, headers={"Retry-After": "1"})

    async def body(kube: KubeClient) -> None:
        assert await kube.get("v1", "ConfigMap", "nope") is None

    with_client(kube_emulator, body, sleep=sleep, retry=RetryPolicy(random=lambda: 0.0))
    assert sleeps == [0.125, 0.25, 1.0]


def test_emulator_refuses_what_it_does_not_emulate(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        put = ApiRequest("PUT", "/api/v1/namespaces/default/configmaps/a", body=b"{}")
        response = await kube._send(put)
        assert response.status == 501
        assert response.json()["reason"] == "NotEmulated"

    with_client(kube_emulator, body)
    assert kube_emulator.emulator.unsupported == [
        "PUT /api/v1/namespaces/default/configmaps/a: PUT on this path"
    ]
    kube_emulator.emulator.unsupported.clear()  # expected here; the fixture checks it is empty


def test_bad_answers_and_bad_objects_are_cluster_errors() -> None:
    client, _, _ = mocked([httpx2.Response(200, content=b"{not json")])
    with pytest.raises(ClusterError, match="answered with invalid JSON"):
        run(client.get("v1", "ConfigMap", "a"))
    with pytest.raises(ClusterError, match="without apiVersion and kind"):
        run(client.apply({"metadata": {"name": "a"}}))


def test_a_vanished_token_file_is_an_authentication_error(
    service_account: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"}
    config = in_cluster_config(service_account, env=env)
    (service_account / "token").unlink()
    monkeypatch.setattr("ssl.SSLContext.load_verify_locations", lambda *a, **k: None)

    async def go() -> None:
        async with KubeClient(config, breaker=CircuitBreaker("h")) as client:
            await client.get("v1", "ConfigMap", "a")

    with pytest.raises(ClusterError, match=r"cannot authenticate to 127\.0\.0\.1:1: Token file"):
        run(go())


def test_breakers_are_shared_per_api_server() -> None:
    from tuskops.kubernetes.cluster import breaker_for

    assert breaker_for("https://one:6443") is breaker_for("https://one:6443")
    assert breaker_for("https://one:6443") is not breaker_for("https://two:6443")
    client = KubeClient(config_for("https://shared.test"))
    assert client.breaker is breaker_for("https://shared.test")
    run(client.aclose())


def test_a_trial_call_that_ends_without_a_verdict_frees_the_half_open_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker("h", threshold=1, cooldown=5.0, clock=clock)
    client, _, seen = mocked(
        [RuntimeError("cancelled mid-flight"), httpx2.Response(200, json=CM)], breaker=breaker
    )
    run(client.resource("v1", "ConfigMap"))  # discovery done before the circuit opens
    breaker.record_failure("boom")
    clock.now += 5
    with pytest.raises(RuntimeError):
        run(client.get("v1", "ConfigMap", "a"))
    assert breaker.state == "half-open"
    assert run(client.get("v1", "ConfigMap", "a")) == CM  # a new trial, which closes it
    assert breaker.state == "closed"
    assert len(seen) == 2


def test_emulator_merge_patch_and_raw_paths(kube_emulator: EmulatedCluster) -> None:
    async def body(kube: KubeClient) -> None:
        await kube.apply(deployment(2))
        annotation = {"kubectl.kubernetes.io/restartedAt": "2026-11-24T00:00:00Z"}
        patched = await kube.patch(
            "apps/v1", "Deployment", "web", None,
            {"spec": {"template": {"metadata": {"annotations": annotation}}}},
            field_manager="tuskops-restart",
        )  # fmt: skip
        assert patched["spec"]["template"]["metadata"]["annotations"] == annotation
        assert "tuskops-restart" in [m["manager"] for m in patched["metadata"]["managedFields"]]
        preview = await kube.patch("apps/v1", "Deployment", "web", None,
                                   {"spec": {"replicas": 9}}, dry_run=True)  # fmt: skip
        assert preview["spec"]["replicas"] == 9
        current = await kube.get("apps/v1", "Deployment", "web")
        assert current is not None
        assert current["spec"]["replicas"] == 2
        groups = await kube.get_path("/apis")
        assert "apps" in [g["name"] for g in groups["groups"]]

    with_client(kube_emulator, body)


def test_emulator_create_and_conflict(kube_emulator: EmulatedCluster) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                  "data": {"a": "1"}}  # fmt: skip

    async def body(kube: KubeClient) -> None:
        preview = await kube.create(config_map, dry_run=True)
        assert preview["data"] == {"a": "1"}
        assert await kube.get("v1", "ConfigMap", "c") is None
        created = await kube.create(config_map)
        assert created["metadata"]["namespace"] == "default"
        with pytest.raises(ClusterError) as info:
            await kube.create(config_map)
        assert info.value.status == 409

    with_client(kube_emulator, body)

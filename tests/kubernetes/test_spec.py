"""The app spec: what it accepts, its defaults, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.spec import AppSpec, Port, parse_app_spec

MINIMAL = {"name": "shop", "image": "ghcr.io/acme/shop:1.4.2"}


def spec(**extra: Any) -> AppSpec:
    return parse_app_spec({**MINIMAL, **extra})


def error(**extra: Any) -> KubernetesSpecError:
    with pytest.raises(KubernetesSpecError) as info:
        parse_app_spec({**MINIMAL, **extra})
    return info.value


def test_minimal_spec_and_defaults() -> None:
    s = spec()
    assert (s.name, s.namespace, s.replicas, s.ports) == ("shop", "default", 1, ())
    assert s.security.run_as_non_root
    assert s.security.read_only_root_filesystem
    assert not s.security.allow_privilege_escalation
    assert (s.strategy.max_surge, s.strategy.max_unavailable) == ("25%", 0)
    assert s.autoscaling is None
    assert s.ingress is None
    assert s.kubernetes_version == "1.33"


def test_a_full_spec() -> None:
    s = spec(
        namespace="shop",
        replicas=3,
        ports=[{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}],
        env={"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": False},
        secrets={"DATABASE_URL": "postgres://..."},
        probes={"readiness": {"http": "/ready", "port": "http"}, "liveness": "/healthz",
                "startup": {"tcp": True, "failure_threshold": 30}},
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        strategy={"maxSurge": 1, "max_unavailable": "10%"},
        autoscaling={"min": 3, "max": 10, "cpu": 70,
                     "metrics": [{"type": "Pods", "name": "rps", "target": "100"}]},
        ingress={"host": "shop.example.com", "tls": True, "class_name": "nginx"},
        permissions=[{"resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
        namespace_policy={"quota": {"pods": "20"}, "limits": {"default": {"memory": "256Mi"}}},
        metrics={"port": "metrics"},
    )  # fmt: skip
    assert s.ports == (Port("http", 8080), Port("metrics", 9090))
    assert s.env == {"LOG_LEVEL": "info", "WORKERS": "4", "DEBUG": "false"}
    assert s.readiness is not None
    assert s.readiness.http == "/ready"
    assert s.liveness is not None
    assert s.liveness.http == "/healthz"
    assert s.startup is not None
    assert (s.startup.tcp, s.startup.failure_threshold) == (True, 30)
    assert (s.strategy.max_surge, s.strategy.max_unavailable) == (1, "10%")
    assert s.autoscaling is not None
    assert s.autoscaling.metrics[0].name == "rps"
    assert s.ingress is not None
    assert s.ingress.tls_secret == "shop-tls"
    assert s.permissions[0].api_groups == ("",)
    assert s.namespace_policy is not None
    assert s.namespace_policy.limits == {"default": {"memory": "256Mi"}}
    assert s.metrics is not None
    assert s.metrics.port == "metrics"


def test_port_shorthand() -> None:
    assert spec(port=8080).ports == (Port("http", 8080),)
    assert spec(ports=[80, 443]).ports == (Port("http", 80), Port("port-443", 443))


def test_secret_values_are_revealed_for_the_secret_object() -> None:
    class Sensitive:
        def reveal(self) -> str:
            return "hunter2"

    assert spec(secrets={"TOKEN": Sensitive()}).secrets == {"TOKEN": "hunter2"}


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"prots": [1]}, "app.prots", "did you mean 'ports'"),
        ({"name": "Shop"}, "app.name", "not a DNS label"),
        ({"replicas": -1}, "app.replicas", "must be >= 0"),
        ({"replicas": "3"}, "app.replicas", "expected a whole number"),
        ({"port": 70000}, "app.port", "between 1 and 65535"),
        ({"port": 80, "ports": [80]}, "app.port", "either port or ports"),
        ({"ports": [{"port": 80, "name": "a-very-long-port-name"}]}, "app.ports[0].name", "15"),
        ({"probes": {"readiness": {"http": "ready"}}, "port": 80}, "app.probes.readiness.http",
         "starts with '/'"),
        ({"probes": {"readiness": {"http": "/r", "port": "web"}}, "port": 80},
         "app.probes.readiness.port", "no port named 'web'"),
        ({"probes": {"liveness": {"http": "/r", "tcp": True}}, "port": 80}, "app.probes.liveness",
         "exactly one"),
        ({"probes": {"liveness": "/r"}}, "app.probes.liveness.port", "declares no ports"),
        ({"resources": {"requests": {"cpu": "lots"}}}, "app.resources.requests.cpu",
         "not a quantity"),
        ({"autoscaling": {"min": 5, "max": 2, "cpu": 50}}, "app.autoscaling.max", "at least min"),
        ({"autoscaling": {"max": 3}}, "app.autoscaling", "give a target"),
        ({"ingress": {"host": "shop.example.com"}}, "app.ingress", "declare a port"),
        ({"ingress": {"host": "Shop Example"}, "port": 80}, "app.ingress.host", "host name"),
        ({"permissions": [{"resources": ["*"], "verbs": ["get"]}]}, "app.permissions[0]",
         "least privilege"),
        ({"strategy": {"max_surge": 0, "max_unavailable": 0}}, "app.strategy.max_surge",
         "cannot both be 0"),
        ({"env": {"1BAD": "x"}}, "app.env.1BAD", "environment variable name"),
        ({"env": {"A": {"nested": 1}}}, "app.env.A", "string, number or boolean"),
        ({"kubernetes_version": "v1.30"}, "app.kubernetes_version", "minor version"),
        ({"disruption": {}}, "app.disruption", "one of min_available"),
    ],
)  # fmt: skip
def test_errors_name_the_field(extra: dict[str, Any], field: str, message: str) -> None:
    err = error(**extra)
    assert err.field == field
    assert message in err.message
    assert str(err).startswith(f"{field}: ")


def test_required_fields_and_non_maps() -> None:
    with pytest.raises(KubernetesSpecError, match=r"app\.image: required"):
        parse_app_spec({"name": "x"})
    with pytest.raises(KubernetesSpecError, match="app: expected a map, got a list"):
        parse_app_spec([1])
    with pytest.raises(KubernetesSpecError, match=r"^web\.name: required"):
        parse_app_spec({"image": "x"}, where="web")

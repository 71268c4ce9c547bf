"""The Deployment and PodDisruptionBudget builders."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.config import CHECKSUM_ANNOTATION
from tuskops.kubernetes.builders.workload import deployment, pod_disruption_budget
from tuskops.kubernetes.spec import AppSpec, Port, Probe

Validate = Callable[..., None]
MakeSpec = Callable[..., AppSpec]

FULL: dict[str, Any] = {
    "namespace": "shop",
    "replicas": 3,
    "command": ["/app/shop"],
    "args": ["--serve"],
    "ports": [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9090}],
    "env": {"LOG_LEVEL": "info"},
    "config": {"FEATURE_X": "on"},
    "secrets": {"DATABASE_URL": "postgres://u:hunter2@db/shop"},
    "probes": {
        "readiness": {"http": "/ready", "port": "http", "period": 5},
        "liveness": {"grpc": True, "port": "grpc", "failure_threshold": 3},
        "startup": {"tcp": True, "initial_delay": 2, "success_threshold": 1},
    },
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    "strategy": {
        "max_surge": 1,
        "max_unavailable": "10%",
        "progress_deadline": 300,
        "min_ready": 5,
        "revision_history": 3,
    },
    "image_pull_secrets": ["ghcr"],
    "permissions": [{"resources": ["configmaps"], "verbs": ["get"]}],
}


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod(manifest)["containers"][0]
    return first


# --- defaults -----------------------------------------------------------------------------------


def test_minimal_defaults_are_restrictive(make_spec: MakeSpec, valid: Validate) -> None:
    d = deployment(make_spec())
    valid(d)
    assert d["apiVersion"] == "apps/v1"
    assert d["kind"] == "Deployment"
    assert d["metadata"]["name"] == "shop"
    assert d["spec"]["replicas"] == 1
    p = pod(d)
    assert p["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert p["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in p
    c = container(d)
    assert c["name"] == "shop"
    assert c["image"] == "ghcr.io/acme/shop:1.4.2"
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # Read-only root: a writable /tmp.
    assert p["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    # One replica: nothing to spread, no checksum without config.
    assert "topologySpreadConstraints" not in p
    assert "annotations" not in d["spec"]["template"]["metadata"]
    assert d["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
    }
    assert d["spec"]["progressDeadlineSeconds"] == 600
    assert d["spec"]["revisionHistoryLimit"] == 10
    assert d["spec"]["minReadySeconds"] == 0


def test_selector_matches_pod_labels(make_spec: MakeSpec) -> None:
    d = deployment(make_spec(labels={"team": "web"}))
    selector = d["spec"]["selector"]["matchLabels"]
    labels = d["spec"]["template"]["metadata"]["labels"]
    assert selector == {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop"}
    assert selector.items() <= labels.items()
    assert labels["team"] == "web"


def test_full_spec(make_spec: MakeSpec, valid: Validate) -> None:
    d = deployment(make_spec(**FULL))
    valid(d)
    assert d["metadata"]["namespace"] == "shop"
    assert d["spec"]["replicas"] == 3
    assert d["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": "10%"}
    assert d["spec"]["progressDeadlineSeconds"] == 300
    assert d["spec"]["minReadySeconds"] == 5
    assert d["spec"]["revisionHistoryLimit"] == 3
    c = container(d)
    assert c["command"] == ["/app/shop"]
    assert c["args"] == ["--serve"]
    assert c["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "grpc", "containerPort": 9090, "protocol": "TCP"},
    ]
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    p = pod(d)
    assert p["imagePullSecrets"] == [{"name": "ghcr"}]
    assert p["serviceAccountName"] == "shop"
    assert p["automountServiceAccountToken"] is True


@pytest.mark.parametrize("version", ["1.25", "1.37"])
def test_full_spec_at_other_versions(make_spec: MakeSpec, valid: Validate, version: str) -> None:
    spec = make_spec(**FULL, kubernetes_version=version)
    valid(deployment(spec), version)
    valid(pod_disruption_budget(spec), version)


# --- env, config and secrets --------------------------------------------------------------------


def test_env_config_and_secrets_by_reference(make_spec: MakeSpec) -> None:
    d = deployment(make_spec(**FULL))
    env = {e["name"]: e for e in container(d)["env"]}
    assert env["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "info"}
    assert env["FEATURE_X"]["valueFrom"] == {
        "configMapKeyRef": {"name": "shop-config", "key": "FEATURE_X"}
    }
    assert env["DATABASE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "shop-secrets", "key": "DATABASE_URL"}
    }
    assert "value" not in env["DATABASE_URL"]


def test_secrets_never_in_the_deployment(make_spec: MakeSpec) -> None:
    d = deployment(make_spec(secrets={"API_KEY": "s3cr3t-value"}))
    assert "s3cr3t-value" not in json.dumps(d)


def test_plain_env_comes_first_in_spec_order(make_spec: MakeSpec) -> None:
    d = deployment(make_spec(env={"B": "1", "A": "$(B)"}, config={"C": "x"}))
    assert [e["name"] for e in container(d)["env"]] == ["B", "A", "C"]


def test_name_in_env_and_secrets_is_an_error(make_spec: MakeSpec) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        deployment(make_spec(env={"TOKEN": "a"}, secrets={"TOKEN": "b"}))
    assert err.value.field == "app.secrets.TOKEN"
    assert "app.env" in err.value.message


def test_checksum_annotation_rolls_pods_on_config_change(make_spec: MakeSpec) -> None:
    def checksum(**keys: Any) -> str:
        value: str = deployment(make_spec(**keys))["spec"]["template"]["metadata"]["annotations"][
            CHECKSUM_ANNOTATION
        ]
        return value

    base = checksum(config={"A": "1"}, secrets={"S": "x"})
    assert checksum(config={"A": "1"}, secrets={"S": "x"}) == base
    assert checksum(config={"A": "2"}, secrets={"S": "x"}) != base
    assert checksum(config={"A": "1"}, secrets={"S": "rotated"}) != base


# --- probes -------------------------------------------------------------------------------------


def test_http_probe_defaults_to_first_port(make_spec: MakeSpec, valid: Validate) -> None:
    d = deployment(make_spec(port=8080, probes={"readiness": "/ready"}))
    valid(d)
    assert container(d)["readinessProbe"] == {"httpGet": {"path": "/ready", "port": "http"}}


def test_tcp_probe_with_port_number(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(port=8080, probes={"liveness": {"tcp": True, "port": 8080, "timeout": 2}})
    d = deployment(spec)
    valid(d)
    assert container(d)["livenessProbe"] == {"tcpSocket": {"port": 8080}, "timeoutSeconds": 2}


def test_exec_probe(make_spec: MakeSpec, valid: Validate) -> None:
    d = deployment(make_spec(probes={"startup": {"command": ["cat", "/tmp/ready"]}}))
    valid(d)
    assert container(d)["startupProbe"] == {"exec": {"command": ["cat", "/tmp/ready"]}}


def test_grpc_probe_resolves_port_name_to_number(make_spec: MakeSpec, valid: Validate) -> None:
    ports = [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9090}]
    d = deployment(make_spec(ports=ports, probes={"liveness": {"grpc": True, "port": "grpc"}}))
    valid(d)
    assert container(d)["livenessProbe"] == {"grpc": {"port": 9090}}
    d = deployment(make_spec(ports=ports, probes={"liveness": {"grpc": True}}))
    assert container(d)["livenessProbe"] == {"grpc": {"port": 8080}}


def test_probe_timings(make_spec: MakeSpec, valid: Validate) -> None:
    probe = {
        "http": "/r",
        "initial_delay": 1,
        "period": 2,
        "timeout": 3,
        "failure_threshold": 4,
        "success_threshold": 5,
    }
    d = deployment(make_spec(port=80, probes={"readiness": probe}))
    valid(d)
    assert container(d)["readinessProbe"] == {
        "httpGet": {"path": "/r", "port": "http"},
        "initialDelaySeconds": 1,
        "periodSeconds": 2,
        "timeoutSeconds": 3,
        "failureThreshold": 4,
        "successThreshold": 5,
    }


@pytest.mark.parametrize("kind", ["liveness", "startup"])
def test_liveness_and_startup_success_threshold_must_be_1(make_spec: MakeSpec, kind: str) -> None:
    spec = make_spec(port=80, probes={kind: {"http": "/h", "success_threshold": 2}})
    with pytest.raises(KubernetesSpecError) as err:
        deployment(spec)
    assert err.value.field == f"app.probes.{kind}.success_threshold"


# --- security -----------------------------------------------------------------------------------


def test_security_overrides(make_spec: MakeSpec, valid: Validate) -> None:
    security = {
        "run_as_user": 1000,
        "run_as_group": 1000,
        "fs_group": 2000,
        "read_only_root_filesystem": False,
        "add_capabilities": ["NET_BIND_SERVICE"],
    }
    d = deployment(make_spec(security=security))
    valid(d)
    p, c = pod(d), container(d)
    assert p["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 2000,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": False,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
    }
    # A writable root needs no /tmp volume.
    assert "volumes" not in p
    assert "volumeMounts" not in c


def test_sys_admin_without_privilege_escalation_is_refused(make_spec: MakeSpec) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        deployment(make_spec(security={"add_capabilities": ["CAP_SYS_ADMIN"]}))
    assert err.value.field == "app.security.add_capabilities"
    spec = make_spec(
        security={"add_capabilities": ["SYS_ADMIN"], "allow_privilege_escalation": True}
    )
    assert container(deployment(spec))["securityContext"]["capabilities"]["add"] == ["SYS_ADMIN"]


def test_localhost_seccomp_is_refused(make_spec: MakeSpec) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        deployment(make_spec(security={"seccomp_profile": "Localhost"}))
    assert err.value.field == "app.security.seccomp_profile"


# --- replicas, autoscaling, spreading, tracks ---------------------------------------------------


def test_spread_over_zones_and_hosts_when_replicated(make_spec: MakeSpec, valid: Validate) -> None:
    d = deployment(make_spec(replicas=3))
    valid(d)
    spread = pod(d)["topologySpreadConstraints"]
    assert [s["topologyKey"] for s in spread] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    for s in spread:
        assert s["whenUnsatisfiable"] == "ScheduleAnyway"
        assert s["maxSkew"] == 1
        assert s["labelSelector"]["matchLabels"] == d["spec"]["selector"]["matchLabels"]


def test_autoscaled_deployment_leaves_replicas_to_the_hpa(
    make_spec: MakeSpec, valid: Validate
) -> None:
    spec = make_spec(
        replicas=1,
        autoscaling={"min": 1, "max": 4, "cpu": 70},
        resources={"requests": {"cpu": "100m"}},
    )
    d = deployment(spec)
    valid(d)
    assert "replicas" not in d["spec"]
    # It may grow to 4: spread.
    assert "topologySpreadConstraints" in pod(d)


def test_second_track(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(replicas=3)
    track = {"tuskops.dev/track": "green"}
    d = deployment(spec, name="shop-green", replicas=1, extra_labels=track)
    valid(d)
    assert d["metadata"]["name"] == "shop-green"
    assert d["metadata"]["labels"]["tuskops.dev/track"] == "green"
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "shop",
        "app.kubernetes.io/instance": "shop",
        "tuskops.dev/track": "green",
    }
    assert d["spec"]["template"]["metadata"]["labels"]["tuskops.dev/track"] == "green"
    # Config and secrets stay the app's.
    d = deployment(make_spec(secrets={"S": "x"}), name="shop-green", extra_labels=track)
    ref = container(d)["env"][0]["valueFrom"]["secretKeyRef"]
    assert ref["name"] == "shop-secrets"


def test_second_track_of_autoscaled_app_gets_a_count(make_spec: MakeSpec) -> None:
    spec = make_spec(
        autoscaling={"min": 2, "max": 4, "cpu": 70}, resources={"requests": {"cpu": "100m"}}
    )
    assert deployment(spec, name="shop-green")["spec"]["replicas"] == 2
    assert deployment(spec, name="shop-green", replicas=5)["spec"]["replicas"] == 5
    assert deployment(spec, replicas=0)["spec"]["replicas"] == 0


@pytest.mark.parametrize(
    ("labels", "field"),
    [({"bad key!": "x"}, "extra_labels.bad key!"), ({"track": "no spaces"}, "extra_labels.track")],
)
def test_bad_extra_labels(make_spec: MakeSpec, labels: dict[str, str], field: str) -> None:
    with pytest.raises(KubernetesSpecError) as err:
        deployment(make_spec(), name="shop-x", extra_labels=labels)
    assert err.value.field == field


def test_negative_replicas_override(make_spec: MakeSpec) -> None:
    with pytest.raises(KubernetesSpecError, match=r"app\.replicas"):
        deployment(make_spec(), replicas=-1)


# --- PodDisruptionBudget ------------------------------------------------------------------------


def test_no_budget_for_a_single_pod(make_spec: MakeSpec) -> None:
    assert pod_disruption_budget(make_spec()) is None


def test_default_budget_when_replicated(make_spec: MakeSpec, valid: Validate) -> None:
    pdb = pod_disruption_budget(make_spec(replicas=2))
    valid(pdb)
    assert pdb is not None
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["kind"] == "PodDisruptionBudget"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "shop",
        "app.kubernetes.io/instance": "shop",
    }
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_default_budget_when_autoscaled_from_two(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(autoscaling={"min": 2, "max": 5, "cpu": 50})
    pdb = pod_disruption_budget(spec)
    valid(pdb)
    assert pdb is not None
    assert pdb["spec"]["minAvailable"] == 1


def test_budget_from_spec(make_spec: MakeSpec, valid: Validate) -> None:
    pdb = pod_disruption_budget(make_spec(disruption={"max_unavailable": "25%"}))
    valid(pdb)
    assert pdb is not None
    assert pdb["spec"]["maxUnavailable"] == "25%"
    assert "minAvailable" not in pdb["spec"]
    pdb = pod_disruption_budget(make_spec(replicas=4, disruption={"min_available": 3}))
    assert pdb is not None
    assert pdb["spec"]["minAvailable"] == 3


def test_budget_before_1_27_has_no_eviction_policy(make_spec: MakeSpec, valid: Validate) -> None:
    pdb = pod_disruption_budget(make_spec(replicas=2, kubernetes_version="1.25"))
    valid(pdb, "1.25")
    assert pdb is not None
    assert "unhealthyPodEvictionPolicy" not in pdb["spec"]


# --- specs built directly (not by parse_app_spec) get the same checks ---------------------------


def test_name_in_env_and_config_is_an_error() -> None:
    spec = AppSpec("shop", "img", env={"A": "1"}, config={"A": "2"})
    with pytest.raises(KubernetesSpecError) as err:
        deployment(spec)
    assert err.value.field == "app.config.A"


@pytest.mark.parametrize(
    ("probe", "ports", "field"),
    [
        (Probe(http="/h", port="nope"), (Port("http", 80),), "app.probes.readiness.port"),
        (Probe(tcp=True), (), "app.probes.readiness.port"),
        (Probe(grpc=True, port="nope"), (Port("http", 80),), "app.probes.readiness.port"),
    ],
)
def test_direct_spec_probe_ports(probe: Probe, ports: tuple[Port, ...], field: str) -> None:
    spec = AppSpec("shop", "img", ports=ports, readiness=probe)
    with pytest.raises(KubernetesSpecError) as err:
        deployment(spec)
    assert err.value.field == field


def test_grpc_probe_with_port_number(valid: Validate) -> None:
    spec = AppSpec(
        "shop", "img", ports=(Port("grpc", 9090),), readiness=Probe(grpc=True, port=50051)
    )
    d = deployment(spec)
    valid(d)
    assert container(d)["readinessProbe"] == {"grpc": {"port": 50051}}

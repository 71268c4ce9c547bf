"""Field-level preview of a server-side apply (tuskops.kubernetes.diff).

Named test_field_diff.py because tests/core/test_diff.py exists and tests have no packages.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from tuskops.errors import KubernetesError
from tuskops.kubernetes.diff import (
    REDACTED,
    FieldChange,
    field_diff,
    parse_fields_v1,
    render_changes,
    render_managed_path,
)

# What `kubectl get deploy web -o json` shows after tuskops applied DESIRED_V1 with
# --field-manager=tuskops and the controllers ran: managedFields as the API server writes them.
TUSKOPS_ENTRY: dict[str, Any] = {
    "manager": "tuskops",
    "operation": "Apply",
    "apiVersion": "apps/v1",
    "time": "2024-05-01T10:00:00Z",
    "fieldsType": "FieldsV1",
    "fieldsV1": {
        "f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"web"}': {
                            ".": {},
                            "f:args": {},
                            "f:env": {'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}}},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":8080,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                    "f:name": {},
                                }
                            },
                            "f:resources": {"f:requests": {"f:cpu": {}, "f:memory": {}}},
                        },
                        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}},
                    }
                },
            },
        },
    },
}
CONTROLLER_ENTRY: dict[str, Any] = {
    "manager": "kube-controller-manager",
    "operation": "Update",
    "apiVersion": "apps/v1",
    "time": "2024-05-01T10:00:05Z",
    "fieldsType": "FieldsV1",
    "fieldsV1": {
        "f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}},
        "f:status": {"f:replicas": {}, "f:conditions": {'k:{"type":"Available"}': {".": {}}}},
    },
    "subresource": "status",
}


def desired_v1() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "tier": "fe"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "shop/web:1.0",
                            "args": ["--port", "8080"],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                        },
                        {"name": "sidecar", "image": "envoy:1.30"},
                    ]
                },
            },
        },
    }


def live_v1() -> dict[str, Any]:
    """desired_v1 as the server returns it: defaults, status, server metadata, reordered."""
    live = desired_v1()
    live["metadata"].update(
        uid="8d5c3c0e-0000-4000-8000-000000000001",
        resourceVersion="4711",
        generation=1,
        creationTimestamp="2024-05-01T10:00:00Z",
        annotations={"deployment.kubernetes.io/revision": "1"},
        managedFields=[copy.deepcopy(TUSKOPS_ENTRY), copy.deepcopy(CONTROLLER_ENTRY)],
    )
    spec = live["spec"]
    spec.update(revisionHistoryLimit=10, progressDeadlineSeconds=600)
    pod = spec["template"]["spec"]
    pod.update(restartPolicy="Always", dnsPolicy="ClusterFirst")
    web, sidecar = pod["containers"]
    web.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
    web["ports"][0]["protocol"] = "TCP"
    web["resources"]["requests"]["cpu"] = "500m"
    pod["containers"] = [sidecar, web]  # a list-map's order does not matter
    live["status"] = {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}
    return live


# --- fieldsV1 -----------------------------------------------------------------------------------


def test_parse_fields_v1_of_a_real_entry() -> None:
    paths = {render_managed_path(p) for p in parse_fields_v1(TUSKOPS_ENTRY["fieldsV1"])}
    assert "spec.replicas" in paths
    assert "spec.selector" in paths
    assert "metadata.labels.tier" in paths
    assert "spec.template.spec.containers[name=web]" in paths
    assert "spec.template.spec.containers[name=web].image" in paths
    assert "spec.template.spec.containers[name=web].env[name=MODE].value" in paths
    assert "spec.template.spec.containers[name=web].ports[containerPort=8080,protocol=TCP]" in paths
    assert "spec.template.spec.containers[name=sidecar]" in paths
    # inner nodes without "." are not owned themselves
    assert "spec" not in paths
    assert "spec.template.spec.containers" not in paths
    assert "metadata.labels" not in paths


def test_parse_fields_v1_elements() -> None:
    parsed = parse_fields_v1(
        {
            "f:metadata": {
                "f:finalizers": {'v:"example.com/cleanup"': {}},
                "f:annotations": {".": {}, "f:a.b/c": {}},
            },
            "f:spec": {"f:args": {"i:0": {}}},
        }
    )
    assert parsed == {
        (("f", "metadata"), ("f", "finalizers"), ("v", "example.com/cleanup")),
        (("f", "metadata"), ("f", "annotations")),
        (("f", "metadata"), ("f", "annotations"), ("f", "a.b/c")),
        (("f", "spec"), ("f", "args"), ("i", 0)),
    }
    rendered = sorted(render_managed_path(p) for p in parsed)
    assert rendered == [
        "metadata.annotations",
        'metadata.annotations["a.b/c"]',
        "metadata.finalizers[=example.com/cleanup]",
        "spec.args[0]",
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"x:spec": {}},
        {"spec": {}},
        {"f:spec": {"k:{not json": {}}},
        {"f:spec": {"k:[1]": {}}},
        {"f:spec": {"i:first": {}}},
        {"f:spec": []},
    ],
)
def test_parse_fields_v1_rejects_malformed_trees(fields: dict[str, Any]) -> None:
    with pytest.raises(KubernetesError, match="fieldsV1"):
        parse_fields_v1(fields)


# --- additions and changes ----------------------------------------------------------------------


def test_no_changes_when_only_server_defaults_status_and_metadata_differ() -> None:
    assert field_diff(desired_v1(), live_v1()) == []


def test_server_fields_in_desired_are_ignored() -> None:
    desired = desired_v1()
    desired["metadata"]["resourceVersion"] = "1"
    desired["metadata"]["uid"] = "other"
    desired["status"] = {"replicas": 99}
    assert field_diff(desired, live_v1()) == []


def test_scalar_change_and_keyed_list_item_change() -> None:
    desired = desired_v1()
    desired["spec"]["replicas"] = 3
    desired["spec"]["template"]["spec"]["containers"][0]["image"] = "shop/web:1.1"
    assert field_diff(desired, live_v1()) == [
        FieldChange("spec.replicas", 2, 3, "change"),
        FieldChange(
            "spec.template.spec.containers[name=web].image",
            "shop/web:1.0",
            "shop/web:1.1",
            "change",
        ),
    ]


def test_new_list_map_items_are_added_by_key() -> None:
    desired = desired_v1()
    web = desired["spec"]["template"]["spec"]["containers"][0]
    web["env"].insert(0, {"name": "DEBUG", "value": "1"})
    web["ports"].append({"name": "metrics", "containerPort": 9090})
    assert field_diff(desired, live_v1()) == [
        FieldChange(
            "spec.template.spec.containers[name=web].env[name=DEBUG]",
            None,
            {"name": "DEBUG", "value": "1"},
            "add",
        ),
        FieldChange(
            "spec.template.spec.containers[name=web].ports[containerPort=9090,protocol=TCP]",
            None,
            {"name": "metrics", "containerPort": 9090},
            "add",
        ),
    ]


def test_service_ports_are_keyed_by_port_and_protocol() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 53, "protocol": "UDP", "targetPort": 5353}]},
    }
    live = copy.deepcopy(desired)
    live["spec"]["ports"] = [
        {"port": 53, "protocol": "TCP", "targetPort": 53},
        {"port": 53, "protocol": "UDP", "targetPort": 53},
    ]
    assert field_diff(desired, live) == [
        FieldChange("spec.ports[port=53,protocol=UDP].targetPort", 53, 5353, "change")
    ]


def test_atomic_lists_compare_by_position_or_as_a_whole() -> None:
    desired = desired_v1()
    web = desired["spec"]["template"]["spec"]["containers"][0]
    web["args"] = ["--port", "9090"]
    assert field_diff(desired, live_v1()) == [
        FieldChange("spec.template.spec.containers[name=web].args[1]", "8080", "9090", "change")
    ]
    web["args"] = ["--port", "8080", "--verbose"]
    assert field_diff(desired, live_v1()) == [
        FieldChange(
            "spec.template.spec.containers[name=web].args",
            ["--port", "8080"],
            ["--port", "8080", "--verbose"],
            "change",
        )
    ]


def test_new_fields_and_map_keys_that_need_quoting() -> None:
    desired = desired_v1()
    desired["metadata"]["labels"]["app.kubernetes.io/name"] = "web"
    desired["spec"]["minReadySeconds"] = 5
    assert field_diff(desired, live_v1()) == [
        FieldChange('metadata.labels["app.kubernetes.io/name"]', None, "web", "add"),
        FieldChange("spec.minReadySeconds", None, 5, "add"),
    ]


def test_resource_quantities_compare_by_value() -> None:
    desired = desired_v1()
    requests = desired["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    requests.update(cpu="0.5", memory="1024Mi")
    assert field_diff(desired, live_v1()) == []
    requests["memory"] = "1G"
    assert [c.path for c in field_diff(desired, live_v1())] == [
        "spec.template.spec.containers[name=web].resources.requests.memory"
    ]


def test_quantity_equality_is_only_for_resource_maps() -> None:
    desired = desired_v1()
    desired["metadata"]["labels"]["tier"] = "1000m"
    live = live_v1()
    live["metadata"]["labels"]["tier"] = "1"
    assert [c.path for c in field_diff(desired, live)] == ["metadata.labels.tier"]


def test_type_changes_are_changes() -> None:
    desired = desired_v1()
    desired["spec"]["paused"] = True
    live = live_v1()
    live["spec"]["paused"] = 1
    assert field_diff(desired, live) == [FieldChange("spec.paused", 1, True, "change")]


def test_empty_values_the_server_omits_are_not_changes() -> None:
    desired = desired_v1()
    desired["spec"]["template"]["spec"]["securityContext"] = {}
    desired["spec"]["template"]["spec"]["tolerations"] = []
    desired["spec"]["strategy"] = None
    assert field_diff(desired, live_v1()) == []


def test_create_when_there_is_no_live_object() -> None:
    desired = desired_v1()
    assert field_diff(desired, None) == [FieldChange("", None, desired, "add")]


# --- removals -----------------------------------------------------------------------------------


def test_previously_applied_fields_that_are_gone_are_removed() -> None:
    desired = desired_v1()
    del desired["metadata"]["labels"]["tier"]
    containers = desired["spec"]["template"]["spec"]["containers"]
    del containers[1]  # the sidecar
    del containers[0]["resources"]["requests"]["memory"]
    changes = field_diff(desired, live_v1())
    assert changes == [
        FieldChange("metadata.labels.tier", "fe", None, "remove"),
        FieldChange(
            "spec.template.spec.containers[name=sidecar]",
            {"name": "sidecar", "image": "envoy:1.30"},
            None,
            "remove",
        ),
        FieldChange(
            "spec.template.spec.containers[name=web].resources.requests.memory",
            "1Gi",
            None,
            "remove",
        ),
    ]


def test_fields_we_never_applied_are_not_removed() -> None:
    desired = desired_v1()
    live = live_v1()
    live["metadata"]["labels"]["added-by-hand"] = "yes"
    assert field_diff(desired, live) == []


def test_fields_another_manager_also_owns_are_not_removed() -> None:
    desired = desired_v1()
    del desired["metadata"]["labels"]["tier"]
    live = live_v1()
    live["metadata"]["managedFields"].append(
        {
            "manager": "kubectl-label",
            "operation": "Update",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:tier": {}}}},
        }
    )
    assert field_diff(desired, live) == []


def test_only_our_apply_entry_counts() -> None:
    desired = desired_v1()
    del desired["metadata"]["labels"]["tier"]
    live = live_v1()
    live["metadata"]["managedFields"][0]["operation"] = "Update"
    assert field_diff(desired, live) == []
    live["metadata"]["managedFields"][0]["operation"] = "Apply"
    assert field_diff(desired, live, managed_by="helm") == []
    assert len(field_diff(desired, live)) == 1


def test_removals_from_the_object_before_a_dry_run() -> None:
    desired = desired_v1()
    del desired["metadata"]["labels"]["tier"]
    dry_run = live_v1()
    del dry_run["metadata"]["labels"]["tier"]
    assert field_diff(desired, dry_run, previous=live_v1()) == [
        FieldChange("metadata.labels.tier", "fe", None, "remove")
    ]


def test_unknown_fields_type_is_an_error_not_silence() -> None:
    live = live_v1()
    live["metadata"]["managedFields"][0]["fieldsType"] = "FieldsV2"
    with pytest.raises(KubernetesError, match="FieldsV2"):
        field_diff(desired_v1(), live)


# --- secrets ------------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "type": "Opaque",
        "data": {k: b64(v) for k, v in data.items()},
    }


def test_secret_values_are_redacted() -> None:
    live = secret(user="admin", password="hunter2")
    live["metadata"]["managedFields"] = [
        {
            "manager": "tuskops",
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:user": {}, "f:password": {}, "f:old": {}}},
        }
    ]
    live["data"]["old"] = b64("legacy")
    desired = secret(user="admin", password="correct horse", token="t0k3n")
    changes = field_diff(desired, live)
    assert changes == [
        FieldChange("data.password", REDACTED, REDACTED, "change", sensitive=True),
        FieldChange("data.token", None, REDACTED, "add", sensitive=True),
        FieldChange("data.old", REDACTED, None, "remove", sensitive=True),
    ]
    text = render_changes("Secret/shop/db", changes) + repr(changes)
    for plain in ("hunter2", "correct horse", "t0k3n", "legacy"):
        assert plain not in text
        assert b64(plain) not in text


def test_secret_string_data_is_compared_as_data() -> None:
    live = secret(password="hunter2")
    desired = secret()
    del desired["data"]
    desired["stringData"] = {"password": "hunter2"}
    assert field_diff(desired, live) == []
    desired["stringData"] = {"password": "new"}
    assert field_diff(desired, live) == [
        FieldChange("data.password", REDACTED, REDACTED, "change", sensitive=True)
    ]


def test_secret_create_keeps_keys_hides_values() -> None:
    desired = secret(password="hunter2")
    desired["stringData"] = {"token": "t0k3n"}
    (change,) = field_diff(desired, None)
    assert change.sensitive
    assert change.new["data"] == {"password": REDACTED, "token": REDACTED}
    assert "stringData" not in change.new
    assert "hunter2" not in json.dumps(change.new)


def test_non_secret_data_is_not_redacted() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v2"}}
    live = copy.deepcopy(cm)
    live["data"]["k"] = "v1"
    assert field_diff(cm, live) == [FieldChange("data.k", "v1", "v2", "change")]


# --- rendering ----------------------------------------------------------------------------------


def test_render_changes() -> None:
    changes = [
        FieldChange("spec.replicas", 2, 3, "change"),
        FieldChange("spec.template.spec.containers[name=web].image", "a:1", "a:2", "change"),
        FieldChange("metadata.labels.tier", None, "fe", "add"),
        FieldChange("spec.minReadySeconds", 5, None, "remove"),
        FieldChange("data.password", REDACTED, REDACTED, "change", sensitive=True),
    ]
    assert render_changes("Deployment/shop/web", changes).splitlines() == [
        "~ Deployment/shop/web  spec.replicas: 2 -> 3",
        '~ Deployment/shop/web  spec.template.spec.containers[name=web].image: "a:1" -> "a:2"',
        '+ Deployment/shop/web  metadata.labels.tier: (unset) -> "fe"',
        "- Deployment/shop/web  spec.minReadySeconds: 5 -> (unset)",
        "~ Deployment/shop/web  data.password: (sensitive) -> (sensitive)",
    ]


def test_render_create_and_no_changes() -> None:
    assert render_changes("Namespace/shop", field_diff({"kind": "Namespace"}, None)) == (
        "+ Namespace/shop  (create)"
    )
    assert render_changes("Namespace/shop", []) == "  Namespace/shop  (no changes)"


def test_render_truncates_long_values() -> None:
    line = render_changes("ConfigMap/c", [FieldChange("data.big", None, "x" * 500, "add")])
    assert len(line) < 260
    assert line.endswith("…")


def test_removal_of_set_items_and_positions() -> None:
    desired = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "finalizers": ["example.com/keep"]},
        "spec": {"sizes": ["s"]},
    }
    live = copy.deepcopy(desired)
    live["metadata"]["finalizers"].append("example.com/cleanup")
    live["spec"]["sizes"] = ["s", "m"]
    live["metadata"]["managedFields"] = [
        {
            "manager": "tuskops",
            "operation": "Apply",
            "apiVersion": "example.com/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:finalizers": {
                        'v:"example.com/keep"': {},
                        'v:"example.com/cleanup"': {},
                        'v:"example.com/gone-already"': {},
                    }
                },
                "f:spec": {"f:sizes": {"i:0": {}, "i:1": {}, "i:7": {}}},
            },
        }
    ]
    # finalizers is a set: the item tuskops owned goes, the live extra is no change by itself.
    # sizes is atomic: replaced as a whole, and its owned item [1] is not listed again.
    assert field_diff(desired, live) == [
        FieldChange("spec.sizes", ["s", "m"], ["s"], "change"),
        FieldChange(
            "metadata.finalizers[=example.com/cleanup]", "example.com/cleanup", None, "remove"
        ),
    ]


def test_set_items_are_added_not_replaced() -> None:
    desired = {"kind": "X", "metadata": {"finalizers": ["b", "a"]}}
    live = {"kind": "X", "metadata": {"finalizers": ["a", "other"]}}
    assert field_diff(desired, live) == [
        FieldChange("metadata.finalizers[=b]", None, "b", "add"),
    ]


def test_list_map_keys_may_be_structured_values() -> None:
    (path,) = parse_fields_v1({"f:spec": {'k:{"id":{"a":1,"b":[2]}}': {".": {}}}})
    assert render_managed_path(path) == 'spec[id={"a": 1, "b": [2]}]'


def test_list_map_with_an_item_missing_its_key_compares_by_position() -> None:
    desired = {"kind": "X", "spec": {"env": [{"value": "1"}]}}
    live = {"kind": "X", "spec": {"env": [{"value": "2"}]}}
    assert field_diff(desired, live) == [FieldChange("spec.env[0].value", "2", "1", "change")]
    assert field_diff({"kind": "X", "env": ["a"]}, {"kind": "X", "env": ["b"]}) == [
        FieldChange("env[0]", "b", "a", "change")
    ]


@pytest.mark.parametrize(
    ("desired", "live", "same"),
    [
        (1, "1", True),
        ("1e3", "1k", True),
        ("1.5", "1500m", True),
        ("128974848", "129e6", False),
        ("129e6", "129M", True),
        ("1Ki", "1024", True),
        (True, "1", False),
        ("lots", "lots ", False),
        ({"a": 1}, "1", False),
    ],
)
def test_quantity_forms(desired: Any, live: Any, same: bool) -> None:
    d = {"kind": "ResourceQuota", "spec": {"hard": {"cpu": desired}}}
    v = {"kind": "ResourceQuota", "spec": {"hard": {"cpu": live}}}
    assert (field_diff(d, v) == []) is same


def test_owned_status_and_mismatched_shapes_are_not_removals() -> None:
    desired = {"kind": "X", "metadata": {"name": "x"}, "spec": {"env": "not-a-list"}}
    live = {
        "kind": "X",
        "metadata": {
            "name": "x",
            "managedFields": [
                {
                    "manager": "tuskops",
                    "operation": "Apply",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:status": {"f:phase": {}},
                        "f:spec": {"f:env": {'k:{"name":"A"}': {".": {}}}},
                        "f:items": {'k:{"name":"B"}': {".": {}}},
                    },
                }
            ],
        },
        "status": {"phase": "Ready"},
        "spec": {"env": "not-a-list"},
        "items": ["B", {"name": "B", "v": 1}],
    }
    # status is never ours to remove; spec.env is not a list any more, so nothing is there to
    # remove; items[name=B] is found past a non-map item and is removed.
    assert field_diff(desired, live) == [
        FieldChange("items[name=B]", {"name": "B", "v": 1}, None, "remove")
    ]


def test_secret_metadata_changes_are_not_redacted() -> None:
    live = secret(password="x")
    desired = secret(password="x")
    desired["metadata"]["labels"] = {"team": "db"}
    assert field_diff(desired, live) == [
        FieldChange("metadata.labels", None, {"team": "db"}, "add")
    ]


def test_a_boolean_is_not_a_quantity() -> None:
    d = {"kind": "ResourceQuota", "spec": {"hard": {"cpu": False}}}
    v = {"kind": "ResourceQuota", "spec": {"hard": {"cpu": True}}}
    assert len(field_diff(d, v)) == 1

"""Raw manifests: reading YAML files, object identity and RFC 7386 merging."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import lightkube.resources
import pytest
from lightkube.core.resource import GlobalResource

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.manifests import (
    CLUSTER_SCOPED,
    api_group,
    json_merge_patch,
    load_manifests,
    merge_manifests,
    object_key,
)
from tuskops.kubernetes.validate import validate_manifest


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(KubernetesSpecError) as info:
        load_manifests(path)
    return str(info.value).replace(str(path), "extra.yaml")


# --- loading --------------------------------------------------------------------------------


def test_multi_document_files_skip_empty_documents(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "---\n# nothing here\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"
        "---\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: shop}\n",
    )
    objects = load_manifests(path)
    assert [o["metadata"]["name"] for o in objects] == ["a", "b"]
    assert objects[0]["data"] == {"k": "v"}
    for obj in objects:
        validate_manifest(obj, "1.33")


def test_a_list_is_expanded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    assert [o["metadata"]["name"] for o in load_manifests(str(path))] == ["a", "b", "c"]


def test_dates_stay_strings_like_kubectl(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {since: 2024-05-01}\n",
    )
    [obj] = load_manifests(path)
    assert obj["data"]["since"] == "2024-05-01"
    validate_manifest(obj, "1.33")


def test_yaml_errors_name_file_line_and_column(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n"
    message = error_of(tmp_path, text)
    assert message.startswith("extra.yaml:5:1: ")
    assert "expected ',' or ']'" in message


def test_duplicate_keys_are_an_error_at_the_second_key(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
    assert error_of(tmp_path, text) == "extra.yaml:5:3: found duplicate key 'name'"


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  <<: {x: '1', y: '2'}\n"
        "  x: '3'\n",
    )
    assert load_manifests(path)[0]["data"] == {"x": "3", "y": "2"}


def test_missing_identity_names_file_document_and_fields(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        "---\n\n---\nkind: ConfigMap\nmetadata: {labels: {}}\n"
    )
    assert error_of(tmp_path, text) == (
        "extra.yaml:7:1: document 3: missing apiVersion, metadata.name"
    )


def test_a_bad_list_item_is_named(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, metadata: {name: b}}\n"
    )
    assert error_of(tmp_path, text) == "extra.yaml:5:3: document 1, items[1]: missing kind"


def test_a_document_that_is_not_a_map(tmp_path: Path) -> None:
    message = error_of(tmp_path, "- a\n- b\n")
    assert message == "extra.yaml:1:1: document 1: expected a map (an object), got a list"


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(KubernetesSpecError) as info:
        load_manifests(tmp_path / "missing.yaml")
    assert info.value.field == str(tmp_path / "missing.yaml")
    assert "cannot read" in info.value.message


# --- identity -------------------------------------------------------------------------------


def test_object_key_uses_the_group_not_the_version() -> None:
    a = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}}
    b = {**a, "apiVersion": "apps/v1beta2"}
    assert object_key(a) == object_key(b) == ("apps", "Deployment", "n", "w")
    assert api_group("v1") == ""
    assert api_group("rbac.authorization.k8s.io/v1") == "rbac.authorization.k8s.io"


def test_cluster_scoped_kinds_have_no_namespace_in_the_key() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "r", "namespace": "ignored"},
    }
    assert object_key(role) == ("rbac.authorization.k8s.io", "ClusterRole", "", "r")


def test_cluster_scoped_table_covers_lightkube_models() -> None:
    """Every top-level GlobalResource in lightkube-models (1.37) is in the table."""
    found: set[tuple[str, str]] = set()
    for info in pkgutil.iter_modules(lightkube.resources.__path__):
        module = importlib.import_module(f"lightkube.resources.{info.name}")
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and issubclass(cls, GlobalResource)
                and cls.__module__ == module.__name__
                and cls._api_info.parent is None
            ):
                found.add((cls._api_info.resource.group, cls._api_info.resource.kind))
    assert found
    assert found <= CLUSTER_SCOPED


# --- merging --------------------------------------------------------------------------------


def deployment(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}, **meta},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"a": "1"}},
            "template": {
                "metadata": {"labels": {"a": "1"}},
                "spec": {
                    "containers": [{"name": "web", "image": "nginx:1", "args": ["x"]}],
                    "nodeSelector": {"disk": "ssd"},
                },
            },
        },
    }


def test_json_merge_patch_follows_rfc_7386_examples() -> None:
    # From RFC 7386 section 3.
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert json_merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }
    assert json_merge_patch({"a": "b"}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}
    assert json_merge_patch({"a": "foo"}, "bar") == "bar"
    assert target["title"] == "Goodbye!"  # inputs untouched


def test_raw_is_merged_over_the_generated_object() -> None:
    generated = [deployment(namespace="shop")]
    raw = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"b": None, "c": "3"}},
            "spec": {
                "replicas": 5,
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}],
                                      "nodeSelector": None}},
            },
        }
    ]  # fmt: skip
    [merged] = merge_manifests(generated, raw)
    assert merged["metadata"]["labels"] == {"a": "1", "c": "3"}
    assert merged["spec"]["replicas"] == 5
    # Lists are replaced whole: the generated container's args are gone.
    assert merged["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "nginx:2"}]
    assert "nodeSelector" not in merged["spec"]["template"]["spec"]
    assert merged["spec"]["selector"] == {"matchLabels": {"a": "1"}}
    assert generated[0]["spec"]["replicas"] == 2  # inputs untouched
    validate_manifest(merged, "1.33")


def test_raw_without_namespace_gets_the_default_and_matches() -> None:
    generated = [deployment(namespace="shop")]
    raw = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 4}}]  # fmt: skip
    [merged] = merge_manifests(generated, raw, default_namespace="shop")
    assert merged["spec"]["replicas"] == 4
    # With another default the raw object is a different object, appended.
    both = merge_manifests(generated, raw, default_namespace="other")
    assert [m["metadata"]["namespace"] for m in both] == ["shop", "other"]


def test_unmatched_raw_objects_are_appended_in_order() -> None:
    generated = [deployment(namespace="default")]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra"}}
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra"}}
    out = merge_manifests(generated, [cm, ns])
    assert [o["kind"] for o in out] == ["Deployment", "ConfigMap", "Namespace"]
    assert out[1]["metadata"]["namespace"] == "default"
    assert "namespace" not in out[2]["metadata"]  # cluster-scoped: no namespace added
    assert "namespace" not in cm["metadata"]


def test_same_name_other_kind_or_group_is_another_object() -> None:
    generated = [deployment(namespace="default")]
    other = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}}
    assert len(merge_manifests(generated, [other])) == 2


def test_a_crd_makes_its_kind_cluster_scoped() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget"}},
    }
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    out = merge_manifests([], [crd, widget, gadget], default_namespace="shop")
    assert "namespace" not in out[1]["metadata"]
    assert out[2]["metadata"]["namespace"] == "shop"  # unknown kinds are taken as namespaced


def test_two_raw_manifests_for_one_object_are_an_error() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    with pytest.raises(KubernetesSpecError) as info:
        merge_manifests([], [cm, {**cm, "data": {}}], default_namespace="shop")
    assert info.value.field == "ConfigMap/shop/a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("just text\n", "extra.yaml:1:1: document 1: expected a map (an object), got a string"),
        ("42\n", "extra.yaml:1:1: document 1: expected a map (an object), got int"),
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n",
         "extra.yaml:1:1: document 1: items: expected a list"),
        ("apiVersion: v1\nkind: List\nitems:\n- null\n",
         "extra.yaml:4:3: document 1, items[0]: expected a map (an object), got null"),
        ("? [a, b]\n: 1\n", "extra.yaml:1:3: found unhashable key"),
    ],
)  # fmt: skip
def test_shapes_that_are_not_objects(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text) == expected

"""Offline strict schema validation: field-named errors, unknown kinds, versions."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.validate import (
    NoSchemaError,
    supported_versions,
    validate_all,
    validate_manifest,
)


def deployment(**spec_changes: Any) -> dict[str, Any]:
    labels = {"app": "web"}
    spec: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    }
    spec.update(spec_changes)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": spec,
    }


def field_of(manifest: dict[str, Any], version: str = "1.33") -> str:
    with pytest.raises(KubernetesSpecError) as info:
        validate_manifest(manifest, version)
    return info.value.field


@pytest.mark.parametrize("version", ["1.25", "1.33", "1.37"])
def test_a_valid_deployment_passes(version: str) -> None:
    validate_manifest(deployment(), version)


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(KubernetesSpecError) as info:
        validate_manifest(deployment(replicas="three"), "1.33")
    assert info.value.field == "Deployment/default/web: spec.replicas"
    assert "'three' is not of type 'integer'" in info.value.message


def test_unknown_field_is_rejected_and_named() -> None:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    assert field_of(manifest) == (
        "Deployment/default/web: spec.template.spec.containers[0].imagePullPolice"
    )


def test_missing_required_field_is_named() -> None:
    manifest = deployment()
    del manifest["spec"]["selector"]
    assert field_of(manifest) == "Deployment/default/web: spec.selector"


def test_keys_with_dots_are_quoted_in_the_path() -> None:
    manifest = deployment()
    manifest["metadata"]["labels"] = {"app.kubernetes.io/name": 3}
    assert field_of(manifest) == 'Deployment/default/web: metadata.labels["app.kubernetes.io/name"]'


def test_cluster_scoped_objects_are_named_kind_slash_name() -> None:
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}, "x": 1}
    assert field_of(manifest) == "Namespace/shop: x"


def test_missing_kind_is_an_error_not_a_crash() -> None:
    assert field_of({"apiVersion": "v1", "metadata": {"name": "a"}}) == "?/a: kind"


def test_no_schema_raises_and_is_reported_unknown() -> None:
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {},
    }
    with pytest.raises(NoSchemaError):
        validate_manifest(monitor, "1.33")
    [result] = validate_all([monitor], "1.33")
    assert result.status == "unknown: no schema for monitoring.coreos.com/v1/ServiceMonitor"
    assert not result.valid
    assert result.unknown


def test_validate_all_reports_each_manifest_in_order() -> None:
    bad = deployment(replicas="three")
    results = validate_all([deployment(), bad], "1.33")
    assert [r.status for r in results] == ["valid", "invalid"]
    assert results[1].object == "Deployment/default/web"
    assert results[1].field == "spec.replicas"
    assert results[1].version == "1.33"
    assert results[0].valid


def test_schemas_differ_by_version() -> None:
    # Pod resize (spec.resizePolicy) did not exist in 1.26's schema.
    manifest = deployment()
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["resizePolicy"] = [{"resourceName": "cpu", "restartPolicy": "NotRequired"}]
    validate_manifest(manifest, "1.33")
    assert field_of(manifest, "1.26").endswith("containers[0].resizePolicy")


@pytest.mark.parametrize("version", ["1.24", "1.38", "2.0", "latest", ""])
def test_unsupported_versions_list_the_supported_ones(version: str) -> None:
    with pytest.raises(KubernetesSpecError) as info:
        validate_manifest(deployment(), version)
    assert info.value.field == "kubernetes_version"
    assert "1.25, 1.26" in info.value.message
    assert "1.37" in info.value.message
    with pytest.raises(KubernetesSpecError):
        validate_all([], version)


@pytest.mark.parametrize("version", ["v1.33", "1.33.4"])
def test_version_spellings(version: str) -> None:
    assert validate_all([deployment()], version)[0].version == "1.33"


def test_supported_versions() -> None:
    versions = supported_versions()
    assert versions[0] == "1.25"
    assert versions[-1] == "1.37"
    assert "1.33" in versions
    assert len(versions) == 13


def test_a_manifest_that_is_not_a_map() -> None:
    [result] = validate_all(["not a manifest"], "1.33")  # type: ignore[list-item]
    assert result.status == "invalid"
    assert result.object == "(manifest)"
    assert result.message == "expected a map, got str"

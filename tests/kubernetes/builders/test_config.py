"""ConfigMap, Secret and the config checksum."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from tuskops.core.resource import Resource, Sensitive
from tuskops.kubernetes.builders.config import (
    SECRET_PATHS,
    config_checksum,
    config_map,
    secret,
)
from tuskops.kubernetes.spec import AppSpec

Validate = Callable[..., None]
MakeSpec = Callable[..., AppSpec]


def test_no_config_no_secret(make_spec: MakeSpec) -> None:
    spec = make_spec()
    assert config_map(spec) is None
    assert secret(spec) is None
    assert config_checksum(spec) is None


def test_config_map(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(namespace="shop", config={"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": False})
    cm = config_map(spec)
    valid(cm)
    assert cm is not None
    assert cm["kind"] == "ConfigMap"
    assert cm["metadata"]["name"] == "shop-config"
    assert cm["metadata"]["namespace"] == "shop"
    assert cm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "tuskops"
    assert cm["data"] == {"DEBUG": "false", "LOG_LEVEL": "info", "WORKERS": "4"}


def test_secret_is_base64_data_marked_sensitive(make_spec: MakeSpec, valid: Validate) -> None:
    spec = make_spec(secrets={"DATABASE_URL": "postgres://u:hunter2@db/shop", "TOKEN": "t0k"})
    sec = secret(spec)
    valid(sec)
    assert sec is not None
    assert sec["metadata"]["name"] == "shop-secrets"
    assert sec["type"] == "Opaque"
    assert "stringData" not in sec
    decoded = {k: base64.b64decode(v).decode() for k, v in sec["data"].items()}
    assert decoded == {"DATABASE_URL": "postgres://u:hunter2@db/shop", "TOKEN": "t0k"}
    assert all(isinstance(v, Sensitive) for v in sec["data"].values())
    assert "hunter2" not in repr(sec)


def test_secret_values_are_redacted_by_resources(make_spec: MakeSpec) -> None:
    sec = secret(make_spec(secrets={"A": "x"}))
    resource = Resource("kubernetes", "Secret", "shop-secrets", sec, secret_paths=SECRET_PATHS)
    assert ("data", "A") in resource.secret_field_paths()
    # Declared paths cover the plain strings the cluster returns, too.
    observed: dict[str, Any] = {**(sec or {}), "data": {"A": "eA=="}}
    plain = Resource("kubernetes", "Secret", "s", observed, secret_paths=SECRET_PATHS)
    assert ("data",) in plain.secret_field_paths()


def test_secret_at_other_versions(make_spec: MakeSpec, valid: Validate) -> None:
    for version in ("1.25", "1.37"):
        spec = make_spec(secrets={"A": "x"}, config={"B": "y"}, kubernetes_version=version)
        valid(secret(spec), version)
        valid(config_map(spec), version)


def test_checksum_follows_config_and_secrets(make_spec: MakeSpec) -> None:
    base = config_checksum(make_spec(config={"A": "1"}, secrets={"S": "x"}))
    assert base is not None
    assert len(base) == 64
    assert config_checksum(make_spec(config={"A": "1"}, secrets={"S": "x"})) == base
    assert config_checksum(make_spec(config={"A": "2"}, secrets={"S": "x"})) != base
    assert config_checksum(make_spec(config={"A": "1"}, secrets={"S": "y"})) != base
    # A key moving from config to secrets is a change too.
    assert config_checksum(make_spec(secrets={"A": "1", "S": "x"})) != base


def test_checksum_ignores_key_order(make_spec: MakeSpec) -> None:
    one = make_spec(config={"A": "1", "B": "2"})
    two = make_spec(config={"B": "2", "A": "1"})
    assert config_checksum(one) == config_checksum(two)

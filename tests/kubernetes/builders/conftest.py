"""Fixtures for the manifest builder tests: schema validation with kubernetes-validate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import kubernetes_validate
import pytest

from tuskops.kubernetes.spec import AppSpec, parse_app_spec

Validate = Callable[..., None]
MakeSpec = Callable[..., AppSpec]


def _validate(manifest: Mapping[str, Any] | None, version: str = "1.33") -> None:
    """Fail unless ``manifest`` is valid at ``version`` in strict mode (no unknown fields)."""
    assert manifest is not None, "the builder returned no manifest"
    try:
        kubernetes_validate.validate(dict(manifest), version, strict=True)
    except kubernetes_validate.ValidationError as err:  # pragma: no cover - shown on failure
        pytest.fail(f"{manifest.get('kind')} not valid at {version}: {err.message}")


@pytest.fixture
def valid() -> Validate:
    """``valid(manifest, version="1.33")``: strict schema validation."""
    return _validate


@pytest.fixture
def make_spec() -> MakeSpec:
    """``make_spec(**keys)``: a checked spec from a minimal app map plus ``keys``."""

    def make(**keys: Any) -> AppSpec:
        return parse_app_spec({"name": "shop", "image": "ghcr.io/acme/shop:1.4.2", **keys})

    return make

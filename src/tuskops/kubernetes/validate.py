"""Offline schema validation of manifests against a Kubernetes version's OpenAPI schemas.

The schemas are the JSON schemas shipped by ``kubernetes-validate`` (generated from each
release's OpenAPI document, 1.25 to 1.37), in their *strict* form: an unknown field is an
error, as it is for ``kubectl apply --validate=strict`` and for the API server's
``fieldValidation=Strict`` (https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation).

:func:`validate_manifest` raises :class:`~tuskops.errors.KubernetesSpecError` whose ``field``
is ``Kind/namespace/name: <path>`` (``Deployment/default/web: spec.replicas``; a cluster-scoped
object, or one without a namespace yet, is ``Kind/name``). :func:`validate_all` reports every
manifest as a :class:`ValidationResult`.

What this is not: the schemas check shapes and types, not the API server's semantic
validation (name formats, immutable fields, quantities' order...). A kind with no schema -- a
custom resource such as a ``ServiceMonitor`` -- cannot be checked offline: it is reported as
``unknown: no schema for <apiVersion>/<kind>``, never as valid, and :func:`validate_manifest`
raises :class:`NoSchemaError` for it.

Deviations from ``kubernetes-validate`` itself: a version outside the bundled range is an error
here (the library would quietly fall back to an older schema set), and for "unknown field" and
"missing field" errors the path names the field itself (``spec.bogus``, ``spec.selector``)
rather than the object holding it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
from kubernetes_validate import utils as kv_utils

from tuskops.errors import KubernetesError, KubernetesSpecError

__all__ = [
    "NoSchemaError",
    "ValidationResult",
    "object_label",
    "supported_versions",
    "validate_all",
    "validate_manifest",
]

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


class NoSchemaError(KubernetesError):
    """No bundled schema for the manifest's apiVersion and kind (a custom resource, a removed
    or misspelt API): it could not be checked."""

    def __init__(self, label: str, api_version: str, kind: str, version: str) -> None:
        self.label = label
        self.api_version = api_version
        self.kind = kind
        self.version = version
        super().__init__(
            f"{label}: no schema for {api_version}/{kind} in Kubernetes {version}: not checked"
        )


@dataclass(frozen=True)
class ValidationResult:
    """One manifest's outcome.

    ``status`` is ``"valid"``, ``"invalid"`` (``field`` and ``message`` say why) or
    ``"unknown: no schema for <apiVersion>/<kind>"``.
    """

    object: str
    status: str
    version: str
    field: str | None = None
    message: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def unknown(self) -> bool:
        return self.status.startswith("unknown")


@functools.cache
def supported_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions schemas are bundled for, oldest first (``"1.25"``...)."""
    found: set[tuple[int, int]] = set()
    for full in kv_utils.all_versions():
        match = _VERSION.match(str(full))
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


def _minor(version: str) -> str:
    match = _VERSION.match(version.strip())
    normal = f"{match[1]}.{match[2]}" if match else None
    if normal is None or normal not in supported_versions():
        supported = ", ".join(supported_versions())
        raise KubernetesSpecError(
            "kubernetes_version",
            f"cannot validate against Kubernetes {version!r}: supported versions are {supported}",
        )
    return normal


def object_label(manifest: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind/name`` without a namespace), as errors name objects."""
    kind = manifest.get("kind") or "?"
    meta = manifest.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") or meta.get("generateName") or "?"
    namespace = meta.get("namespace")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _json_path(parts: Iterable[object]) -> str:
    """``spec.template.spec.containers[0].image``; odd keys quoted: ``labels["a.b/c"]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f'["{part}"]'
    return out or "(root)"


def _error_path(error: Any) -> list[object]:
    """The error's path, extended to the offending key for unknown and missing fields."""
    path: list[object] = list(error.absolute_path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extra = sorted(
            str(k) for k in instance if k not in known and not any(p.search(k) for p in patterns)
        )
        if extra:
            path.append(extra[0])
    elif error.validator == "required" and isinstance(instance, Mapping):
        missing = [k for k in error.validator_value if k not in instance]
        if missing:
            path.append(missing[0])
    return path


def _check(manifest: Mapping[str, Any], minor: str) -> None:
    if not isinstance(manifest, Mapping):
        raise KubernetesSpecError("(manifest)", f"expected a map, got {type(manifest).__name__}")
    label = object_label(manifest)
    for key in ("apiVersion", "kind"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise KubernetesSpecError(f"{label}: {key}", "required: a non-empty string")
    try:
        kubernetes_validate.validate(dict(manifest), minor, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise NoSchemaError(label, manifest["apiVersion"], manifest["kind"], minor) from exc
    except kubernetes_validate.ValidationError as exc:
        raise KubernetesSpecError(
            f"{label}: {_json_path(_error_path(exc))}", str(exc.message)
        ) from exc


def validate_manifest(manifest: Mapping[str, Any], version: str) -> None:
    """Check one manifest against the strict schema of Kubernetes ``version`` (``"1.33"``).

    Raises :class:`KubernetesSpecError` naming ``Kind/namespace/name: <path>`` for the first
    (most relevant) problem, :class:`NoSchemaError` when the kind has no bundled schema, and
    :class:`KubernetesSpecError` (field ``kubernetes_version``) for an unsupported version.
    """
    _check(manifest, _minor(version))


def validate_all(manifests: Sequence[Mapping[str, Any]], version: str) -> list[ValidationResult]:
    """Validate every manifest, one :class:`ValidationResult` each, in order.

    An unsupported ``version`` raises at once: no manifest could be checked.
    """
    minor = _minor(version)
    results: list[ValidationResult] = []
    for manifest in manifests:
        label = object_label(manifest) if isinstance(manifest, Mapping) else "(manifest)"
        try:
            _check(manifest, minor)
        except NoSchemaError as exc:
            status = f"unknown: no schema for {exc.api_version}/{exc.kind}"
            results.append(ValidationResult(label, status, minor, message=str(exc)))
        except KubernetesSpecError as exc:
            field = exc.field.removeprefix(f"{label}: ")
            results.append(ValidationResult(label, "invalid", minor, field, exc.message))
        else:
            results.append(ValidationResult(label, "valid", minor))
    return results

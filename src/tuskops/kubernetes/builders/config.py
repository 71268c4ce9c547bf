"""The app's ConfigMap (``<name>-config``) and Secret (``<name>-secrets``), and the checksum
that makes a change to either roll the pods.

The Deployment (:mod:`.workload`) reads every key by ``configMapKeyRef``/``secretKeyRef`` as an
environment variable of the same name; values set that way are read only when a container
starts, so the pod template carries :func:`config_checksum` in an annotation: new data means a
new template, and the Deployment controller rolls the pods
(https://kubernetes.io/docs/concepts/configuration/configmap/#configmaps-consumed-as-environment-variables-are-not-updated-automatically).

Secret: ``type: Opaque`` with base64 ``data``, not ``stringData``
(https://kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data).
``stringData`` is write-only: the API server merges it into ``data`` and never returns it, so a
manifest with ``stringData`` would differ from what the cluster reports on every plan. Each
base64 value is a :class:`~tuskops.core.resource.Sensitive` string, so plans and ``eval`` output
redact it even when the caller forgets to declare ``secret_paths`` (base64 is an encoding, not
encryption).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tuskops.core.resource import Sensitive
from tuskops.kubernetes.builders.common import metadata
from tuskops.kubernetes.spec import AppSpec

__all__ = [
    "CHECKSUM_ANNOTATION",
    "SECRET_PATHS",
    "config_checksum",
    "config_map",
    "config_map_name",
    "secret",
    "secret_name",
]

#: The pod template annotation holding :func:`config_checksum`.
CHECKSUM_ANNOTATION = "tuskops.dev/config-checksum"

#: Where a built Secret holds secret values: for ``Resource(secret_paths=SECRET_PATHS)``.
SECRET_PATHS: tuple[tuple[str | int, ...], ...] = (("data",),)


def config_map_name(spec: AppSpec) -> str:
    return f"{spec.name}-config"


def secret_name(spec: AppSpec) -> str:
    return f"{spec.name}-secrets"


def config_map(spec: AppSpec) -> dict[str, Any] | None:
    """The app's ConfigMap (v1) of ``spec.config``; None when there is no config."""
    if not spec.config:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, config_map_name(spec)),
        "data": {key: str(value) for key, value in sorted(spec.config.items())},
    }


def secret(spec: AppSpec) -> dict[str, Any] | None:
    """The app's Secret (v1, Opaque) of ``spec.secrets``; None when there are no secrets.

    ``data`` values are base64 of the UTF-8 text, each a :class:`Sensitive` string; a caller
    wrapping this in a :class:`~tuskops.core.resource.Resource` should also pass
    ``secret_paths=SECRET_PATHS`` so that the values the cluster returns (plain strings) are
    redacted too.
    """
    if not spec.secrets:
        return None
    data = {
        key: Sensitive(base64.b64encode(str(value).encode()).decode("ascii"))
        for key, value in sorted(spec.secrets.items())
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(spec, secret_name(spec)),
        "type": "Opaque",
        "data": data,
    }


def config_checksum(spec: AppSpec) -> str | None:
    """sha256 (hex) of the app's config and secret data, keys sorted; None when there is none.

    One digest over both, so the annotation does not hash the secrets alone (a digest of a
    single short secret invites guessing by anyone who can read pods).
    """
    if not spec.config and not spec.secrets:
        return None
    payload = {
        "config": {k: str(v) for k, v in spec.config.items()},
        "secrets": {k: str(v) for k, v in spec.secrets.items()},
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()

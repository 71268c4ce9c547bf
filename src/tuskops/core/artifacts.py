"""Artifacts: resources whose file is produced at apply time by a builder, not rendered from data.

A resource with ``format = "artifact"`` carries a *recipe* as its body (which builder, and
everything that decides the output: source path, source hash, options). Plans compare recipes,
so a changed source or option shows as a change and an unchanged one as nothing to do; only
``apply`` runs the builder and writes the bytes. Builders are looked up by the recipe's
``builder`` key and loaded on first use, so evaluating a config never imports a toolchain.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from tuskops.core.resource import Resource
from tuskops.errors import TargetError

__all__ = ["ARTIFACT_FORMAT", "BUILDERS", "build_artifact", "check_recipe"]

ARTIFACT_FORMAT = "artifact"

#: builder name -> "module:function"; the function takes the resource and returns the bytes.
BUILDERS: dict[str, str] = {
    "wasm": "tuskops.wasm.operator:build_artifact",
}

Builder = Callable[[Resource], bytes]


def check_recipe(resource: Resource) -> str:
    """The builder name of an artifact resource; a TargetError for a malformed recipe."""
    body: Any = resource.body
    if not isinstance(body, dict) or not isinstance(body.get("builder"), str):
        raise TargetError(f"{resource.id}: an artifact needs a recipe with a 'builder'")
    if body["builder"] not in BUILDERS:
        raise TargetError(f"{resource.id}: unknown artifact builder {body['builder']!r}")
    return str(body["builder"])


def build_artifact(resource: Resource) -> bytes:
    """Run the resource's builder; its errors propagate (they name what failed)."""
    module_name, _, function = BUILDERS[check_recipe(resource)].partition(":")
    builder: Builder = getattr(importlib.import_module(module_name), function)
    return builder(resource)

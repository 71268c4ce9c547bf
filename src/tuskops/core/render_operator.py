"""``@render``: configuration files as desired state.

The first resource-producing operator, and the one that needs no server: each call describes a
file (JSON, YAML, dotenv or plain text) that ``tuskops apply`` writes into the target, for
example the app's own config next to its deployment manifests in a GitOps repository::

    app_config: @render.json("config/app.json", { name: "shop", replicas: 3 })
    dotenv: @render.env(".env", { DATABASE_URL: @secret(@env("DATABASE_URL")) })

Evaluation only describes the file; nothing is written until ``apply``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from tuskops.core.operator import CallContext, Operator, action
from tuskops.core.resource import ORDER_CONFIG, Resource
from tuskops.errors import OperatorArgumentError

_FORMAT_BY_SUFFIX = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".env": "env",
}


def _checked_path(path: str) -> str:
    """A relative POSIX path inside the target, or an error pointing at the argument."""
    if not path or path.strip() != path:
        raise OperatorArgumentError(f"invalid file path {path!r}")
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise OperatorArgumentError(
            f"file path {path!r} must stay inside the target",
            hint="use a relative path without '..', e.g. \"config/app.json\"",
        )
    return str(pure)


def _file(path: str, body: Any, fmt: str) -> Resource:
    checked = _checked_path(path)
    return Resource(
        operator="render",
        kind="file",
        name=checked,
        body=body,
        path=checked,
        format=fmt,
        order=ORDER_CONFIG,
    )


class RenderOperator(Operator):
    """Configuration files as desired state, written by `tuskops apply` into the target."""

    name = "render"

    @action
    def json(self, ctx: CallContext, path: str, value: Any) -> Resource:
        """A JSON file holding `value` (indented, UTF-8, trailing newline)."""
        return _file(path, value, "json")

    @action
    def yaml(self, ctx: CallContext, path: str, value: Any) -> Resource:
        """A YAML file holding `value` (block style, keys in document order)."""
        return _file(path, value, "yaml")

    @action
    def env(self, ctx: CallContext, path: str, values: dict[str, Any]) -> Resource:
        """A dotenv file: one KEY=value line per entry; values must be scalars."""
        for key, value in values.items():
            if isinstance(value, dict | list):
                raise OperatorArgumentError(
                    f"@render.env: value of {key!r} must be a string, number, boolean or null"
                )
        return _file(path, values, "env")

    @action
    def text(self, ctx: CallContext, path: str, content: str) -> Resource:
        """A text file with exactly `content`."""
        return _file(path, content, "text")

    @action(default=True)
    def file(self, ctx: CallContext, path: str, value: Any) -> Resource:
        """A file whose format follows its extension (.json, .yaml/.yml, .env; else text)."""
        fmt = _FORMAT_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())
        if fmt is None and PurePosixPath(path).name == ".env":
            fmt = "env"
        if fmt is None:
            if not isinstance(value, str):
                raise OperatorArgumentError(
                    f"@render.file: {path!r} has no known structured extension, so the value "
                    "must be a string",
                    hint="use @render.json / @render.yaml / @render.env, or a matching extension",
                )
            fmt = "text"
        return _file(path, value, fmt)

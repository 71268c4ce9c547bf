"""@render: files as desired state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuskops.core.operator import CallContext
from tuskops.core.render_operator import RenderOperator
from tuskops.errors import OperatorArgumentError

CTX = CallContext(file=None, base_dir=Path())


def call(action: str, *args: Any) -> Any:
    return RenderOperator().invoke(action, list(args), CTX)


def test_each_action_describes_a_file() -> None:
    res = call("json", "config/app.json", {"a": 1})
    assert (res.id, res.path, res.format, res.body) == (
        "render/file/config/app.json",
        "config/app.json",
        "json",
        {"a": 1},
    )
    assert call("yaml", "a.yaml", [1]).format == "yaml"
    assert call("env", ".env", {"A": "1"}).format == "env"
    assert call("text", "README", "hi").body == "hi"


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("a.json", "json"),
        ("a.yml", "yaml"),
        ("prod.env", "env"),
        (".env", "env"),
        ("notes", "text"),
    ],
)
def test_file_infers_the_format_from_the_extension(path: str, fmt: str) -> None:
    value: Any = "text" if fmt == "text" else {"K": "v"}
    assert call("file", path, value).format == fmt


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.json", "a/../../b.json", ""])
def test_paths_must_stay_inside_the_target(path: str) -> None:
    with pytest.raises(OperatorArgumentError):
        call("json", path, {})


def test_env_values_must_be_scalars() -> None:
    with pytest.raises(OperatorArgumentError, match="value of 'A' must be"):
        call("env", ".env", {"A": {"nested": 1}})


def test_unknown_extension_needs_text() -> None:
    with pytest.raises(OperatorArgumentError, match="must be a string"):
        call("file", "notes.cfg", {"a": 1})

"""@packages and the per-ecosystem operators, evaluated from .tsk files whose directory holds
the registry settings (.npmrc, pip.conf), against the local registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tuskops
from tuskops.core.registry import default_registry
from tuskops.errors import LangError


@pytest.fixture
def project(registry_project: Path) -> Path:
    return registry_project


def evaluate(project: Path, text: str, **options: Any) -> Any:
    path = project / "app.tsk"
    path.write_text(text)
    return tuskops.load(path, **options)


def test_lookups_as_values(project: Path) -> None:
    doc = evaluate(
        project,
        'versions: @npm.versions("left-pad")\n'
        'latest: @npm.latest("left-pad")\n'
        'widget: @npm.latest("@acme/widget")\n'
        'py: @pip.versions("demo")\n'
        'py_latest: @packages.latest("pypi", "demo")\n'
        'info: @packages.info("npm", "left-pad", "1.0.0")\n'
        'demo: @pip.info("demo")\n',
    )
    assert doc["versions"] == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert doc["latest"] == "1.1.0"
    assert doc["widget"] == "0.2.0"
    assert doc["py"] == ["1.0.0", "1.2.0", "2.0.0b1"]  # the yanked 1.1.0 is left out
    assert doc["py_latest"] == "1.2.0"
    assert doc["info"]["dependencies"][0]["name"] == "wordwrap"
    assert doc["info"]["license"] == "MIT"
    assert doc["demo"]["version"] == "1.2.0"
    assert [d["name"] for d in doc["demo"]["dependencies"]] == ["idna", "colorama"]


def test_a_lookup_is_made_once_per_evaluation(project: Path, local_registry: Any) -> None:
    evaluate(project, 'a: @npm.versions("left-pad")\nb: @npm.versions("left-pad")\n')
    assert [p for p, _ in local_registry.log].count("/npm/left-pad") == 1


def test_offline_evaluation_with_an_empty_cache_fails_at_the_call(project: Path) -> None:
    with pytest.raises(LangError) as info:
        evaluate(project, 'v: @npm.latest("left-pad")\n', offline=True)
    text = str(info.value)
    assert "app.tsk:1:4: error: offline, and the cache has no answer" in text
    assert "evaluate once without --offline" in text
    evaluate(project, 'v: @npm.latest("left-pad")\n')
    assert evaluate(project, 'v: @npm.latest("left-pad")\n', offline=True)["v"] == "1.1.0"


def test_errors_name_the_call(project: Path) -> None:
    with pytest.raises(LangError) as info:
        evaluate(
            project,
            'a: @npm.info("no-such-thing")\n'
            'b: @packages.versions("conda", "numpy")\n'
            'c: @npm.lock("left-pad")\n',
        )
    text = str(info.value)
    assert "app.tsk:1:4: error: no package no-such-thing on" in text
    assert "app.tsk:2:4: error: unknown ecosystem 'conda'" in text
    assert "app.tsk:3:4: error: @npm.lock is not implemented yet" in text


def test_operators_are_registered_with_aliases() -> None:
    registry = default_registry()
    for name in ["packages", "npm", "pip", "pypi", "cargo", "crates", "maven", "nuget", "gem",
                 "rubygems", "composer", "packagist"]:  # fmt: skip
        op = registry.get(name)
        assert {"versions", "latest", "info"} <= set(op.actions), name

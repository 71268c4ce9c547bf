"""@packages.resolve and @pip/@npm.resolve, evaluated from .tsk files against local registries."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import tuskops
from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import serve_lock_graph
from _support.registry import LocalRegistry
from tuskops.errors import LangError

GRAPH: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2"])},
    "lib": {"1.0": Rel(["base"]), "1.5": Rel(["base>=1"]), "2.0": Rel()},
    "base": {"1.0": Rel(), "1.2": Rel()},
    "left": {"1.0": Rel(["base<1.1"])},
    "right": {"1.0": Rel(["base>=1.2"])},
}


@pytest.fixture
def project(
    local_registry: LocalRegistry,
    package_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Generator[Path, None, None]:
    index = serve_lock_graph(GRAPH)
    project = tmp_path / "project"
    project.mkdir()
    pip_conf = project / "pip.conf"
    pip_conf.write_text(f"[global]\nindex-url = {index.base}/simple/\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf))
    (project / ".npmrc").write_text(f"registry={local_registry.base}/npm/\n")
    yield project
    index.httpd.shutdown()
    index.httpd.server_close()


def evaluate(project: Path, text: str) -> Any:
    path = project / "app.tsk"
    path.write_text(text)
    return tuskops.load(path)


def test_inline_pypi_requirements_resolve_to_pinned_versions(project: Path) -> None:
    doc = evaluate(
        project,
        'deps: @packages.resolve({ecosystem: "pypi", requirements: ["app"], python: "3.11"})\n',
    )
    assert doc["deps"]["versions"] == {"app": "1.0", "base": "1.2", "lib": "1.5"}
    assert doc["deps"]["ecosystem"] == "pypi"
    lib = next(p for p in doc["deps"]["packages"] if p["name"] == "lib")
    assert lib["dependencies"] == ["base 1.2"]
    assert sorted(p.name for p in project.iterdir()) == [".npmrc", "app.tsk", "pip.conf"]


def test_the_per_ecosystem_form_takes_the_requirements_themselves(project: Path) -> None:
    doc = evaluate(
        project,
        'py: @pip.resolve(["lib<1.5"])\n'
        'web: @npm.resolve({"left-pad": "~1.1.0"})\n'
        'one: @npm.resolve("left-pad@1.1")\n',
    )
    assert doc["py"]["versions"] == {"base": "1.2", "lib": "1.0"}
    assert doc["web"]["versions"] == {"left-pad": "1.1.0"}
    assert doc["web"]["packages"][0]["path"] == "node_modules/left-pad"
    assert doc["one"]["versions"] == {"left-pad": "1.1.0"}  # one requirement as a string


def test_a_project_is_resolved_from_its_manifest_without_writing(project: Path) -> None:
    api = project / "api"
    api.mkdir()
    (api / "requirements.txt").write_text("lib==1.0\n")
    doc = evaluate(project, 'api: @packages.resolve({project: "api", python: "3.11"})\n')
    assert doc["api"]["versions"] == {"base": "1.2", "lib": "1.0"}
    assert sorted(p.name for p in api.iterdir()) == ["requirements.txt"]


def test_a_conflict_is_an_error_with_the_explanation(project: Path) -> None:
    with pytest.raises(LangError) as info:
        evaluate(project, 'x: @pip.resolve(["left", "right"])\n')
    text = str(info.value)
    assert "app.tsk:1:4" in text
    assert "no set of versions works" in text
    assert "left" in text
    assert "right" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('@packages.resolve({requirements: ["a"]})', "say which `ecosystem`"),
        ('@packages.resolve({ecosystem: "pypi", requirement: ["a"]})', "unknown key 'requirement'"),
        ('@packages.resolve({ecosystem: "pypi"})', "either `requirements` or `project`"),
        ('@packages.resolve({ecosystem: "cobol", requirements: []})', "cobol"),
        ('@maven.resolve(["junit"])', "group:artifact:version"),
    ],
)
def test_bad_specs_are_named(project: Path, call: str, message: str) -> None:
    with pytest.raises(LangError) as info:
        evaluate(project, f"x: {call}\n")
    assert message in str(info.value)

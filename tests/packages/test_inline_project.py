"""Inline requirements written as each ecosystem's manifest, read back by tuskops' own readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuskops.packages.inline_project import (
    InlineProjectError,
    split_requirements,
    write_inline_project,
)
from tuskops.packages.manifests import Manifest, read


def deps(path: Path) -> dict[str, str | None]:
    manifest = read(path)
    assert isinstance(manifest, Manifest)
    return {d.name: d.constraint for d in manifest.dependencies}


@pytest.mark.parametrize(
    ("ecosystem", "requirements", "expected"),
    [
        ("pypi", ["django>=4.2", "requests"], {"django": ">=4.2", "requests": None}),
        ("npm", ["express@^4", "@scope/pkg@~1.2"], {"express": "^4", "@scope/pkg": "~1.2"}),
        ("cargo", {"serde": "1.0"}, {"serde": "1.0"}),
        ("composer", ["monolog/monolog:^3"], {"monolog/monolog": "^3"}),
        ("rubygems", {"rails": "~> 7.1, >= 7.1.2"}, {"rails": "~> 7.1, >= 7.1.2"}),
        ("maven", ["org.slf4j:slf4j-api:2.0.13"], {"org.slf4j:slf4j-api": "2.0.13"}),
        ("nuget", {"Newtonsoft.Json": "13.0.3"}, {"Newtonsoft.Json": "13.0.3"}),
    ],
)
def test_each_manifest_reads_back(
    tmp_path: Path, ecosystem: str, requirements: object, expected: dict[str, str]
) -> None:
    path = write_inline_project(ecosystem, tmp_path, requirements)  # type: ignore[arg-type]
    found = deps(path)
    assert set(found) == set(expected)
    for name, constraint in expected.items():
        if constraint is None:
            assert not found[name]
        else:  # readers may normalise spacing
            assert (found[name] or "").replace(" ", "") == constraint.replace(" ", "")


def test_dev_requirements_are_kept_apart(tmp_path: Path) -> None:
    path = write_inline_project("npm", tmp_path, {"a": "1"}, dev={"b": "2"})
    manifest = read(path)
    assert isinstance(manifest, Manifest)
    assert {d.name: d.kind for d in manifest.dependencies} == {"a": "normal", "b": "dev"}


def test_ruby_strings_cannot_break_out(tmp_path: Path) -> None:
    path = write_inline_project("rubygems", tmp_path, {'x" ; system("id") #': ">= 1"})
    assert 'gem "x\\" ; system(\\"id\\") \\#", ">= 1"' in path.read_text()


@pytest.mark.parametrize(
    ("ecosystem", "requirements", "message"),
    [
        ("maven", ["junit"], "group:artifact:version"),
        ("maven", {"junit:junit": ""}, "need a version"),
        ("nuget", {"A": ""}, "need a version"),
        ("cobol", ["x"], "unknown ecosystem"),
    ],
)
def test_unwritable_requirements_are_named(
    tmp_path: Path, ecosystem: str, requirements: object, message: str
) -> None:
    with pytest.raises(InlineProjectError, match=message):
        write_inline_project(ecosystem, tmp_path, requirements)  # type: ignore[arg-type]


def test_split_keeps_an_npm_scope() -> None:
    assert split_requirements("npm", ["@a/b", "c@2"]) == {"@a/b": "", "c": "2"}

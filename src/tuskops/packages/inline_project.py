"""A project written from requirements given inline, so that any ecosystem's locker can resolve it.

``@packages.resolve({ecosystem: "npm", dependencies: {express: "^4"}})`` has no manifest on
disk; :func:`write_inline_project` writes the smallest manifest the ecosystem's locker reads
(``requirements.txt``, ``package.json``, ``Cargo.toml``, ``pom.xml``, a ``.csproj``,
``Gemfile``, ``composer.json``) into a scratch directory of the caller's, with the standard
serializers (json, tomli-w, ElementTree). The Gemfile has no serializer, so it is written by
hand, with every string quoted by :func:`_ruby_string`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import tomli_w

from tuskops.errors import PackageError

__all__ = ["InlineProjectError", "split_requirements", "write_inline_project"]

#: The name given to the project that holds the inline requirements.
PROJECT_NAME = "tuskops-inline"


class InlineProjectError(PackageError):
    """Inline requirements that cannot be written as the ecosystem's manifest."""

    exit_code = 2


Requirements = Mapping[str, str] | Sequence[str]


def split_requirements(ecosystem: str, requirements: Requirements) -> dict[str, str]:
    """``{name: constraint}`` from a mapping, or from a list of ``name@constraint`` (npm),
    ``name constraint`` / ``name:constraint`` (the others); an empty constraint means any."""
    if isinstance(requirements, Mapping):
        return {str(k): str(v) for k, v in requirements.items()}
    if isinstance(requirements, str):
        requirements = [requirements]
    found: dict[str, str] = {}
    for item in requirements:
        text = str(item).strip()
        if ecosystem == "npm":
            at = text.find("@", 1)  # a scope's leading @ is part of the name
            name, constraint = (text[:at], text[at + 1 :]) if at > 0 else (text, "")
        elif ecosystem == "maven":  # group:artifact:version
            parts = text.split(":")
            if len(parts) not in (2, 3):
                raise InlineProjectError(
                    f"{text!r}: write Maven requirements as group:artifact:version"
                )
            name, constraint = ":".join(parts[:2]), parts[2] if len(parts) == 3 else ""
        else:
            name, _, constraint = text.replace(":", " ", 1).partition(" ")
        if not name:
            raise InlineProjectError(f"{item!r}: an empty requirement")
        found[name] = constraint.strip()
    return found


def _pypi(directory: Path, requirements: Requirements) -> Path:
    if isinstance(requirements, Mapping):
        lines = [f"{name}{spec}" for name, spec in requirements.items()]
    elif isinstance(requirements, str):
        lines = [requirements]
    else:
        lines = [str(r) for r in requirements]  # PEP 508 strings, markers and all
    path = directory / "requirements.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def _npm(directory: Path, deps: dict[str, str], dev: dict[str, str]) -> Path:
    manifest: dict[str, object] = {"name": PROJECT_NAME, "version": "0.0.0", "private": True}
    manifest["dependencies"] = {n: s or "*" for n, s in deps.items()}
    if dev:
        manifest["devDependencies"] = {n: s or "*" for n, s in dev.items()}
    path = directory / "package.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def _cargo(directory: Path, deps: dict[str, str], dev: dict[str, str]) -> Path:
    manifest: dict[str, object] = {
        "package": {"name": PROJECT_NAME, "version": "0.0.0", "edition": "2021"},
        "dependencies": {n: s or "*" for n, s in deps.items()},
    }
    if dev:
        manifest["dev-dependencies"] = {n: s or "*" for n, s in dev.items()}
    (directory / "src").mkdir(exist_ok=True)
    (directory / "src" / "lib.rs").write_text("")
    path = directory / "Cargo.toml"
    path.write_text(tomli_w.dumps(manifest))
    return path


def _composer(directory: Path, deps: dict[str, str], dev: dict[str, str]) -> Path:
    manifest: dict[str, object] = {
        "name": f"tuskops/{PROJECT_NAME}",
        "require": {n: s or "*" for n, s in deps.items()},
    }
    if dev:
        manifest["require-dev"] = {n: s or "*" for n, s in dev.items()}
    path = directory / "composer.json"
    path.write_text(json.dumps(manifest, indent=4) + "\n")
    return path


def _ruby_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("#", "\\#")
    return f'"{escaped}"'


def _gem_line(name: str, spec: str) -> str:
    parts = [_ruby_string(name)]
    parts += [_ruby_string(p.strip()) for p in spec.split(",") if p.strip()]
    return "gem " + ", ".join(parts)


def _rubygems(
    directory: Path, deps: dict[str, str], dev: dict[str, str], source: str | None
) -> Path:
    lines = [f"source {_ruby_string(source or 'https://rubygems.org')}", ""]
    lines += [_gem_line(n, s) for n, s in deps.items()]
    if dev:
        lines += ["", "group :development do"]
        lines += [f"  {_gem_line(n, s)}" for n, s in dev.items()]
        lines.append("end")
    path = directory / "Gemfile"
    path.write_text("\n".join(lines) + "\n")
    return path


def _maven(directory: Path, deps: dict[str, str], dev: dict[str, str]) -> Path:
    project = ET.Element("project", xmlns="http://maven.apache.org/POM/4.0.0")
    for tag, text in (
        ("modelVersion", "4.0.0"),
        ("groupId", "tuskops.inline"),
        ("artifactId", PROJECT_NAME),
        ("version", "0.0.0"),
    ):
        ET.SubElement(project, tag).text = text
    dependencies = ET.SubElement(project, "dependencies")
    for group, scope in ((deps, None), (dev, "test")):
        for name, version in group.items():
            if name.count(":") != 1:
                raise InlineProjectError(f"{name!r}: a Maven name is groupId:artifactId")
            if not version:
                raise InlineProjectError(f"{name}: Maven dependencies need a version")
            group_id, artifact_id = name.split(":")
            dep = ET.SubElement(dependencies, "dependency")
            ET.SubElement(dep, "groupId").text = group_id
            ET.SubElement(dep, "artifactId").text = artifact_id
            ET.SubElement(dep, "version").text = version
            if scope:
                ET.SubElement(dep, "scope").text = scope
    ET.indent(project)
    path = directory / "pom.xml"
    ET.ElementTree(project).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _nuget(directory: Path, deps: dict[str, str], framework: str | None) -> Path:
    project = ET.Element("Project", Sdk="Microsoft.NET.Sdk")
    group = ET.SubElement(project, "PropertyGroup")
    ET.SubElement(group, "TargetFramework").text = framework or "net8.0"
    items = ET.SubElement(project, "ItemGroup")
    for name, version in deps.items():
        if not version:
            raise InlineProjectError(f"{name}: NuGet package references need a version")
        ET.SubElement(items, "PackageReference", Include=name, Version=version)
    ET.indent(project)
    path = directory / f"{PROJECT_NAME}.csproj"
    ET.ElementTree(project).write(path, encoding="utf-8")
    return path


def write_inline_project(
    ecosystem: str,
    directory: Path,
    requirements: Requirements,
    *,
    dev: Requirements | None = None,
    framework: str | None = None,
    source: str | None = None,
) -> Path:
    """Write the manifest of a project requiring ``requirements`` (and ``dev`` ones) into
    ``directory``; returns the manifest's path. ``framework`` is NuGet's target framework,
    ``source`` the Gemfile's source."""
    deps = split_requirements(ecosystem, requirements)
    dev_deps = split_requirements(ecosystem, dev) if dev else {}
    if ecosystem == "pypi":
        if dev:
            raise InlineProjectError("pypi has no dev requirements; list them all")
        return _pypi(directory, requirements)
    if ecosystem == "npm":
        return _npm(directory, deps, dev_deps)
    if ecosystem == "cargo":
        return _cargo(directory, deps, dev_deps)
    if ecosystem == "composer":
        return _composer(directory, deps, dev_deps)
    if ecosystem == "rubygems":
        return _rubygems(directory, deps, dev_deps, source)
    if ecosystem == "maven":
        return _maven(directory, deps, dev_deps)
    if ecosystem == "nuget":
        if dev:
            raise InlineProjectError("nuget has no dev requirements; list them all")
        return _nuget(directory, deps, framework)
    raise InlineProjectError(f"unknown ecosystem {ecosystem!r}")

"""PyPI files: requirements files, pyproject.toml, uv.lock and pylock.toml.

Fixtures follow pip's "Requirements File Format", PEP 621, PEP 735, Poetry's "Dependency
specification", uv's lockfile layout and PEP 751's example.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import re
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.pypi_files import (
    read_pylock,
    read_pyproject,
    read_requirements,
    read_uv_lock,
    write_pylock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def by_name(deps: tuple[Dependency, ...]) -> dict[str, Dependency]:
    return {d.name: d for d in deps}


# --- requirements files -----------------------------------------------------------------------

REQUIREMENTS = """
# This is a comment, to show how #-prefixed lines are ignored.
--index-url https://pypi.example.org/simple
--extra-index-url https://mirror.example.org/simple
--find-links ./wheels
--pre

pytest
pytest-cov
beautifulsoup4
docopt == 0.6.1             # Version Matching. Must be version 0.6.1
keyring >= 4.1.1            # Minimum version 4.1.1
coverage != 3.5             # Version Exclusion. Anything except version 3.5
Mopidy-Dirble ~= 1.1        # Compatible release. Same as >= 1.1, == 1.*
requests [security, socks] >= 2.8.1, == 2.8.* ; python_version < "2.7"
urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip
SomeProject == 5.4 ; python_version < '3.8'
SomeProject ; sys_platform == 'win32'
FooProject == 1.2 \\
    --hash=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 \\
    --hash=sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7
-e git+https://github.com/pypa/pip.git@22.0#egg=pip
-e ./local/project[dev]
./downloads/numpy-1.9.2-cp34-none-win32.whl
http://wxpython.org/Phoenix/snapshot-builds/wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl
private @ https://${TOKEN}@git.example.com/private-1.0.tar.gz
"""


def test_requirements_file_per_pips_docs(tmp_path: Path) -> None:
    manifest = read_requirements(write(tmp_path, "requirements.txt", REQUIREMENTS))
    assert manifest.ecosystem == "pypi"
    assert manifest.name is None
    deps = manifest.dependencies
    names = [d.name for d in deps]
    assert names[:7] == [
        "pytest",
        "pytest-cov",
        "beautifulsoup4",
        "docopt",
        "keyring",
        "coverage",
        "Mopidy-Dirble",
    ]
    d = by_name(deps)
    assert d["pytest"].constraint == ""
    assert d["docopt"].constraint == "== 0.6.1"
    assert d["Mopidy-Dirble"].constraint == "~= 1.1"
    requests = d["requests"]
    assert requests.constraint == ">= 2.8.1, == 2.8.*"
    assert requests.extras == ("security", "socks")
    assert requests.markers == 'python_version < "2.7"'
    assert d["urllib3"].source == (
        "https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip"
    )
    assert d["urllib3"].constraint == ""
    some = [x for x in deps if x.name == "SomeProject"]
    assert [x.markers for x in some] == ['python_version < "3.8"', 'sys_platform == "win32"']
    assert d["docopt"].extra == {"file": str(tmp_path / "requirements.txt"), "line": 10}


def test_hashes_across_continuation_lines(tmp_path: Path) -> None:
    manifest = read_requirements(write(tmp_path, "requirements.txt", REQUIREMENTS))
    foo = by_name(manifest.dependencies)["FooProject"]
    assert foo.constraint == "== 1.2"
    assert foo.extra["hashes"] == (
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7",
    )
    assert foo.extra["line"] == 18


def test_editables_urls_paths_and_options(tmp_path: Path) -> None:
    manifest = read_requirements(write(tmp_path, "requirements.txt", REQUIREMENTS))
    d = by_name(manifest.dependencies)
    pip = d["pip"]
    assert pip.source == "git+https://github.com/pypa/pip.git@22.0#egg=pip"
    assert pip.extra["editable"] is True
    local = d["./local/project"]
    assert local.source == "./local/project"
    assert local.extras == ("dev",)
    assert local.extra["editable"] is True
    assert local.extra["unnamed"] is True
    assert d["numpy"].source == "./downloads/numpy-1.9.2-cp34-none-win32.whl"
    assert str(d["wxpython-phoenix"].source).startswith("http://wxpython.org/")
    # environment variables are left as written
    assert d["private"].source == "https://${TOKEN}@git.example.com/private-1.0.tar.gz"
    assert manifest.extra["index-url"] == "https://pypi.example.org/simple"
    assert manifest.extra["extra-index-url"] == ("https://mirror.example.org/simple",)
    assert manifest.extra["find-links"] == ("./wheels",)
    assert manifest.extra["pre"] is True


def test_recursive_includes_constraints_and_cycles(tmp_path: Path) -> None:
    write(tmp_path, "common.txt", "# shared\n")
    write(tmp_path, "requirements/base.txt", "-r ../common.txt\nattrs>=22\n")
    write(tmp_path, "requirements/dev.txt", "-r base.txt\n--requirement=base.txt\npytest\n")
    write(tmp_path, "constraints.txt", "attrs==23.1.0\nurllib3<2 ; python_version < '3.10'\n")
    top = write(
        tmp_path,
        "requirements.txt",
        "-c constraints.txt\n-r requirements/dev.txt\nrequests\n",
    )
    manifest = read_requirements(top)
    files = [Path(d.extra["file"]).name for d in manifest.dependencies]
    names = [d.name for d in manifest.dependencies]
    assert names == ["attrs", "pytest", "requests"]
    assert files == ["base.txt", "dev.txt", "requirements.txt"]
    constraints = manifest.extra["constraints"]
    assert [(c.name, c.constraint) for c in constraints] == [
        ("attrs", "==23.1.0"),
        ("urllib3", "<2"),
    ]
    assert constraints[1].markers == 'python_version < "3.10"'
    # dev.txt includes base.txt twice: it is read once
    assert len(manifest.extra["files"]) == 5


def test_cycle_between_two_files_is_an_error_as_in_pip(tmp_path: Path) -> None:
    b = write(tmp_path, "b.txt", "six\n  -r ./a.txt\n")
    a = write(tmp_path, "a.txt", "-r b.txt\nidna\n")
    with pytest.raises(ManifestError, match="recursively references itself") as info:
        read_requirements(a)
    assert info.value.file == str(b)
    assert info.value.location == "2:3"
    assert info.value.message == f"{tmp_path / 'a.txt'} recursively references itself in {b}"


def test_self_include_is_an_error(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "six\n--requirement requirements.txt\n")
    with pytest.raises(ManifestError, match="recursively references itself") as info:
        read_requirements(top)
    assert (info.value.file, info.value.location) == (str(top), "2:1")


def test_invalid_requirement_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.txt", "# pins\nrequests\n  flask >= 2.0, <\n")
    with pytest.raises(ManifestError) as info:
        read_requirements(path)
    err = info.value
    assert err.file == str(path)
    assert err.location == "3:17"
    assert "invalid requirement 'flask >= 2.0, <'" in err.message
    assert str(err).startswith(f"{path}:3:17: error: invalid requirement")


def test_error_in_included_file_names_that_file(tmp_path: Path) -> None:
    inner = write(tmp_path, "inner.txt", "ok\n\nbad name==1\n")
    top = write(tmp_path, "requirements.txt", "-r inner.txt\n")
    with pytest.raises(ManifestError) as info:
        read_requirements(top)
    assert info.value.file == str(inner)
    assert info.value.location == "3:5"


def test_missing_included_file_is_reported_at_the_include(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "requests\n-r missing.txt\n")
    with pytest.raises(ManifestError) as info:
        read_requirements(top)
    assert info.value.file == str(top)
    assert info.value.location == "2:1"
    assert "no such file" in info.value.message


def test_unknown_option_is_an_error(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "requests --frobnicate\n")
    with pytest.raises(ManifestError, match="no such option: --frobnicate") as info:
        read_requirements(top)
    assert info.value.location == "1:10"


def test_comment_after_continuation_and_hash_in_url(tmp_path: Path) -> None:
    top = write(
        tmp_path,
        "requirements.txt",
        "six==1.16.0 \\\n# a comment ends the continuation\nidna  # trailing\n"
        "https://example.com/pkg-1.0.tar.gz#sha256=abc\n",
    )
    deps = read_requirements(top).dependencies
    assert [d.name for d in deps] == ["six", "idna", "pkg"]
    assert deps[2].source == "https://example.com/pkg-1.0.tar.gz#sha256=abc"


def test_invalid_marker_on_a_url_requirement(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "https://x.example/p-1.0.tar.gz ; python_version <\n")
    with pytest.raises(ManifestError, match="invalid marker") as info:
        read_requirements(top)
    assert info.value.location == "1:50"


def test_url_requirement_marker_is_normalised(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "https://x.example/p-1.0.tar.gz ; os_name=='nt'\n")
    dep = read_requirements(top).dependencies[0]
    assert (dep.name, dep.markers) == ("p", 'os_name == "nt"')


def test_hash_without_requirement_is_an_error(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "six\n    --hash=sha256:abc\n")
    with pytest.raises(ManifestError, match="--hash must follow a requirement") as info:
        read_requirements(top)
    assert info.value.location == "2:5"


def test_env_var_and_url_includes_are_recorded(tmp_path: Path) -> None:
    top = write(
        tmp_path,
        "requirements.txt",
        "six\n-r ${CONFIG_DIR}/extra.txt\n-rhttps://example.com/r.txt\n",
    )
    manifest = read_requirements(top)
    assert [d.name for d in manifest.dependencies] == ["six"]
    unresolved = manifest.extra["unresolved-includes"]
    assert [u["target"] for u in unresolved] == [
        "${CONFIG_DIR}/extra.txt",
        "https://example.com/r.txt",
    ]
    assert unresolved[0]["line"] == 2


def test_requirements_via_read(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements-dev.txt", "pytest>=8\n")
    manifest = manifests.read(path)
    assert isinstance(manifest, Manifest)
    assert manifest.dependencies[0].constraint == ">=8"
    assert manifest.to_json()["type"] == "manifest"


# --- pyproject.toml ---------------------------------------------------------------------------

PEP621 = """
[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "spam-eggs"
version = "2020.0.0"
requires-python = ">= 3.8"
dynamic = ["readme"]
dependencies = [
  "httpx",
  "gidgethub[httpx]>4.0.0",
  "django>2.1; os_name != 'nt'",
  "django>2.0; os_name == 'nt'",
]

[project.optional-dependencies]
gui = ["PyQt5"]
cli = [
  "rich",
  "click",
]

[dependency-groups]
coverage = ["coverage[toml]"]
test = ["pytest>7", {include-group = "coverage"}]
typing = ["mypy==1.7.1", "types-requests"]
typing-test = [{include-group = "typing"}, {include-group = "test"}, "useful-types"]
"""


def test_pep621_project(tmp_path: Path) -> None:
    manifest = read_pyproject(write(tmp_path, "pyproject.toml", PEP621))
    assert (manifest.name, manifest.version) == ("spam-eggs", "2020.0.0")
    assert manifest.extra["requires-python"] == ">= 3.8"
    assert manifest.extra["dynamic"] == ("readme",)
    assert manifest.extra["extras"] == ("gui", "cli")
    assert manifest.extra["build-backend"] == "hatchling.build"
    normal = [d for d in manifest.dependencies if d.kind == "normal"]
    assert [(d.name, d.constraint, d.markers) for d in normal] == [
        ("httpx", "", None),
        ("gidgethub", ">4.0.0", None),
        ("django", ">2.1", 'os_name != "nt"'),
        ("django", ">2.0", 'os_name == "nt"'),
    ]
    assert normal[1].extras == ("httpx",)
    optional = [d for d in manifest.dependencies if d.kind == "optional"]
    assert [(d.name, d.extra["extra"], d.optional) for d in optional] == [
        ("PyQt5", "gui", True),
        ("rich", "cli", True),
        ("click", "cli", True),
    ]
    build = [d for d in manifest.dependencies if d.kind == "build"]
    assert [(d.name, d.constraint) for d in build] == [("hatchling", ">=1.18")]


def test_pep735_groups_with_include_group(tmp_path: Path) -> None:
    manifest = read_pyproject(write(tmp_path, "pyproject.toml", PEP621))
    assert manifest.extra["dependency-groups"] == ("coverage", "test", "typing", "typing-test")
    groups: dict[str, list[str]] = {}
    for d in manifest.dependencies:
        if d.kind not in ("normal", "optional", "build"):
            groups.setdefault(d.kind, []).append(d.name)
    assert groups == {
        "coverage": ["coverage"],
        "test": ["pytest", "coverage"],
        "typing": ["mypy", "types-requests"],
        "typing-test": ["mypy", "types-requests", "pytest", "coverage", "useful-types"],
    }
    included = [d for d in manifest.dependencies if d.kind == "test" and d.name == "coverage"]
    assert included[0].extra == {"group": "test", "included-from": "coverage"}
    assert included[0].extras == ("toml",)


def test_pep735_include_cycle_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pyproject.toml",
        '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
    )
    with pytest.raises(ManifestError, match="include cycle: a -> b -> a") as info:
        read_pyproject(path)
    assert info.value.location == "dependency-groups.a"


POETRY = """
[tool.poetry]
name = "poetry-demo"
version = "0.1.0"
description = ""

[tool.poetry.dependencies]
python = "^3.9"
requests = "^2.13.0"
pendulum = { version = "~2.1", allow-prereleases = true }
black = { version = "^19.0", python = "^3.6", markers = "platform_python_implementation == 'CPython'" }
psycopg2 = { version = "^2.9", optional = true }
uvicorn = { version = "^0.22", extras = ["standard"] }
flask = { git = "https://github.com/pallets/flask.git", branch = "main" }
my-package = { path = "../my-package/", develop = true }
my-wheel = { url = "https://example.com/my-package-0.1.0.tar.gz" }
internal = { version = "^1.0", source = "private" }
foo = [
    { version = "<=1.9", python = ">=3.6,<3.8" },
    { version = "^2.0", python = ">=3.8" },
]

[tool.poetry.extras]
pgsql = ["psycopg2"]

[tool.poetry.group.test.dependencies]
pytest = "^6.0.0"
pytest-mock = "*"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
mkdocs = "*"

[tool.poetry.dev-dependencies]
flake8 = ">=3.9"

[[tool.poetry.source]]
name = "private"
url = "https://private.example.com/simple/"
priority = "supplemental"
"""  # noqa: E501


def test_poetry_dependencies(tmp_path: Path) -> None:
    manifest = read_pyproject(write(tmp_path, "pyproject.toml", POETRY))
    assert (manifest.name, manifest.version) == ("poetry-demo", "0.1.0")
    assert manifest.extra["python"] == "^3.9"
    assert manifest.extra["poetry-extras"] == {"pgsql": ("psycopg2",)}
    assert manifest.extra["poetry-groups"] == ("test", "docs")
    assert manifest.extra["poetry-sources"][0]["name"] == "private"
    deps = manifest.dependencies
    assert all(d.extra["syntax"] == "poetry" for d in deps)
    assert "python" not in [d.name for d in deps]
    d = by_name(deps)
    assert d["requests"].constraint == "^2.13.0"
    assert d["pendulum"].extra["allow-prereleases"] is True
    assert d["black"].markers == "platform_python_implementation == 'CPython'"
    assert d["black"].extra["python"] == "^3.6"
    assert d["psycopg2"].optional is True
    assert d["uvicorn"].extras == ("standard",)
    assert d["flask"].source == "git+https://github.com/pallets/flask.git"
    assert d["flask"].extra["branch"] == "main"
    assert d["flask"].constraint == ""
    assert d["my-package"].source == "../my-package/"
    assert d["my-package"].extra["develop"] is True
    assert d["my-wheel"].source == "https://example.com/my-package-0.1.0.tar.gz"
    assert d["internal"].source == "private"
    foo = [x for x in deps if x.name == "foo"]
    assert [(x.constraint, x.extra["python"], x.extra["multiple"]) for x in foo] == [
        ("<=1.9", ">=3.6,<3.8", 0),
        ("^2.0", ">=3.8", 1),
    ]
    kinds = {x.name: x.kind for x in deps}
    assert kinds["requests"] == "normal"
    assert kinds["pytest"] == kinds["pytest-mock"] == "test"
    assert kinds["mkdocs"] == "docs"
    assert d["mkdocs"].extra["group-optional"] is True
    assert kinds["flake8"] == "dev"


def test_pyproject_errors_name_the_field(tmp_path: Path) -> None:
    bad_req = write(tmp_path, "a/pyproject.toml", '[project]\ndependencies = ["ok", "no pe"]\n')
    with pytest.raises(ManifestError, match="invalid requirement 'no pe'") as info:
        read_pyproject(bad_req)
    assert info.value.location == "project.dependencies[1]"
    assert str(info.value).endswith("(at project.dependencies[1])")
    bad_type = write(tmp_path, "b/pyproject.toml", '[project]\ndependencies = "requests"\n')
    with pytest.raises(ManifestError, match="expected an array, got a string") as info:
        read_pyproject(bad_type)
    assert info.value.location == "project.dependencies"
    bad_poetry = write(tmp_path, "c/pyproject.toml", "[tool.poetry.dependencies]\nx = 3\n")
    with pytest.raises(ManifestError, match="expected a table, got an integer") as info:
        read_pyproject(bad_poetry)
    assert info.value.location == "tool.poetry.dependencies.x"


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x"\nversion = 1.0.0\n')
    with pytest.raises(ManifestError) as info:
        read_pyproject(path)
    assert info.value.location == "3:14"
    assert "(at line" not in info.value.message
    assert str(info.value).startswith(f"{path}:3:14: error: ")


def test_toml_error_at_end_of_document(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x')
    with pytest.raises(ManifestError, match="Unterminated string") as info:
        read_pyproject(path)
    assert info.value.location == "2:10"


def test_optional_dependency_errors_name_the_extra(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pyproject.toml",
        '[project.optional-dependencies]\ncli = ["rich", 3]\n',
    )
    with pytest.raises(ManifestError, match="expected a string, got an integer") as info:
        read_pyproject(path)
    assert info.value.location == "project.optional-dependencies.cli[1]"


def test_missing_include_group_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "pyproject.toml", '[dependency-groups]\ntest = [{include-group = "nope"}]\n'
    )
    with pytest.raises(ManifestError, match="included group 'nope' does not exist") as info:
        read_pyproject(path)
    assert info.value.location == "dependency-groups.test"


def test_pyproject_via_read(tmp_path: Path) -> None:
    manifest = manifests.read(write(tmp_path, "pyproject.toml", PEP621))
    assert isinstance(manifest, Manifest)
    assert manifest.name == "spam-eggs"


# --- uv.lock ----------------------------------------------------------------------------------

UV_LOCK = """
version = 1
revision = 2
requires-python = ">=3.12"
resolution-markers = [
    "sys_platform == 'win32'",
    "sys_platform != 'win32'",
]

[manifest]
members = ["example"]

[[package]]
name = "anyio"
version = "4.3.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "idna" },
    { name = "sniffio" },
]
sdist = { url = "https://files.pythonhosted.org/packages/db/4d/anyio-4.3.0.tar.gz", hash = "sha256:f75253795a87df48568485fd18cdd2a3fa5c4f7c5be8e5e36637733fce06fed6", size = 159642, upload-time = "2024-02-19T08:36:28.641Z" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/14/fd/anyio-4.3.0-py3-none-any.whl", hash = "sha256:048e05d0f6caeed70d731f3db756d35dcc1f35747c8c403364a8332c630441b8", size = 85584 },
]

[package.optional-dependencies]
trio = [{ name = "trio" }]

[[package]]
name = "example"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "anyio" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "httpx", extra = ["http2"] },
    { name = "flask" },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[package.metadata]
requires-dist = [{ name = "anyio", specifier = ">=4" }]

[[package]]
name = "flask"
version = "3.0.3"
source = { git = "https://github.com/pallets/flask?rev=main#2fec0b206c6e83ea813ab26597e15c96fab08be7" }

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/e5/3e/idna-3.7-py3-none-any.whl", hash = "sha256:82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0", size = 66836 },
]

[[package]]
name = "local-lib"
version = "0.2.0"
source = { directory = "../local-lib" }

[[package]]
name = "vendored"
version = "1.0.0"
source = { path = "vendor/vendored-1.0.0-py3-none-any.whl" }
wheels = [
    { filename = "vendored-1.0.0-py3-none-any.whl", hash = "sha256:00ff" },
]
"""  # noqa: E501


def test_uv_lock(tmp_path: Path) -> None:
    lock = read_uv_lock(write(tmp_path, "uv.lock", UV_LOCK))
    assert lock.format == "uv.lock v1"
    assert lock.extra["revision"] == 2
    assert lock.extra["requires-python"] == ">=3.12"
    assert lock.extra["members"] == ("example",)
    assert len(lock.extra["resolution-markers"]) == 2
    p = {pkg.name: pkg for pkg in lock.packages}
    anyio = p["anyio"]
    assert anyio.version == "4.3.0"
    assert anyio.source == "https://pypi.org/simple"
    assert anyio.hashes == (
        "sha256:f75253795a87df48568485fd18cdd2a3fa5c4f7c5be8e5e36637733fce06fed6",
        "sha256:048e05d0f6caeed70d731f3db756d35dcc1f35747c8c403364a8332c630441b8",
    )
    assert anyio.dependencies == ("idna", "sniffio")
    assert anyio.extra["sdist"].endswith("anyio-4.3.0.tar.gz")
    assert anyio.extra["wheels"][0].endswith("anyio-4.3.0-py3-none-any.whl")
    assert anyio.extra["optional-dependencies"] == {"trio": ({"name": "trio"},)}
    example = p["example"]
    assert example.source == "."
    assert example.extra["source-type"] == "editable"
    assert example.dependencies == ("anyio", "colorama", "httpx", "flask")
    details = example.extra["dependencies"]
    assert details[1] == {"name": "colorama", "marker": "sys_platform == 'win32'"}
    assert details[2] == {"name": "httpx", "extras": ("http2",)}
    assert example.extra["dev-dependencies"] == {"dev": ({"name": "pytest"},)}
    assert p["flask"].source == (
        "git+https://github.com/pallets/flask?rev=main#2fec0b206c6e83ea813ab26597e15c96fab08be7"
    )
    assert p["local-lib"].extra["source-type"] == "directory"
    vendored = p["vendored"]
    assert vendored.source == "vendor/vendored-1.0.0-py3-none-any.whl"
    assert vendored.extra["source-type"] == "path"
    assert vendored.extra["wheels"] == ("vendored-1.0.0-py3-none-any.whl",)
    assert vendored.hashes == ("sha256:00ff",)


def test_uv_lock_errors(tmp_path: Path) -> None:
    missing = write(tmp_path, "a/uv.lock", '[[package]]\nname = "x"\n')
    with pytest.raises(ManifestError, match="missing required field 'version'"):
        read_uv_lock(missing)
    bad = write(tmp_path, "b/uv.lock", 'version = 1\n[[package]]\nname = "x"\nversion = 1\n')
    with pytest.raises(ManifestError, match="expected a string, got an integer") as info:
        read_uv_lock(bad)
    assert info.value.location == "package[0].version"
    syntax = write(tmp_path, "c/uv.lock", "version = 1\n[[package]\n")
    with pytest.raises(ManifestError) as info:
        read_uv_lock(syntax)
    assert info.value.location is not None
    assert info.value.location.startswith("2:")


def test_uv_lock_dependency_without_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "uv.lock",
        'version = 1\n[[package]]\nname = "a"\nversion = "1"\ndependencies = [{ marker = "x" }]\n',
    )
    with pytest.raises(ManifestError, match="missing required field 'name'") as info:
        read_uv_lock(path)
    assert info.value.location == "package[0].dependencies[0].name"


def test_uv_lock_via_read(tmp_path: Path) -> None:
    lock = manifests.read(write(tmp_path, "uv.lock", UV_LOCK))
    assert isinstance(lock, Lockfile)
    assert lock.to_json()["type"] == "lockfile"


# --- pylock.toml (PEP 751) --------------------------------------------------------------------

PYLOCK = """
lock-version = '1.0'
environments = ["sys_platform == 'win32'", "sys_platform == 'linux'"]
requires-python = '== 3.12'
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>= 3.8'

    [[packages.wheels]]
    name = 'attrs-25.1.0-py3-none-any.whl'
    upload-time = 2025-01-25T11:30:10.164985+00:00
    url = 'https://files.pythonhosted.org/packages/fc/30/attrs-25.1.0-py3-none-any.whl'
    size = 63152
    hashes = {sha256 = 'c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a'}

[[packages]]
name = 'cattrs'
version = '24.1.2'
requires-python = '>= 3.8'
dependencies = [
    {name = 'attrs'},
]
index = 'https://pypi.org/simple'

    [packages.sdist]
    name = 'cattrs-24.1.2.tar.gz'
    url = 'https://files.pythonhosted.org/packages/64/65/cattrs-24.1.2.tar.gz'
    size = 426024
    hashes = {sha256 = '8028cfe1ff5382df59dd36474a86e02d817b06eaf8af84555441bac915d2ef85'}

    [[packages.wheels]]
    name = 'cattrs-24.1.2-py3-none-any.whl'
    url = 'https://files.pythonhosted.org/packages/c8/d5/cattrs-24.1.2-py3-none-any.whl'
    size = 66446
    hashes = {sha256 = '67c7495b760168d931a10233f979b28dc04daf853b30752246f4f8471c6d68d0'}

[[packages]]
name = 'numpy'
version = '2.2.3'
marker = "sys_platform == 'win32'"

    [[packages.wheels]]
    name = 'numpy-2.2.3-cp312-cp312-win_amd64.whl'
    url = 'https://files.pythonhosted.org/packages/42/6e/numpy-2.2.3-cp312-cp312-win_amd64.whl'
    size = 12626357
    hashes = {sha256 = '83807d445817326b4bcdaaaf8e8e9f1753da04341eceec705c001ff342002e5d'}

[[packages]]
name = 'pip'

    [packages.vcs]
    type = 'git'
    url = 'https://github.com/pypa/pip.git'
    requested-revision = '25.0'
    commit-id = 'f9f0d4b8e1a2c5e9b7d6a3c2e1f0a9b8c7d6e5f4'

[[packages]]
name = 'mypkg'
version = '1.0'

    [packages.directory]
    path = './mypkg'
    editable = true

[tool.mousebender]
command = ['.', 'lock', '--platform', 'cpython3.12-windows-x64']
"""


def test_pylock(tmp_path: Path) -> None:
    lock = read_pylock(write(tmp_path, "pylock.toml", PYLOCK))
    assert lock.format == "pylock.toml 1.0"
    assert lock.extra["requires-python"] == "== 3.12"
    assert lock.extra["environments"] == ("sys_platform == 'win32'", "sys_platform == 'linux'")
    assert lock.extra["created-by"] == "mousebender"
    p = {pkg.name: pkg for pkg in lock.packages}
    assert p["attrs"].hashes == (
        "sha256:c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a",
    )
    assert p["attrs"].extra["requires-python"] == ">= 3.8"
    cattrs = p["cattrs"]
    assert cattrs.source == "https://pypi.org/simple"
    assert cattrs.dependencies == ("attrs",)
    assert len(cattrs.hashes) == 2
    assert cattrs.extra["sdist"].endswith("cattrs-24.1.2.tar.gz")
    assert p["numpy"].extra["marker"] == "sys_platform == 'win32'"
    pip = p["pip"]
    assert pip.version == ""
    assert pip.source == "git+https://github.com/pypa/pip.git"
    assert pip.extra["commit-id"].startswith("f9f0d4b8")
    assert pip.extra["requested-revision"] == "25.0"
    assert p["mypkg"].source == "./mypkg"
    assert p["mypkg"].extra["editable"] is True


def test_pylock_refuses_unknown_major_version(tmp_path: Path) -> None:
    path = write(tmp_path, "pylock.toml", "lock-version = '2.0'\n")
    with pytest.raises(ManifestError, match=r"unsupported lock-version '2\.0'") as info:
        read_pylock(path)
    assert info.value.location == "lock-version"
    with pytest.raises(ManifestError, match="not a valid lock version") as info:
        read_pylock(write(tmp_path, "y/pylock.toml", "lock-version = 'one'\n"))
    assert info.value.location == "lock-version"
    minor = write(tmp_path, "x/pylock.toml", "lock-version = '1.1'\n")
    assert read_pylock(minor).packages == ()


def test_pylock_errors(tmp_path: Path) -> None:
    missing = write(tmp_path, "a/pylock.toml", "[[packages]]\nname = 'x'\n")
    with pytest.raises(ManifestError, match="missing required field 'lock-version'"):
        read_pylock(missing)
    bad = write(
        tmp_path,
        "b/pylock.toml",
        "lock-version = '1.0'\n[[packages]]\nname = 'x'\n[[packages.wheels]]\nhashes = 'abc'\n",
    )
    with pytest.raises(ManifestError, match="expected a table, got a string") as info:
        read_pylock(bad)
    assert info.value.location == "packages[0].wheels[0].hashes"


def test_pylock_via_read(tmp_path: Path) -> None:
    lock = manifests.read(write(tmp_path, "pylock.toml", PYLOCK))
    assert isinstance(lock, Lockfile)
    assert len(lock.packages) == 5


def test_every_reader_gives_json(tmp_path: Path) -> None:
    write(tmp_path, "constraints.txt", "attrs==23.1.0\n")
    files = {
        "requirements.txt": "-c constraints.txt\n" + REQUIREMENTS,
        "pyproject.toml": PEP621,
        "uv.lock": UV_LOCK,
        "pylock.toml": PYLOCK,
    }
    for name, text in files.items():
        result = manifests.read(write(tmp_path, name, text))
        data = json.loads(json.dumps(result.to_json()))
        assert data["ecosystem"] == "pypi"
        if name == "requirements.txt":
            assert data["extra"]["constraints"][0]["name"] == "attrs"


# --- writing pylock.toml ----------------------------------------------------------------------

# Written by pip 26.3 (`pip lock --no-index --find-links wheels demo_a`): pip writes with tomli_w,
# as write_pylock does, so the bytes come back unchanged.
PIP_PYLOCK = """\
lock-version = "1.0"
created-by = "pip"

[[packages]]
name = "demo-a"
version = "1.0"

[[packages.wheels]]
name = "demo_a-1.0-py3-none-any.whl"
url = "file:///tmp/pl/wheels/demo_a-1.0-py3-none-any.whl"

[packages.wheels.hashes]
sha256 = "7a98d18d7dec3c549b21fae7d60bd6127e1c2f38cb22d7abdcbefdee9b71d105"

[[packages]]
name = "demo-b"
version = "2.1"

[[packages.wheels]]
name = "demo_b-2.1-py3-none-any.whl"
url = "file:///tmp/pl/wheels/demo_b-2.1-py3-none-any.whl"

[packages.wheels.hashes]
sha256 = "6fb6b8f5f2b2023cf7bca470963d8aaf6fb5be9ed1ad32272900e66bfd647e83"
"""


def test_write_pylock_round_trips_pip_output_byte_for_byte(tmp_path: Path) -> None:
    lock = read_pylock(write(tmp_path, "pylock.toml", PIP_PYLOCK))
    assert write_pylock(lock) == PIP_PYLOCK
    assert manifests.render(lock, "pylock.dev.toml") == PIP_PYLOCK


def test_write_pylock_keeps_every_field_of_the_pep_example(tmp_path: Path) -> None:
    """PEP 751's example uses inline tables, which tomli_w does not write: the data (not the
    bytes) must come back, and writing what was written is stable."""
    lock = read_pylock(write(tmp_path, "pylock.toml", PYLOCK))
    text = write_pylock(lock)
    assert tomllib.loads(text) == tomllib.loads(textwrap.dedent(PYLOCK))
    again = read_pylock(write(tmp_path, "again/pylock.toml", text))
    assert write_pylock(again) == text


def _wheel(name: str, version: str, digest: str, **more: Any) -> LockedPackage:
    return LockedPackage(
        name,
        version,
        "https://pypi.org/simple",
        extra={
            "wheel-files": (
                {
                    "url": f"https://files.example/{name}-{version}-py3-none-any.whl",
                    "hashes": {"sha256": digest},
                    **more,
                },
            )
        },
    )


def test_write_pylock_from_a_resolver_model() -> None:
    lock = Lockfile(
        "pypi",
        "pylock.toml",
        "pylock.toml 1.0",
        (
            LockedPackage(
                "Cattrs",
                "24.1.2",
                "https://pypi.org/simple",
                dependencies=("attrs 25.1.0",),
                extra={
                    "requires-python": ">=3.8",
                    "sdist-file": {
                        "url": "https://files.example/cattrs-24.1.2.tar.gz",
                        "size": 426024,
                        "upload-time": "2024-09-22T14:58:34+00:00",
                        "hashes": {"sha256": "ab" * 32},
                    },
                },
            ),
            _wheel("attrs", "25.1.0", "cd" * 32),
            LockedPackage(
                "tool",
                "1.0",
                "https://files.example/tool-1.0.tar.gz",
                ("sha256:" + "ef" * 32,),
                extra={"source-type": "archive", "archive-file": {"size": 10}},
            ),
        ),
        {"requires-python": ">=3.11", "environments": ("sys_platform == 'linux'",)},
    )
    data = tomllib.loads(write_pylock(lock))
    assert data["lock-version"] == "1.0"
    assert data["created-by"] == "tuskops"
    assert data["environments"] == ["sys_platform == 'linux'"]
    cattrs, attrs, tool = data["packages"]
    assert cattrs["name"] == "cattrs"  # PEP 751 names are normalised
    assert cattrs["index"] == "https://pypi.org/simple"
    assert cattrs["dependencies"] == [{"name": "attrs", "version": "25.1.0"}]
    assert cattrs["sdist"]["upload-time"] == datetime(2024, 9, 22, 14, 58, 34, tzinfo=UTC)
    assert cattrs["sdist"]["hashes"] == {"sha256": "ab" * 32}
    assert attrs["wheels"][0]["hashes"] == {"sha256": "cd" * 32}
    assert tool["archive"] == {
        "url": "https://files.example/tool-1.0.tar.gz",
        "size": 10,
        "hashes": {"sha256": "ef" * 32},
    }
    assert list(cattrs) == ["name", "version", "requires-python", "dependencies", "index", "sdist"]


@pytest.mark.parametrize(
    ("package", "message", "location"),
    [
        (
            LockedPackage("x", "1.0"),
            "package 'x' has no vcs, directory, archive, sdist or wheels",
            "packages[0]",
        ),
        (
            LockedPackage(
                "x", "1.0", extra={"wheel-files": ({"url": "https://f/x-1.0-py3-none-any.whl"},)}
            ),
            "package 'x' wheel 0 has no hashes",
            "packages[0].wheels[0].hashes",
        ),
        (
            LockedPackage("x", "1.0", extra={"sdist-file": {"hashes": {"sha256": "ab"}}}),
            "package 'x' sdist has neither a url nor a path",
            "packages[0].sdist",
        ),
        (
            LockedPackage(
                "x",
                "1.0",
                extra={"sdist-file": {"url": "https://f/download?id=3", "hashes": {"md5": "ab"}}},
            ),
            "no name, and the location does not end in one",
            "packages[0].sdist.name",
        ),
        (
            LockedPackage("x", "1.0", "https://f/x.tar.gz", extra={"source-type": "archive"}),
            "package 'x' archive has no hashes",
            "packages[0].archive.hashes",
        ),
        (
            LockedPackage("x", "", "git+https://g/x.git", extra={"source-type": "vcs"}),
            "needs a commit-id",
            "packages[0].vcs.commit-id",
        ),
        (
            LockedPackage(
                "x",
                "1.0",
                "./x",
                extra={"source-type": "directory", "wheels": ("x-1.0-py3-none-any.whl",)},
            ),
            "a directory source excludes sdist and wheels",
            "packages[0]",
        ),
        (
            LockedPackage(
                "x",
                "1.0",
                extra={"wheels": ("https://f/x-1.0-py3-none-any.whl", "https://f/x-1.0-py2.whl")},
            ),
            "has no hashes",
            "packages[0].wheels[0].hashes",
        ),
        (
            _wheel("x", "1.0", "not-hex"),
            "invalid sha256 hash 'not-hex'",
            "packages[0].wheels[0].hashes",
        ),
        (
            _wheel("x", "1.0", "ab", **{"upload-time": "yesterday"}),
            "upload-time 'yesterday' is not a datetime",
            "packages[0].wheels[0].upload-time",
        ),
    ],
)
def test_write_pylock_refuses_what_pep_751_requires(
    package: LockedPackage, message: str, location: str
) -> None:
    lock = Lockfile("pypi", "pylock.toml", "pylock.toml 1.0", (package,))
    with pytest.raises(ManifestError, match=re.escape(message)) as info:
        write_pylock(lock)
    assert info.value.location == location
    assert info.value.file == "pylock.toml"


def test_one_file_takes_the_flat_hashes() -> None:
    """Without file tables, the model's hashes are the file's when there is only one file."""
    package = LockedPackage(
        "x", "1.0", hashes=("sha256:" + "ab" * 32,), extra={"sdist": "https://f/x-1.0.tar.gz"}
    )
    data = tomllib.loads(
        write_pylock(Lockfile("pypi", "pylock.toml", "pylock.toml 1.0", (package,)))
    )
    assert data["packages"][0]["sdist"] == {
        "url": "https://f/x-1.0.tar.gz",
        "hashes": {"sha256": "ab" * 32},
    }


def test_write_pylock_refuses_another_major_version() -> None:
    lock = Lockfile("pypi", "pylock.toml", "pylock.toml 2.0", (), {"lock-version": "2.0"})
    with pytest.raises(ManifestError, match=r"cannot write lock-version '2\.0'"):
        write_pylock(lock)


# --- pip itself installs from what is written (no network: local wheels, --no-index) ----------


def _pip_reads_pylock() -> bool:
    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        return False
    return tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) >= (26, 1)


needs_pip = pytest.mark.skipif(
    not _pip_reads_pylock(), reason="pip >= 26.1 (installs from pylock.toml) is not available"
)


def _make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name}/__init__.py": b"",
        f"{dist}/METADATA": metadata.encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }

    def record_hash(data: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        return f"sha256={digest.decode()}"

    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in files.items())
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def _local_lock(tmp_path: Path, *, spoil: bool = False) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    packages = []
    for name, version, requires in (("demo_a", "1.0", ("demo_b>=2",)), ("demo_b", "2.1", ())):
        wheel = _make_wheel(wheels, name, version, requires)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if spoil:
            digest = ("0" if digest[0] != "0" else "1") + digest[1:]
        packages.append(
            LockedPackage(
                name,
                version,
                extra={
                    "wheel-files": (
                        {
                            "name": wheel.name,
                            "url": wheel.as_uri(),
                            "size": wheel.stat().st_size,
                            "hashes": {"sha256": digest},
                        },
                    )
                },
            )
        )
    path = tmp_path / "pylock.toml"
    manifests.write(Lockfile("pypi", str(path), "pylock.toml 1.0", tuple(packages)), path)
    return path


def _pip_install_dry_run(lock: Path, report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--ignore-installed",
            "--disable-pip-version-check",
            "--report",
            str(report),
            "-r",
            str(lock),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_pip
def test_pip_installs_from_a_written_pylock(tmp_path: Path) -> None:
    lock = _local_lock(tmp_path)
    report = tmp_path / "report.json"
    result = _pip_install_dry_run(lock, report)
    assert result.returncode == 0, result.stderr
    installed = json.loads(report.read_text())["install"]
    assert sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in installed) == [
        ("demo_a", "1.0"),
        ("demo_b", "2.1"),
    ]


@needs_pip
def test_pip_checks_the_written_hashes(tmp_path: Path) -> None:
    """The check above has teeth: pip refuses a wheel whose hash does not match."""
    result = _pip_install_dry_run(_local_lock(tmp_path, spoil=True), tmp_path / "report.json")
    assert result.returncode != 0
    assert "sha256" in result.stderr.lower()

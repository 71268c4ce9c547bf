"""Differential tests: tuskops' PyPI resolver against uv and pip on real projects' requirements.

Each requirement set is resolved for the running Python on this platform by tuskops
(:func:`~tuskops.packages.resolve.pypi.resolve_pypi` on https://pypi.org/simple/), then
straight after by ``uv pip compile --python-version X --index-url https://pypi.org/simple``
(and, for the sets with small wheels, by ``pip install --dry-run --ignore-installed --report
-``), and the name -> version sets are compared. Both tools are isolated from this machine's
configuration (``PIP_CONFIG_FILE=/dev/null``, ``UV_NO_CONFIG=1``, fresh caches). A release
published between the two runs could make them differ; the runs are back to back to make that
unlikely. Every known difference is explained in docs/resolution.md (PyPI).

The rules' corner cases (pre-releases named by a transitive requirement, yanked releases,
Requires-Python only in the metadata file, extras) are compared the same way, without the
network, on a local PEP 691 index (tests/_support/pypi_lock_index: every file has its own
hash; uv caches metadata by file hash, so identical placeholder hashes would mix packages up).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import serve_lock_graph
from _support.registry import LocalRegistry
from tuskops.packages.api import PackageLookup
from tuskops.packages.resolve.pypi import resolve_pypi
from tuskops.packages.settings import Registry, RegistrySettings

PYPI = "https://pypi.org/simple"
#: The full version, as pip uses it: markers on python_full_version then agree.
PYTHON = platform.python_version()
UV = Path(sys.executable).parent / "uv"

#: Typical requirement sets of real projects; no huge wheels (torch, CUDA) so they resolve fast.
SETS: dict[str, list[str]] = {
    "flask-app": [
        "flask>=3",
        "flask-sqlalchemy",
        "flask-login",
        "flask-wtf",
        "gunicorn",
        "python-dotenv",
    ],
    "django-app": [
        "django>=4.2,<5.3",
        "djangorestframework",
        "django-cors-headers",
        "celery[redis]",
        "psycopg[binary]",
        "whitenoise",
    ],
    "fastapi-service": [
        "fastapi",
        "uvicorn[standard]",
        "pydantic-settings",
        "sqlalchemy>=2",
        "alembic",
        "httpx",
    ],
    "data-science": ["numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "seaborn"],
    "cli-tool": ["ipython", "rich", "tqdm", "tabulate", "click", "typer"],
    "http-client": ["requests[socks]", "urllib3<2.4", "certifi", "charset-normalizer", "idna"],
    "aws-scripts": ["boto3", "botocore", "s3transfer", "awscli"],
    "test-stack": ["pytest", "pytest-cov", "pytest-xdist", "hypothesis", "coverage[toml]", "tox"],
    "lint-stack": ["black", "ruff", "mypy", "isort", "flake8", "pylint"],
    "scraper": ["scrapy", "beautifulsoup4", "lxml", "requests", "parsel"],
    "docs-site": ["sphinx", "sphinx-rtd-theme", "myst-parser", "mkdocs", "mkdocs-material"],
    "async-service": ["aiohttp", "anyio", "trio", "redis", "asyncpg"],
}

#: Sets pip also resolves (pip downloads every wheel it picks, so only small ones).
PIP_SETS = ("flask-app", "django-app", "http-client", "test-stack", "cli-tool", "docs-site")


def _native_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.upper().startswith(("PIP_", "UV_")):
            del env[name]
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        PIP_NO_INPUT="1",
        HOME=str(tmp_path / "home"),
    )
    return env


def _tuskops(requirements: list[str], tmp_path: Path, index: str = PYPI) -> dict[str, str]:
    settings = RegistrySettings("pypi", (Registry("pypi", f"{index}/"),))
    lookup = PackageLookup(
        settings={"pypi": settings}, cache_dir=tmp_path / "tuskops-cache", project_dir=tmp_path
    )
    return resolve_pypi(requirements, lookup=lookup, python_version=PYTHON)


def _uv(requirements: list[str], tmp_path: Path, index: str = PYPI) -> dict[str, str]:
    if not UV.exists() and shutil.which("uv") is None:
        pytest.skip("uv is not installed (pip install uv, or the dev extras)")
    uv = str(UV) if UV.exists() else str(shutil.which("uv"))
    source = tmp_path / "requirements.in"
    source.write_text("\n".join(requirements) + "\n")
    command = [uv, "pip", "compile", str(source), "--python-version", PYTHON]
    command += ["--index-url", index, "--quiet", "--no-header", "--no-annotate"]
    done = subprocess.run(
        command, capture_output=True, text=True, env=_native_env(tmp_path), timeout=600
    )
    assert done.returncode == 0, done.stderr
    pins: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            pins[canonicalize_name(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def _pip(requirements: list[str], tmp_path: Path, index: str = PYPI) -> dict[str, str]:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    command += ["--index-url", index, "--no-cache-dir", "--disable-pip-version-check"]
    command += ["--quiet", "--report", "-", *requirements]
    done = subprocess.run(
        command, capture_output=True, text=True, env=_native_env(tmp_path), timeout=900
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }


def _differences(ours: dict[str, str], theirs: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        name: (ours.get(name, "-"), theirs.get(name, "-"))
        for name in sorted(set(ours) | set(theirs))
        if ours.get(name) != theirs.get(name)
    }


@pytest.mark.network
@pytest.mark.parametrize("name", sorted(SETS))
def test_tuskops_resolves_like_uv(name: str, tmp_path: Path) -> None:
    requirements = SETS[name]
    ours = _tuskops(requirements, tmp_path)
    theirs = _uv(requirements, tmp_path)
    assert len(ours) >= len(requirements)
    assert _differences(ours, theirs) == {}


@pytest.mark.network
@pytest.mark.parametrize("name", PIP_SETS)
def test_tuskops_resolves_like_pip(name: str, tmp_path: Path) -> None:
    requirements = SETS[name]
    ours = _tuskops(requirements, tmp_path)
    theirs = _pip(requirements, tmp_path)
    assert _differences(ours, theirs) == {}


# --- the rules' corner cases, on a local index ------------------------------------------------

RULES: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2", "Helper_Tool"])},
    "lib": {"1.0": Rel(), "1.5": Rel(), "2.0": Rel()},
    "helper-tool": {"0.9": Rel()},
    "web": {"1.0": Rel(["lib>=1", 'fast>=1; extra == "speed"'])},
    "fast": {"1.0": Rel(), "2.0": Rel()},
    "tool": {"1.0": Rel(['winlib; sys_platform == "win32"', 'posixlib; sys_platform != "win32"'])},
    "winlib": {"1.0": Rel()},
    "posixlib": {"1.0": Rel()},
    "modern": {"1.0": Rel(requires_python=">=3.8"), "2.0": Rel(requires_python=">=3.99")},
    "sneaky": {
        "1.0": Rel(requires_python=">=3.8"),
        "2.0": Rel(requires_python=">=3.99", file_requires_python=False),
    },
    "pkg": {"1.0": Rel(), "1.1": Rel(yanked="broken build")},
    "beta": {"1.0": Rel(), "2.0b1": Rel()},
    "onlypre": {"1.0a1": Rel()},
    "wantsbeta": {"1.0": Rel(["beta>=2.0b1"])},
    "upgrader": {"1.0": Rel(), "2.0": Rel(["beta>=2.0b1"])},
}

#: Requirement sets exercising one rule each.
CASES: dict[str, list[str]] = {
    "extras-and-names": ["App", "web[Speed]"],
    "markers": ["tool", 'winlib; sys_platform == "win32"'],
    "requires-python": ["modern"],
    "requires-python-in-metadata-only": ["sneaky"],
    "yanked-skipped": ["pkg"],
    "yanked-pinned": ["pkg==1.1"],
    "prerelease-not-wanted": ["beta"],
    "prerelease-named": ["beta>=2.0b1"],
    "prerelease-only": ["onlypre"],
    "prerelease-named-transitively": ["wantsbeta"],
    "prerelease-newest-depends-on-one": ["upgrader"],
}


@pytest.fixture(scope="module")
def rules_index() -> Iterator[LocalRegistry]:
    registry = serve_lock_graph(RULES)
    yield registry
    registry.httpd.shutdown()
    registry.httpd.server_close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_rules_match_uv_and_pip(case: str, rules_index: LocalRegistry, tmp_path: Path) -> None:
    index = f"{rules_index.base}/simple"
    requirements = CASES[case]
    ours = _tuskops(requirements, tmp_path, index)
    assert _differences(ours, _uv(requirements, tmp_path, index)) == {}
    assert _differences(ours, _pip(requirements, tmp_path, index)) == {}

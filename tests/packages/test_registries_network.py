"""A few checks against the real PyPI and npm registry (marker ``network``).

Only long-published releases are asked about (Django 4.2, requests 2.31.0, express 4.18.2),
whose files and dependencies never change. Each test has its own empty cache directory.

pypi.org advertises PEP 658 metadata files and both registries send ``Cache-Control:
max-age``; the index reached from this machine goes through a proxy that strips both. So the
tests hold either way: dependencies come from the metadata file or, without one, from the
wheel read by range requests; a warm cache makes no request for an entry the registry made
fresh, and exactly one (a revalidation) for an entry it gave no lifetime.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tuskops.packages.clients import PackageNotFound, fetch_metadata, fetch_package
from tuskops.packages.http import RegistryClient
from tuskops.packages.registry import PackageInfo, Release

pytestmark = pytest.mark.network

PYPI = "https://pypi.org/simple/"


def _client(tmp_path: Path) -> RegistryClient:
    return RegistryClient(cache_dir=tmp_path / "cache", max_attempts=2, timeout=20.0)


async def _package(tmp_path: Path, ecosystem: str, name: str) -> PackageInfo:
    async with _client(tmp_path) as client:
        return await fetch_package(ecosystem, name, client=client)


async def _metadata(tmp_path: Path, ecosystem: str, name: str, version: str) -> Release:
    async with _client(tmp_path) as client:
        return await fetch_metadata(ecosystem, name, version, client=client)


def _dependency_names(release: Release) -> set[str]:
    assert release.dependencies is not None
    return {d.name.lower() for d in release.dependencies}


def _pypi_dependencies(tmp_path: Path, name: str, version: str) -> set[str]:
    release = asyncio.run(_metadata(tmp_path, "pypi", name, version))
    assert release.extra["metadata_source"]  # the PEP 658 file, or the wheel's METADATA
    return _dependency_names(release)


def test_pypi_lists_django_4_2(tmp_path: Path) -> None:
    info = asyncio.run(_package(tmp_path, "pypi", "Django"))
    assert info.ecosystem == "pypi"
    assert {"4.2", "4.2.1", "3.2", "1.11"} <= set(info.versions())
    release = info.release("4.2")
    assert release is not None
    filenames = {a.filename for a in release.artifacts}
    assert {"Django-4.2-py3-none-any.whl", "Django-4.2.tar.gz"} <= filenames
    wheel = next(a for a in release.artifacts if a.filename == "Django-4.2-py3-none-any.whl")
    assert wheel.hashes["sha256"] == (
        "ad33ed68db9398f5dfb33282704925bce044bef4261cd4fb59e4e7f9ae505a78"
    )


def test_pypi_django_4_2_dependencies(tmp_path: Path) -> None:
    assert {"asgiref", "sqlparse"} <= _pypi_dependencies(tmp_path, "django", "4.2")


def test_pypi_requests_2_31_0_dependencies(tmp_path: Path) -> None:
    names = _pypi_dependencies(tmp_path, "requests", "2.31.0")
    assert {"urllib3", "idna", "certifi", "charset-normalizer"} <= names


def test_npm_express_4_18_2_dependencies(tmp_path: Path) -> None:
    release = asyncio.run(_metadata(tmp_path, "npm", "express", "4.18.2"))
    names = _dependency_names(release)
    assert {"body-parser", "accepts", "cookie"} <= names
    body_parser = next(d for d in release.dependencies or () if d.name == "body-parser")
    assert body_parser.constraint == "1.20.1"
    assert release.artifacts[0].filename == "express-4.18.2.tgz"


@pytest.mark.parametrize("ecosystem", ["pypi", "npm"])
def test_unknown_package_is_not_found(tmp_path: Path, ecosystem: str) -> None:
    name = f"tuskops-no-such-package-{uuid.uuid4().hex[:16]}"
    with pytest.raises(PackageNotFound) as info:
        asyncio.run(_package(tmp_path, ecosystem, name))
    assert info.value.name == name
    assert info.value.ecosystem == ecosystem


@pytest.mark.parametrize(("ecosystem", "name"), [("pypi", "six"), ("npm", "ms")])
def test_fresh_cache_answers_without_a_request(tmp_path: Path, ecosystem: str, name: str) -> None:
    async def twice() -> tuple[PackageInfo, PackageInfo, int, int, bool]:
        async with _client(tmp_path) as cold:
            first = await fetch_package(ecosystem, name, client=cold)
        assert cold.stats.requests == 1
        assert cold.cache is not None
        entries = [p for p in cold.cache.directory.glob("*/*") if not p.name.startswith(".")]
        assert len(entries) == 1
        entry = cold.cache.load(entries[0].name)
        assert entry is not None
        fresh = entry.lifetime() > 0
        async with _client(tmp_path) as warm:
            second = await fetch_package(ecosystem, name, client=warm)
        return first, second, warm.stats.requests, warm.stats.cache_hits, fresh

    first, second, requests, hits, fresh = asyncio.run(twice())
    assert second.versions() == first.versions()
    if fresh:
        assert (requests, hits) == (0, 1)
    else:  # no lifetime given: asked again (never served stale), never skipped
        assert (requests, hits) == (1, 0)


def test_the_issues_examples_from_a_tsk_file(package_env: Path, tmp_path: Path) -> None:
    import tuskops

    doc = tuskops.loads(
        'express: @npm.versions("express")\n'
        'django: @pip.info("django", "4.2")\n'
        'latest: @packages.latest("npm", "express")\n',
        base_dir=tmp_path,
    )
    assert "4.18.2" in doc["express"]
    assert doc["latest"] in doc["express"]
    assert {"asgiref", "sqlparse"} <= {d["name"].lower() for d in doc["django"]["dependencies"]}
    assert doc["django"]["license"] == "BSD-3-Clause"

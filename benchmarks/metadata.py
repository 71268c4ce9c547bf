"""Metadata benchmark: version lists and dependencies of 100 PyPI and 100 npm packages.

For each package of a fixed list the script fetches the version list
(``tuskops.packages.clients.fetch_package``), picks the newest stable version (PyPI: the highest
non-yanked, non-pre-release version by PEP 440; npm: the ``latest`` dist-tag) and fetches that
version's dependency metadata (``fetch_metadata``; on PyPI the PEP 658 core metadata file, or
the wheel's METADATA read by range requests where the index offers none). All
packages of an ecosystem are fetched concurrently; the client bounds the requests in flight.

It does this on one cache directory: **cold** (an empty cache), **warm** (a new
``RegistryClient`` on the same directory) and **offline** (from the cache alone, as ``tuskops
pkg ... --offline`` answers: a package it cannot answer is a failure), and prints requests,
cache hits, bytes and seconds for each run. The warm run must send no request for an entry that
was fresh after the cold run (and none for a URL the cold run did not store): the exit status is
1 if it does. Entries the registry gave no freshness lifetime (no ``Cache-Control: max-age``, no
``Expires``) are revalidated by design; they are counted and reported, not a failure, unless
``--strict``.

``--peer`` also times the registries' own command-line tools on the version lists alone
(``npm view NAME versions --json`` and ``pip index versions NAME``, a few at a time) against
tuskops fetching the same version lists, and prints the ratios.

    .venv/bin/python benchmarks/metadata.py                   # 100 + 100 packages
    .venv/bin/python benchmarks/metadata.py --ecosystem npm --count 20 --json
    .venv/bin/python benchmarks/metadata.py --peer

Exit status: 0 measured and the warm run behaved; 1 the warm run sent a request it should not
have (or any request, with ``--strict``); 2 some package could not be fetched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuskops.packages.clients import fetch_metadata, fetch_package
from tuskops.packages.ecosystems import scheme
from tuskops.packages.http import DEFAULT_MAX_CONCURRENCY, HTTPCache, RegistryClient
from tuskops.packages.registry import PackageInfo

ECOSYSTEMS = ("pypi", "npm")
DEFAULT_REGISTRY = {"pypi": "https://pypi.org/simple/", "npm": "https://registry.npmjs.org/"}

#: Popular, long-lived PyPI projects, names in normalized form (PEP 503).
PYPI_PACKAGES: tuple[str, ...] = (
    "requests", "urllib3", "six", "certifi", "idna",
    "charset-normalizer", "setuptools", "wheel", "pip", "packaging",
    "python-dateutil", "pyyaml", "numpy", "pandas", "botocore",
    "boto3", "s3transfer", "jmespath", "typing-extensions", "attrs",
    "click", "jinja2", "markupsafe", "werkzeug", "flask",
    "django", "sqlalchemy", "pytz", "cryptography", "cffi",
    "pycparser", "pyasn1", "rsa", "protobuf", "grpcio",
    "google-auth", "cachetools", "pyparsing", "wrapt", "decorator",
    "docutils", "pygments", "pytest", "pluggy", "iniconfig",
    "tomli", "toml", "filelock", "platformdirs", "virtualenv",
    "distlib", "colorama", "tqdm", "psutil", "lxml",
    "pillow", "scipy", "matplotlib", "kiwisolver", "cycler",
    "fonttools", "scikit-learn", "joblib", "threadpoolctl", "networkx",
    "sympy", "mpmath", "requests-oauthlib", "oauthlib", "pyjwt",
    "paramiko", "bcrypt", "pynacl", "greenlet", "redis",
    "celery", "kombu", "amqp", "vine", "pymysql",
    "httpx", "httpcore", "h11", "anyio", "sniffio",
    "aiohttp", "multidict", "yarl", "frozenlist", "pydantic",
    "fastapi", "starlette", "uvicorn", "gunicorn", "black",
    "mypy", "isort", "flake8", "coverage", "sphinx",
)  # fmt: skip

#: Popular, long-lived npm packages (express' dependency tree, build tools, frameworks).
NPM_PACKAGES: tuple[str, ...] = (
    "lodash", "react", "react-dom", "express", "chalk",
    "commander", "debug", "axios", "moment", "uuid",
    "typescript", "tslib", "semver", "glob", "minimist",
    "yargs", "async", "underscore", "bluebird", "fs-extra",
    "mkdirp", "rimraf", "inherits", "ms", "body-parser",
    "cookie", "qs", "mime", "mime-types", "safe-buffer",
    "readable-stream", "string_decoder", "once", "wrappy", "minimatch",
    "brace-expansion", "balanced-match", "graceful-fs", "source-map", "supports-color",
    "has-flag", "ansi-styles", "ansi-regex", "strip-ansi", "color-convert",
    "color-name", "escape-string-regexp", "js-yaml", "argparse", "acorn",
    "webpack", "@babel/core", "@babel/parser", "@babel/types", "eslint",
    "prettier", "jest", "mocha", "chai", "sinon",
    "vue", "jquery", "rxjs", "classnames", "prop-types",
    "object-assign", "dotenv", "cors", "morgan", "ws",
    "node-fetch", "cross-spawn", "which", "isexe", "lru-cache",
    "signal-exit", "iconv-lite", "safer-buffer", "depd", "http-errors",
    "statuses", "on-finished", "etag", "fresh", "send",
    "serve-static", "finalhandler", "encodeurl", "escape-html", "parseurl",
    "vary", "accepts", "negotiator", "content-type", "raw-body",
    "bytes", "type-is", "path-to-regexp", "proxy-addr", "cookie-signature",
)  # fmt: skip

PACKAGES: dict[str, tuple[str, ...]] = {"pypi": PYPI_PACKAGES, "npm": NPM_PACKAGES}


# --- choosing the version -----------------------------------------------------------------------


def newest_stable(ecosystem: str, info: PackageInfo) -> str | None:
    """The version whose metadata is fetched: npm's ``latest`` dist-tag; on PyPI the highest
    version that is neither yanked nor a pre-release (falling back to the highest at all)."""
    if ecosystem == "npm" and info.tags.get("latest"):
        return info.tags["latest"]
    versions = scheme(ecosystem)
    stable: list[tuple[Any, str]] = []
    every: list[tuple[Any, str]] = []
    for release in info.releases:
        try:
            parsed = versions.parse_version(release.version)
        except Exception:  # an unparseable legacy version is never the newest stable one
            continue
        every.append((parsed, release.version))
        if release.yanked is None and not _is_prerelease(parsed):
            stable.append((parsed, release.version))
    chosen = stable or every
    return max(chosen, key=lambda pair: pair[0])[1] if chosen else None


def _is_prerelease(version: Any) -> bool:
    flag = getattr(version, "is_prerelease", None)  # PEP 440 (packaging.version.Version)
    if isinstance(flag, bool):
        return flag
    return bool(getattr(version, "prerelease", ()))  # SemVer


# --- one run ------------------------------------------------------------------------------------


@dataclass
class PackageResult:
    name: str
    versions: int = 0
    version: str | None = None
    dependencies: int | None = None
    error: str | None = None


@dataclass
class RunResult:
    ecosystem: str
    run: str
    packages: int
    requests: int
    cache_hits: int
    revalidated: int
    bytes: int
    seconds: float
    failed: int
    versions: int
    dependencies: int
    no_metadata: int
    errors: list[str] = field(default_factory=list)


async def _fetch_one(
    ecosystem: str, name: str, client: RegistryClient, registry: str, with_metadata: bool
) -> PackageResult:
    result = PackageResult(name)
    try:
        info = await fetch_package(ecosystem, name, client=client, registry=registry)
        result.versions = len(info.releases)
        if not with_metadata:
            return result
        result.version = newest_stable(ecosystem, info)
        if result.version is None:
            result.error = "no version"
            return result
        release = await fetch_metadata(
            ecosystem, name, result.version, client=client, registry=registry, package=info
        )
        if release.dependencies is not None:
            result.dependencies = len(release.dependencies)
    except Exception as exc:  # one failure is reported, the others still measured
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def _run_async(
    ecosystem: str,
    names: Sequence[str],
    cache_dir: Path,
    registry: str,
    concurrency: int,
    with_metadata: bool,
    offline: bool = False,
) -> tuple[RunResult, list[PackageResult]]:
    async with RegistryClient(
        cache_dir=cache_dir, max_concurrency=concurrency, offline=offline
    ) as client:
        start = time.perf_counter()
        results = await asyncio.gather(
            *(_fetch_one(ecosystem, n, client, registry, with_metadata) for n in names)
        )
        seconds = time.perf_counter() - start
        stats = client.stats
    failed = [r for r in results if r.error is not None]
    run = RunResult(
        ecosystem=ecosystem,
        run="",
        packages=len(names),
        requests=stats.requests,
        cache_hits=stats.cache_hits,
        revalidated=stats.revalidated,
        bytes=stats.bytes_received,
        seconds=seconds,
        failed=len(failed),
        versions=sum(r.versions for r in results),
        dependencies=sum(r.dependencies or 0 for r in results),
        no_metadata=sum(
            1 for r in results if with_metadata and r.error is None and r.dependencies is None
        ),
        errors=[f"{r.name}: {r.error}" for r in failed],
    )
    return run, list(results)


def run_once(
    ecosystem: str,
    names: Sequence[str],
    cache_dir: Path,
    *,
    label: str,
    registry: str | None = None,
    concurrency: int = DEFAULT_MAX_CONCURRENCY,
    with_metadata: bool = True,
    offline: bool = False,
) -> RunResult:
    """Fetch ``names`` with a new client on ``cache_dir``; ``label`` names the run.
    ``offline``: from the cache alone (any request it would need is a failure)."""
    run, _ = asyncio.run(
        _run_async(
            ecosystem,
            names,
            cache_dir,
            registry or DEFAULT_REGISTRY[ecosystem],
            concurrency,
            with_metadata,
            offline,
        )
    )
    run.run = label
    return run


# --- what the cache holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class CacheSnapshot:
    """Cache entries by key: when each was stored, and whether it was fresh at ``taken``."""

    taken: float
    stored_at: dict[str, float]
    fresh: frozenset[str]

    @property
    def stale(self) -> int:
        return len(self.stored_at) - len(self.fresh)


def snapshot(cache_dir: Path) -> CacheSnapshot:
    cache = HTTPCache(cache_dir)
    now = time.time()
    stored: dict[str, float] = {}
    fresh: set[str] = set()
    for path in cache_dir.glob("*/*"):
        if path.name.startswith(".") or not path.is_file():
            continue
        entry = cache.load(path.name)
        if entry is None:
            continue
        stored[path.name] = entry.stored_at
        if entry.is_fresh(now):
            fresh.add(path.name)
    return CacheSnapshot(now, stored, frozenset(fresh))


@dataclass
class WarmCheck:
    """What the warm run did to the entries the cold run left."""

    entries: int
    fresh_entries: int
    stale_entries: int
    fresh_refetched: int
    stale_refetched: int
    new_entries: int
    requests: int

    def ok(self, strict: bool) -> bool:
        if strict or self.stale_entries == 0:
            return self.requests == 0  # every entry was fresh: nothing to ask the network
        return self.fresh_refetched == 0 and self.new_entries == 0


def compare(before: CacheSnapshot, after: CacheSnapshot, requests: int) -> WarmCheck:
    changed = {k for k, t in after.stored_at.items() if before.stored_at.get(k, t) != t}
    return WarmCheck(
        entries=len(before.stored_at),
        fresh_entries=len(before.fresh),
        stale_entries=before.stale,
        fresh_refetched=len(changed & before.fresh),
        stale_refetched=len(changed - before.fresh),
        new_entries=len(set(after.stored_at) - set(before.stored_at)),
        requests=requests,
    )


# --- the peers ----------------------------------------------------------------------------------


@dataclass
class PeerResult:
    ecosystem: str
    tool: str
    run: str
    packages: int
    seconds: float
    failed: int
    tuskops_seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Peer seconds over tuskops seconds: above 1 means tuskops is faster."""
        return self.seconds / self.tuskops_seconds if self.tuskops_seconds > 0 else float("nan")


def peer_command(ecosystem: str, name: str, registry: str | None, cache_dir: Path) -> list[str]:
    if ecosystem == "npm":
        npm = shutil.which("npm") or "npm"
        cmd = [npm, "view", name, "versions", "--json", "--cache", str(cache_dir)]
        return cmd + (["--registry", registry] if registry else [])
    index = registry or DEFAULT_REGISTRY["pypi"]
    return [sys.executable, "-m", "pip", "index", "versions", name, "--index-url", index]


def peer_env(ecosystem: str, cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    if ecosystem == "pypi":
        # The machine's pip.conf and PIP_FIND_LINKS add local indexes: compare against the
        # registry alone. PIP_CERT (the CA bundle) stays.
        env["PIP_CONFIG_FILE"] = os.devnull
        env.pop("PIP_FIND_LINKS", None)
        env.pop("PIP_EXTRA_INDEX_URL", None)
        env["PIP_CACHE_DIR"] = str(cache_dir)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    else:
        env["npm_config_update_notifier"] = "false"
    return env


async def _peer_async(
    ecosystem: str, names: Sequence[str], registry: str | None, cache_dir: Path, pool: int
) -> tuple[float, list[str]]:
    semaphore = asyncio.Semaphore(pool)
    env = peer_env(ecosystem, cache_dir)
    errors: list[str] = []

    async def one(name: str) -> None:
        async with semaphore:
            proc = await asyncio.create_subprocess_exec(
                *peer_command(ecosystem, name, registry, cache_dir),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            out, err = await proc.communicate()
        if proc.returncode != 0 or not out.strip():
            last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            errors.append(f"{name}: exit {proc.returncode}: {last}")

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in names))
    return time.perf_counter() - start, errors


def run_peer(
    ecosystem: str,
    names: Sequence[str],
    work_dir: Path,
    *,
    registry: str | None,
    pool: int,
    concurrency: int,
) -> list[PeerResult]:
    """Version lists only, cold then warm, for the peer tool and for tuskops (own caches)."""
    tool = "npm view" if ecosystem == "npm" else "pip index versions"
    peer_cache = work_dir / f"peer-{ecosystem}"
    ours_cache = work_dir / f"tuskops-lists-{ecosystem}"
    out: list[PeerResult] = []
    for label in ("cold", "warm"):
        seconds, errors = asyncio.run(_peer_async(ecosystem, names, registry, peer_cache, pool))
        ours = run_once(
            ecosystem,
            names,
            ours_cache,
            label=label,
            registry=registry,
            concurrency=concurrency,
            with_metadata=False,
        )
        out.append(
            PeerResult(
                ecosystem, tool, label, len(names), seconds, len(errors), ours.seconds, errors
            )
        )
    return out


# --- output -------------------------------------------------------------------------------------


def format_table(runs: Sequence[RunResult]) -> str:
    head = ("ecosystem", "run", "packages", "requests", "cache hits", "bytes", "seconds")
    rows = [
        (
            r.ecosystem,
            r.run,
            str(r.packages),
            str(r.requests),
            str(r.cache_hits),
            f"{r.bytes:,}",
            f"{r.seconds:.2f}",
        )
        for r in runs
    ]
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]

    def line(row: Sequence[str]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        return "  ".join(cells).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_peers(peers: Sequence[PeerResult]) -> str:
    lines = ["version lists only (peer = the registry's own CLI, 'ratio' = peer / tuskops):"]
    for p in peers:
        failed = f", {p.failed} failed" if p.failed else ""
        lines.append(
            f"  {p.ecosystem:<5} {p.run:<5} {p.tool:<19} {p.seconds:7.2f} s   tuskops "
            f"{p.tuskops_seconds:6.2f} s   ratio {p.ratio:5.1f}x ({p.packages} packages{failed})"
        )
    return "\n".join(lines)


def _describe_check(ecosystem: str, check: WarmCheck, strict: bool) -> str:
    verdict = "OK" if check.ok(strict) else "FAILED"
    text = (
        f"{ecosystem} warm: {verdict}: {check.requests} requests; cold left {check.entries} "
        f"entries, {check.fresh_entries} fresh, {check.stale_entries} without a freshness "
        f"lifetime; refetched {check.fresh_refetched} fresh, {check.stale_refetched} stale; "
        f"{check.new_entries} new"
    )
    if check.stale_entries:
        text += (
            f"\n  note: {check.stale_entries} responses carried no Cache-Control max-age or "
            "Expires (the registry, or a proxy in front of it, sent none), so they are "
            "revalidated on every use"
        )
    return text


# --- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--ecosystem", choices=(*ECOSYSTEMS, "all"), default="all")
    ap.add_argument("--count", type=int, default=100, help="first N packages of each list")
    ap.add_argument(
        "--cache-dir",
        type=Path,
        help="cache directory (emptied first; default: a temporary directory, removed after)",
    )
    ap.add_argument("--pypi-index", help=f"Simple API base URL ({DEFAULT_REGISTRY['pypi']})")
    ap.add_argument("--npm-registry", help=f"npm registry URL ({DEFAULT_REGISTRY['npm']})")
    ap.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_MAX_CONCURRENCY,
        help=f"requests in flight (the client's max_concurrency, {DEFAULT_MAX_CONCURRENCY})",
    )
    ap.add_argument("--strict", action="store_true", help="fail on any warm request at all")
    ap.add_argument("--peer", action="store_true", help="also time npm view / pip index versions")
    ap.add_argument("--peer-pool", type=int, default=4, help="peer processes at a time (4)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")

    ecosystems = ECOSYSTEMS if args.ecosystem == "all" else (args.ecosystem,)
    registries: dict[str, str | None] = {"pypi": args.pypi_index, "npm": args.npm_registry}
    temporary = args.cache_dir is None
    root = Path(tempfile.mkdtemp(prefix="tuskops-metadata-")) if temporary else args.cache_dir
    runs: list[RunResult] = []
    checks: dict[str, WarmCheck] = {}
    peers: list[PeerResult] = []
    try:
        for eco in ecosystems:
            names = PACKAGES[eco][: args.count]
            cache_dir = root / eco
            shutil.rmtree(cache_dir, ignore_errors=True)
            cache_dir.mkdir(parents=True)
            kwargs: dict[str, Any] = {"registry": registries[eco], "concurrency": args.concurrency}
            runs.append(run_once(eco, names, cache_dir, label="cold", **kwargs))
            before = snapshot(cache_dir)
            warm = run_once(eco, names, cache_dir, label="warm", **kwargs)
            runs.append(warm)
            checks[eco] = compare(before, snapshot(cache_dir), warm.requests)
            # The cache alone answers everything (tuskops pkg --offline): no request possible.
            runs.append(run_once(eco, names, cache_dir, label="offline", offline=True, **kwargs))
            if args.peer:
                peers += run_peer(
                    eco,
                    names,
                    root,
                    registry=registries[eco],
                    pool=args.peer_pool,
                    concurrency=args.concurrency,
                )
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)

    warm_ok = all(c.ok(args.strict) for c in checks.values())
    failed = any(r.failed for r in runs)
    if args.json:
        report = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "runs": [asdict(r) for r in runs],
            "warm_checks": {k: {**asdict(c), "ok": c.ok(args.strict)} for k, c in checks.items()},
            "peers": [{**asdict(p), "ratio": p.ratio} for p in peers],
            "ok": warm_ok and not failed,
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_table(runs))
        for r in runs:
            if r.run == "cold":
                print(
                    f"{r.ecosystem}: {r.versions:,} versions listed, {r.dependencies:,} "
                    f"dependencies of the newest stable versions"
                    + (f", {r.no_metadata} without dependency metadata" if r.no_metadata else "")
                )
            for error in r.errors:
                print(f"  {r.ecosystem} {r.run}: {error}")
        for eco, check in checks.items():
            print(_describe_check(eco, check, args.strict))
        if peers:
            print(format_peers(peers))
            for p in peers:
                for error in p.errors[:5]:
                    print(f"  {p.tool} {p.run}: {error}")
    if failed:
        return 2
    return 0 if warm_ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Resolution speed: tuskops against uv and pip (PyPI) and npm, cold and warm cache.

The same inputs are resolved by every tool, each in its own process, isolated from this
machine's configuration (fresh HOME, ``PIP_CONFIG_FILE=/dev/null``, ``UV_NO_CONFIG=1``, the
index or registry named on the command line):

* PyPI: ``tuskops pkg lock DIR --dry-run``, ``uv pip compile`` and ``pip install --dry-run
  --ignore-installed --report -``, all for the running Python;
* npm: ``tuskops pkg lock DIR --dry-run`` on a ``package.json`` directory and ``npm install
  --package-lock-only --ignore-scripts``.

Cold: a fresh, empty cache directory per tool and input. Warm: the same run again on that
cache. The script prints seconds, the packages each tool resolved, whether the tools agree,
and the targets of issue 5: PyPI warm at most 1.5x uv's time, tuskops cold faster than pip
cold, npm no slower than npm. It measures; it does not gate (exit 0 whenever it could measure,
2 when a tool failed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_INDEX = "https://pypi.org/simple/"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"

#: Requirement sets of typical projects (no huge wheels); the same as the differential tests.
PYPI_SETS: dict[str, list[str]] = {
    "flask-app": ["flask>=3", "flask-sqlalchemy", "flask-login", "flask-wtf", "gunicorn"],
    "django-app": [
        "django>=4.2,<5.3",
        "djangorestframework",
        "django-cors-headers",
        "celery[redis]",
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
    "data-science": ["numpy", "pandas", "scipy", "scikit-learn", "matplotlib"],
    "test-stack": ["pytest", "pytest-cov", "pytest-xdist", "hypothesis", "tox"],
    "docs-site": ["sphinx", "sphinx-rtd-theme", "myst-parser", "mkdocs", "mkdocs-material"],
}

#: package.json dependencies of typical npm projects.
NPM_SETS: dict[str, dict[str, str]] = {
    "express-api": {
        "express": "^4.19.0",
        "cors": "^2.8.5",
        "morgan": "^1.10.0",
        "dotenv": "^16.0.0",
    },
    "cli-utils": {
        "chalk": "^5.3.0",
        "commander": "^12.0.0",
        "yargs": "^17.7.0",
        "axios": "^1.6.0",
        "lodash": "^4.17.21",
    },
    "lint-tools": {"eslint": "^8.57.0", "prettier": "^3.2.0"},
}

TOOLS = {"pypi": ("tuskops", "uv", "pip"), "npm": ("tuskops", "npm")}


@dataclass
class ToolRun:
    ecosystem: str
    input: str
    tool: str
    run: str  # "cold" or "warm"
    seconds: float
    ok: bool
    #: name (PyPI) or node_modules path (npm) -> version.
    resolved: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def packages(self) -> int:
        return len(self.resolved)


# --- environment --------------------------------------------------------------------------------


def isolated_env(home: Path) -> dict[str, str]:
    """This process's environment without package-manager settings, with a fresh HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("PIP_", "UV_", "NPM_CONFIG_", "TUSKOPS_", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CONFIG_DIRS=str(home / "xdg"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        NO_COLOR="1",
    )
    return env


def _tuskops_command() -> list[str]:
    script = Path(sys.executable).parent / "tuskops"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from tuskops.cli.main import main; main()"]


def _uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def _canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


# --- one tool run ---------------------------------------------------------------------------------


def _timed(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    done = subprocess.run(
        list(command), capture_output=True, text=True, env=dict(env), cwd=cwd, timeout=1800
    )
    return time.perf_counter() - start, done


def _pins(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name and not name.startswith("#"):
            found[_canonical(name.split("[")[0])] = version.split(";")[0].split()[0]
    return found


def run_pypi(
    tool: str,
    requirements: Sequence[str],
    work: Path,
    cache: Path,
    env: Mapping[str, str],
    *,
    index: str,
    python: str,
) -> tuple[float, dict[str, str], str]:
    """Seconds, name -> version, and an error text ("" when it worked)."""
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / "requirements.txt").write_text("\n".join(requirements) + "\n")
    if tool == "tuskops":
        command = [*_tuskops_command(), "pkg", "lock", str(project), "--dry-run"]
        command += ["--python", python, "--cache-dir", str(cache), "--registry", index]
    elif tool == "uv":
        uv = _uv()
        if uv is None:
            return 0.0, {}, "uv is not installed"
        command = [uv, "pip", "compile", str(project / "requirements.txt")]
        command += ["--python-version", python, "--index-url", index, "--cache-dir", str(cache)]
        command += ["--quiet", "--no-header", "--no-annotate"]
    elif tool == "pip":
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--index-url", index, "--cache-dir", str(cache), "--quiet", "--report", "-"]
        command += ["-r", str(project / "requirements.txt")]
    else:
        raise ValueError(f"unknown PyPI tool {tool}")
    seconds, done = _timed(command, env, work)
    if done.returncode != 0:
        return seconds, {}, (done.stderr.strip().splitlines() or ["failed"])[-1]
    if tool == "pip":
        report = json.loads(done.stdout)
        pins = {
            _canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]
        }
        return seconds, pins, ""
    return seconds, _pins(done.stdout), ""


def run_npm(
    tool: str,
    dependencies: Mapping[str, str],
    work: Path,
    cache: Path,
    env: Mapping[str, str],
    *,
    registry: str,
) -> tuple[float, dict[str, str], str]:
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "bench-project", "version": "1.0.0", "dependencies": dict(dependencies)}
    (project / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (project / "package-lock.json").unlink(missing_ok=True)  # resolve from scratch every time
    if tool == "tuskops":
        command = [*_tuskops_command(), "pkg", "lock", str(project), "--dry-run"]
        command += ["--cache-dir", str(cache), "--registry", registry]
        seconds, done = _timed(command, env, project)
        if done.returncode != 0:
            return seconds, {}, (done.stderr.strip().splitlines() or ["failed"])[-1]
        found: dict[str, str] = {}
        for line in done.stdout.splitlines():
            path, _, version = line.strip().rpartition(" ")
            if path.startswith("node_modules/"):
                found[path] = version
        return seconds, found, ""
    if tool == "npm":
        npm = shutil.which("npm")
        if npm is None:
            return 0.0, {}, "npm is not installed"
        command = [npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit"]
        command += ["--no-fund", "--cache", str(cache), "--registry", registry]
        seconds, done = _timed(command, env, project)
        if done.returncode != 0:
            return seconds, {}, (done.stderr.strip().splitlines() or ["failed"])[-1]
        lock = json.loads((project / "package-lock.json").read_text())
        packages = lock.get("packages", {})
        return (
            seconds,
            {p: str(e.get("version", "")) for p, e in packages.items() if p},
            "",
        )
    raise ValueError(f"unknown npm tool {tool}")


# --- the benchmark ------------------------------------------------------------------------------


def bench(
    ecosystem: str,
    name: str,
    tools: Sequence[str],
    root: Path,
    *,
    index: str,
    registry: str,
    python: str,
    warm_runs: int,
) -> list[ToolRun]:
    """Cold, then ``warm_runs`` warm runs (best kept) of every tool on one input."""
    runs: list[ToolRun] = []
    for tool in tools:
        base = root / ecosystem / name / tool
        shutil.rmtree(base, ignore_errors=True)
        (base / "home").mkdir(parents=True)
        env = isolated_env(base / "home")
        cache = base / "cache"
        for label in ("cold", *["warm"] * warm_runs):
            if ecosystem == "pypi":
                seconds, found, error = run_pypi(
                    tool, PYPI_SETS[name], base, cache, env, index=index, python=python
                )
            else:
                seconds, found, error = run_npm(
                    tool, NPM_SETS[name], base, cache, env, registry=registry
                )
            run = ToolRun(ecosystem, name, tool, label, seconds, not error, found, error)
            if label == "warm" and runs[-1].run == "warm" and runs[-1].tool == tool:
                if run.ok and run.seconds < runs[-1].seconds:
                    runs[-1] = run
                continue
            runs.append(run)
    return runs


def agreement(runs: Sequence[ToolRun]) -> dict[str, dict[str, dict[str, str]]]:
    """Per input, per tool other than tuskops: the entries where it and tuskops differ
    (``{"name": "ours -> theirs"}``), from the cold runs."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    cold = [r for r in runs if r.run == "cold" and r.ok]
    for ours in (r for r in cold if r.tool == "tuskops"):
        for theirs in (r for r in cold if r.input == ours.input and r.tool != "tuskops"):
            diff = {
                n: f"{ours.resolved.get(n, '-')} -> {theirs.resolved.get(n, '-')}"
                for n in sorted(set(ours.resolved) | set(theirs.resolved))
                if ours.resolved.get(n) != theirs.resolved.get(n)
            }
            out.setdefault(f"{ours.ecosystem}/{ours.input}", {})[theirs.tool] = diff
    return out


def totals(runs: Sequence[ToolRun]) -> dict[str, dict[str, float]]:
    """``ecosystem/tool/run`` -> total seconds over the inputs every tool of that ecosystem
    resolved (so that a failure does not make a tool look fast)."""
    done: dict[str, set[str]] = {}
    for r in runs:
        done.setdefault(r.ecosystem, set()).add(r.input)
    for r in runs:
        if not r.ok:
            done[r.ecosystem].discard(r.input)
    out: dict[str, dict[str, float]] = {}
    for r in runs:
        if r.input in done[r.ecosystem]:
            key = f"{r.ecosystem}/{r.tool}"
            out.setdefault(key, {}).setdefault(r.run, 0.0)
            out[key][r.run] += r.seconds
    return out


def targets(sums: Mapping[str, Mapping[str, float]]) -> list[tuple[str, float | None, bool]]:
    """(description, ratio, met) for the issue's targets that can be computed."""

    def ratio(a: str, b: str, run_a: str, run_b: str) -> float | None:
        x = sums.get(a, {}).get(run_a)
        y = sums.get(b, {}).get(run_b)
        return None if not x or not y else x / y

    found: list[tuple[str, float | None, bool]] = []
    warm_uv = ratio("pypi/tuskops", "pypi/uv", "warm", "warm")
    if warm_uv is not None:
        found.append(("PyPI warm: tuskops/uv <= 1.5", warm_uv, warm_uv <= 1.5))
    cold_uv = ratio("pypi/tuskops", "pypi/uv", "cold", "cold")
    if cold_uv is not None:
        found.append(("PyPI cold: tuskops/uv (no target)", cold_uv, True))
    cold_pip = ratio("pypi/tuskops", "pypi/pip", "cold", "cold")
    if cold_pip is not None:
        found.append(("PyPI cold: tuskops/pip < 1", cold_pip, cold_pip < 1))
    for run in ("cold", "warm"):
        npm = ratio("npm/tuskops", "npm/npm", run, run)
        if npm is not None:
            found.append((f"npm {run}: tuskops/npm <= 1", npm, npm <= 1))
    return found


def format_table(runs: Sequence[ToolRun]) -> str:
    header = f"{'ecosystem':<9} {'input':<16} {'tool':<8} {'run':<5} {'seconds':>8} {'packages':>8}"
    lines = [header, "-" * len(header)]
    for r in runs:
        seconds = f"{r.seconds:8.2f}" if r.ok else "  FAILED"
        lines.append(
            f"{r.ecosystem:<9} {r.input:<16} {r.tool:<8} {r.run:<5} {seconds} {r.packages:>8}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--ecosystem", choices=("pypi", "npm", "all"), default="all")
    ap.add_argument("--input", action="append", help="only these inputs (repeatable)")
    ap.add_argument("--tools", help="comma-separated subset (tuskops,uv,pip,npm)")
    ap.add_argument("--pypi-index", default=DEFAULT_INDEX, help=f"({DEFAULT_INDEX})")
    ap.add_argument("--npm-registry", default=DEFAULT_NPM_REGISTRY, help=DEFAULT_NPM_REGISTRY)
    ap.add_argument(
        "--python",
        default=platform.python_version(),
        help="target Python (default: this interpreter's full version, which pip always "
        "uses; markers on python_full_version need the patch level to agree)",
    )
    ap.add_argument("--warm-runs", type=int, default=1, help="warm runs, best kept (1)")
    ap.add_argument("--work-dir", type=Path, help="where caches go (default: a temp dir)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.warm_runs < 1:
        ap.error("--warm-runs must be at least 1")
    wanted_tools = set(args.tools.split(",")) if args.tools else None
    ecosystems = ("pypi", "npm") if args.ecosystem == "all" else (args.ecosystem,)
    temporary = args.work_dir is None
    root = Path(tempfile.mkdtemp(prefix="tuskops-resolve-")) if temporary else args.work_dir
    runs: list[ToolRun] = []
    try:
        for eco in ecosystems:
            sets: Mapping[str, object] = PYPI_SETS if eco == "pypi" else NPM_SETS
            names = [n for n in sets if not args.input or n in args.input]
            tools = [t for t in TOOLS[eco] if wanted_tools is None or t in wanted_tools]
            for name in names:
                runs += bench(
                    eco,
                    name,
                    tools,
                    root,
                    index=args.pypi_index,
                    registry=args.npm_registry,
                    python=args.python,
                    warm_runs=args.warm_runs,
                )
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    sums = totals(runs)
    goals = targets(sums)
    agree = agreement(runs)
    failed = [r for r in runs if not r.ok]
    if args.json:
        report = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
            },
            "runs": [{**asdict(r), "packages": r.packages} for r in runs],
            "totals": sums,
            "targets": [{"target": t, "ratio": q, "met": m} for t, q, m in goals],
            "differences": agree,
            "ok": not failed,
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_table(runs))
        print()
        for key, by_run in sums.items():
            text = ", ".join(f"{run} {seconds:.2f} s" for run, seconds in by_run.items())
            print(f"total {key}: {text}")
        for description, ratio, met in goals:
            shown = "n/a" if ratio is None else f"{ratio:.2f}x"
            print(f"target {description}: {shown} {'MET' if met else 'MISSED'}")
        for where, by_tool in agree.items():
            for tool, diff in by_tool.items():
                state = "same versions" if not diff else f"{len(diff)} differ: {diff}"
                print(f"{where}: tuskops vs {tool}: {state}")
        for r in failed:
            print(f"  {r.ecosystem}/{r.input} {r.tool} {r.run}: {r.error}")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

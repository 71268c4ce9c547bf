"""Parse benchmark: tuskops against the official TuskLang parser (PyPI ``tusktsk==2.0.5``).

Generates a deterministic (seeded) config of about ``--size-mb`` megabytes in the syntax subset
that both parsers read the same way, checks on a small sample that both produce the same data,
then times, each in a fresh subprocess and best of ``--runs``:

- ``tuskops.loads(text)``       parse + evaluate (the number the targets are about)
- ``tuskops.lang.parse(text)``  parse only
- ``TuskLangEnhanced().parse(text)`` in a separate venv holding ``tusktsk`` (parse = evaluate)

Targets: tuskops parses and evaluates 10 MB in under 2 s, and at least as fast as the official
parser. The script always exits 0 when it could measure: it is a measurement, not a gate.

    .venv/bin/python benchmarks/parse.py                 # 10 MB, best of 3
    .venv/bin/python benchmarks/parse.py --size-mb 1 --runs 5 --json

The official parser runs side-effecting ``@`` operators while parsing (``@query`` opens
databases, ``@request`` does HTTP, ``@file`` reads files), so the generated text never holds
an ``@``. This file must stay importable by the official venv's python: standard library only
at module level.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA_DIR = HERE / ".data"
DEFAULT_VENV = DATA_DIR / "official-venv"
OFFICIAL_SPEC = "tusktsk==2.0.5"
# tusktsk 2.0.5 imports these at module level without declaring them as dependencies, so
# ``from tusktsk import TuskLangEnhanced`` fails on a plain ``pip install tusktsk``. None of
# them is used when parsing text without ``@`` operators.
OFFICIAL_UNDECLARED = (
    "aiohttp",
    "psycopg2-binary",
    "pymongo",
    "redis",
    "PyJWT",
    "bcrypt",
    "cryptography",
)
MB = 1_000_000
DEFAULT_SEED = 20240607

TARGET_SECONDS_AT_10MB = 2.0

# --- generator --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """``lo-hi`` in TuskLang; both parsers read it as ``{"min", "max", "type": "range"}``."""

    lo: int
    hi: int


@dataclass(frozen=True)
class GlobalRef:
    """``$name`` as a value: the global's value."""

    name: str


Value = Any  # str | int | float | bool | None | list | dict | Range | GlobalRef


_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)  # fmt: skip
_TIERS = ("web", "api", "worker", "cache", "db", "queue", "edge", "batch")
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1")
_GLOBALS: dict[str, Value] = {
    "env_name": "production",
    "region": "eu-west-1",
    "default_replicas": 3,
    "debug": False,
}


def render(value: Value) -> str:
    """TuskLang text for ``value`` in the subset both parsers agree on."""
    if isinstance(value, GlobalRef):
        return f"${value.name}"
    if isinstance(value, Range):
        return f"{value.lo}-{value.hi}"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "." not in text:  # pragma: no cover - generator never makes these
            raise ValueError(f"float {value!r} has no plain decimal form")
        return text
    if isinstance(value, str):
        if any(c in value for c in '"\\$#@?\n') or " + " in value:
            raise ValueError(f"string {value!r} is outside the common subset")
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {type(value).__name__}")


def plain(value: Value) -> Any:
    """The data a value stands for, as both parsers should produce it."""
    if isinstance(value, GlobalRef):
        return plain(_GLOBALS[value.name])
    if isinstance(value, Range):
        return {"min": value.lo, "max": value.hi, "type": "range"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaves, recursing into non-empty dicts only (lists stay whole), the way
    ``tuskops.Document.to_flat`` does."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


class _Writer:
    def __init__(self, expected: bool) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.expected: dict[str, Any] | None = {} if expected else None

    def line(self, text: str = "") -> None:
        self.parts.append(text)
        self.size += len(text) + 1

    def assign(self, path: str, key: str, value: Value, indent: str = "", sep: str = ":") -> None:
        between = ": " if sep == ":" else " = "
        self.line(f"{indent}{key}{between}{render(value)}")
        if self.expected is not None:
            full = f"{path}.{key}" if path else key
            data = plain(value)
            if isinstance(data, dict) and data:
                self.expected.update(flatten(data, full))
            else:
                self.expected[full] = data


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _decimal(rng: random.Random, whole_max: int) -> float:
    return float(f"{rng.randint(0, whole_max)}.{rng.randint(1, 99):02d}")


def _section(w: _Writer, rng: random.Random, index: int) -> None:
    name = f"svc_{index:06d}"
    tier = rng.choice(_TIERS)
    host = f"{tier}-{index}.{_word(rng)}.internal"
    w.line(f"# service {index}: {tier} tier, owned by team {_word(rng)}")
    w.line(f"[{name}]")
    sep = rng.choice((":", ":", "="))
    w.assign(name, "name", f"{tier}-{_word(rng)}-{index}", sep=sep)
    w.assign(name, "enabled", rng.random() < 0.8)
    w.assign(name, "replicas", rng.randint(1, 64), sep=sep)
    w.assign(name, "region", GlobalRef("region") if rng.random() < 0.5 else rng.choice(_REGIONS))
    w.assign(name, "environment", GlobalRef("env_name"))
    w.assign(name, "cpu", _decimal(rng, 16))
    w.assign(name, "weight", -rng.randint(1, 1000) if rng.random() < 0.2 else rng.randint(0, 10**9))
    w.assign(name, "owner", None if rng.random() < 0.3 else f"team-{_word(rng)}")
    w.assign(name, "url", f"https://{host}:{rng.randint(1024, 65535)}/v{rng.randint(1, 3)}/status")
    w.assign(name, "description", " ".join(_word(rng) for _ in range(rng.randint(3, 12))))
    lo = rng.randint(1024, 60000)
    w.assign(name, "ports", Range(lo, lo + rng.randint(1, 500)))
    w.assign(name, "tags", [_word(rng) for _ in range(rng.randint(0, 6))])
    w.assign(name, "weights", [rng.randint(0, 100) for _ in range(rng.randint(1, 8))])
    w.assign(
        name, "mixed", [_word(rng), rng.randint(0, 9), _decimal(rng, 9), rng.random() < 0.5, None]
    )
    w.assign(
        name, "matrix", [[rng.randint(0, 9) for _ in range(3)] for _ in range(rng.randint(1, 3))]
    )
    w.assign(
        name,
        "limits",
        {
            "cpu": f"{rng.randint(100, 4000)}m",
            "memory": f"{rng.randint(64, 8192)}Mi",
            "burst": rng.randint(1, 5),
        },
    )
    w.assign(
        name,
        "endpoints",
        [
            {"path": f"/{_word(rng)}", "port": rng.randint(80, 9000)}
            for _ in range(rng.randint(1, 3))
        ],
    )
    w.line()
    style = rng.choice(("{", ">"))
    block = "resources" if style == "{" else "probe"
    w.line(f"{block} {style}")
    bpath = f"{name}.{block}"
    w.assign(bpath, "path", f"/{_word(rng)}/{_word(rng)}", indent="    ")
    w.assign(bpath, "interval_s", rng.randint(1, 120), indent="    ")
    w.assign(bpath, "threshold", _decimal(rng, 1), indent="    ")
    w.assign(bpath, "strict", rng.random() < 0.5, indent="    ", sep=rng.choice((":", "=")))
    w.assign(bpath, "headers", [f"x-{_word(rng)}" for _ in range(rng.randint(0, 3))], indent="    ")
    w.line("}" if style == "{" else "<")
    w.line()


def _generate(size_mb: float, seed: int, expected: bool) -> tuple[str, dict[str, Any] | None]:
    target = max(1, int(size_mb * MB))
    rng = random.Random(seed)
    w = _Writer(expected)
    w.line("# Generated by benchmarks/parse.py: deterministic, seeded; common TuskLang subset.")
    w.line(f"# seed {seed}, about {size_mb:g} MB")
    w.line()
    for gname, gvalue in _GLOBALS.items():
        w.line(f"${gname}: {render(gvalue)}")  # globals are not part of the output
    w.line()
    w.assign("", "title", "generated benchmark config")
    w.assign("", "schema_version", 2)
    w.line()
    w.line("meta {")
    w.assign("meta", "generator", "benchmarks/parse.py", indent="    ")
    w.assign("meta", "seed", seed, indent="    ")
    w.line("}")
    w.line()
    index = 0
    while w.size < target:
        _section(w, rng, index)
        index += 1
    return "\n".join(w.parts) + "\n", w.expected


def generate(size_mb: float, seed: int = DEFAULT_SEED) -> str:
    """A config of about ``size_mb`` MB (ASCII, so characters = bytes); same seed, same text."""
    return _generate(size_mb, seed, expected=False)[0]


def generate_with_expected(size_mb: float, seed: int = DEFAULT_SEED) -> tuple[str, dict[str, Any]]:
    """The text and the flat data (dotted keys, as ``Document.to_flat()``) it must produce."""
    text, expected = _generate(size_mb, seed, expected=True)
    assert expected is not None
    return text, expected


# --- comparing --------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal with types: ``1``, ``1.0`` and ``True`` all differ."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def official_flat(data: dict[str, Any]) -> dict[str, Any]:
    """The official parser's output as ``to_flat`` data: it already uses dotted keys, but keeps
    inline objects and ranges as dicts under one key, and keeps ``$globals`` as keys."""
    kept = {k: v for k, v in data.items() if not k.startswith("$") and ".$" not in k}
    return flatten(kept)


@dataclass
class Diff:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.different)

    def examples(self, left: dict[str, Any], right: dict[str, Any], n: int = 5) -> list[str]:
        out = [f"only in first: {k} = {left[k]!r}" for k in self.missing[:n]]
        out += [f"only in second: {k} = {right[k]!r}" for k in self.extra[:n]]
        out += [f"{k}: {left[k]!r} != {right[k]!r}" for k in self.different[:n]]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "missing": self.missing[:20],
            "extra": self.extra[:20],
            "different": self.different[:20],
        }


def compare(left: dict[str, Any], right: dict[str, Any]) -> Diff:
    diff = Diff()
    for key, value in left.items():
        if key not in right:
            diff.missing.append(key)
        elif not same(value, right[key]):
            diff.different.append(key)
    diff.extra = [k for k in right if k not in left]
    return diff


# --- workers (run in fresh subprocesses) ------------------------------------------------------


def _stub_missing_imports(names: list[str]) -> list[str]:
    stubbed = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
            stubbed.append(name)
    return stubbed


def _load_official() -> tuple[type, str]:
    """``TuskLangEnhanced`` and how it was imported.

    The normal import needs tusktsk's undeclared dependencies; without them, load
    ``tusktsk/tsk_enhanced.py`` by itself with empty stand-ins for the modules it imports but
    does not use when parsing (the parsing code itself is the package's, unchanged).
    """
    try:
        from tusktsk import TuskLangEnhanced

        return TuskLangEnhanced, "package"
    except ImportError:
        pass
    spec = importlib.util.find_spec("tusktsk")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("tusktsk is not installed for this python")
    path = Path(next(iter(spec.submodule_search_locations))) / "tsk_enhanced.py"
    stubbed = _stub_missing_imports(["aiohttp", "psycopg2", "pymongo", "redis", "jwt", "bcrypt"])
    mod_spec = importlib.util.spec_from_file_location("tusktsk_tsk_enhanced", path)
    if mod_spec is None or mod_spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module.TuskLangEnhanced, "tsk_enhanced.py with stubs for " + ",".join(stubbed)


def _worker(kind: str, input_path: str, output_path: str | None, no_gc: bool) -> None:
    text = Path(input_path).read_text(encoding="utf-8")
    result: dict[str, Any] = {"kind": kind, "python": sys.version.split()[0]}
    data: Any = None
    if kind == "official":
        cls, mode = _load_official()
        import importlib.metadata

        result["import_mode"] = mode
        result["version"] = importlib.metadata.version("tusktsk")
        parser = cls()

        def run() -> Any:
            return parser.parse(text)

    elif kind in ("tuskops-load", "tuskops-parse"):
        import tuskops
        import tuskops.lang

        result["version"] = tuskops.__version__
        if kind == "tuskops-load":

            def run() -> Any:
                return tuskops.loads(text, offline=True)

        else:

            def run() -> Any:
                return tuskops.lang.parse(text)

    else:
        raise SystemExit(f"unknown worker {kind}")

    gc.collect()
    if no_gc:
        gc.disable()
    start = time.perf_counter()
    data = run()
    result["seconds"] = time.perf_counter() - start
    gc.enable()
    if output_path:
        if kind == "official":
            result["flat"] = official_flat(data)
        elif kind == "tuskops-load":
            result["flat"] = data.to_flat()
        Path(output_path).write_text(json.dumps(result), encoding="utf-8")
    else:
        print(json.dumps(result))


# --- driver -----------------------------------------------------------------------------------


def _run_worker(
    python: str, kind: str, input_path: Path, *, no_gc: bool, want_data: bool = False
) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).resolve()), "--worker", kind, "--input", str(input_path)]
    if no_gc:
        cmd.append("--no-gc")
    out_file: Path | None = None
    if want_data:
        fd, name = tempfile.mkstemp(prefix=f"bench-{kind}-", suffix=".json", dir=DATA_DIR)
        os.close(fd)
        out_file = Path(name)
        cmd += ["--output", str(out_file)]
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    if kind.startswith("tuskops"):
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO / "src"), env.get("PYTHONPATH")])
        )
    # A neutral working directory: the official parser resolves relative paths (cross-file
    # references) against it; the generated text has none, but keep it off the checkout.
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=DATA_DIR, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{kind} worker failed (exit {proc.returncode}):\n{proc.stderr.strip()[-3000:]}"
        )
    try:
        if out_file is not None:
            return dict(json.loads(out_file.read_text(encoding="utf-8")))
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        if out_file is not None:
            out_file.unlink(missing_ok=True)


def _best_of(python: str, kind: str, input_path: Path, runs: int, no_gc: bool) -> dict[str, Any]:
    times: list[float] = []
    info: dict[str, Any] = {}
    for _ in range(runs):
        info = _run_worker(python, kind, input_path, no_gc=no_gc)
        times.append(info["seconds"])
    info.pop("seconds", None)
    return {**info, "best": min(times), "times": times}


def ensure_official_python(requested: str | None) -> str:
    """The python to run the official parser with: ``requested``, or a cached venv."""
    if requested:
        return requested
    python = DEFAULT_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('tusktsk'))"]
    if python.exists():
        done = subprocess.run(probe, capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == OFFICIAL_SPEC.split("==")[1]:
            return str(python)
    print(f"creating {DEFAULT_VENV} with {OFFICIAL_SPEC} (once) ...", file=sys.stderr)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(DEFAULT_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            OFFICIAL_SPEC,
            *OFFICIAL_UNDECLARED,
        ],
        check=True,
    )
    return str(python)


def _input_file(size_mb: float, seed: int) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"parse-{size_mb:g}mb-seed{seed}.tsk"
    path.write_text(generate(size_mb, seed), encoding="utf-8")
    return path


def _check_equivalence(
    official_python: str | None, check_mb: float, seed: int, tuskops_ok: bool
) -> dict[str, Any]:
    """Both parsers against the generator's expected data, and against each other."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    text, expected = generate_with_expected(check_mb, seed)
    path = DATA_DIR / f"check-{check_mb:g}mb-seed{seed}.tsk"
    path.write_text(text, encoding="utf-8")
    report: dict[str, Any] = {"size_mb": check_mb, "keys_expected": len(expected)}
    flats: dict[str, dict[str, Any]] = {}
    for kind, python in (("official", official_python), ("tuskops-load", sys.executable)):
        if python is None or (kind == "tuskops-load" and not tuskops_ok):
            continue
        try:
            flats[kind] = _run_worker(python, kind, path, no_gc=False, want_data=True)["flat"]
        except RuntimeError as exc:
            report[f"{kind}_error"] = str(exc)
    for kind, flat in flats.items():
        diff = compare(expected, flat)
        report[f"{kind}_vs_expected"] = diff.as_json() | {"examples": diff.examples(expected, flat)}
    if len(flats) == 2:
        diff = compare(flats["official"], flats["tuskops-load"])
        report["official_vs_tuskops"] = diff.as_json() | {
            "examples": diff.examples(flats["official"], flats["tuskops-load"])
        }
    return report


def _tuskops_available() -> str | None:
    """None if ``tuskops.loads`` can run, else why not."""
    probe = (
        "import tuskops, tuskops.lang.parser, tuskops.lang.evaluator; "
        "assert tuskops.loads('a: 1').to_plain() == {'a': 1}"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["unknown error"])[-1]


def _scaling(
    python: str, kind: str, sizes: list[float], seed: int, runs: int, no_gc: bool
) -> list[dict[str, float]]:
    rows = []
    for size in sizes:
        path = _input_file(size, seed)
        best = _best_of(python, kind, path, runs, no_gc)["best"]
        actual = path.stat().st_size / MB
        rows.append({"size_mb": actual, "seconds": best, "seconds_per_mb": best / actual})
    return rows


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "processor": platform.processor() or platform.machine(),
    }


def _fmt_run(name: str, res: dict[str, Any], size_mb: float) -> str:
    times = ", ".join(f"{t:.3f}" for t in res["times"])
    return f"  {name:<34} {res['best']:8.3f} s  {size_mb / res['best']:7.2f} MB/s   (runs: {times})"


def _met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--size-mb", type=float, default=10.0, help="generated config size (default 10)"
    )
    ap.add_argument(
        "--runs", type=int, default=3, help="runs per parser, best is reported (default 3)"
    )
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument(
        "--official-python", help="python of a venv with tusktsk==2.0.5 (default: cached venv)"
    )
    ap.add_argument("--skip-official", action="store_true", help="time tuskops only")
    ap.add_argument(
        "--check-mb", type=float, default=0.2, help="size of the equivalence sample (0: skip)"
    )
    ap.add_argument(
        "--scaling", action="store_true", help="also time both at 0.1/0.5/1/2 MB (best of --runs)"
    )
    ap.add_argument(
        "--no-gc", action="store_true", help="disable the garbage collector while timing"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        _worker(args.worker, args.input, args.output, args.no_gc)
        return 0
    if args.runs < 1 or args.size_mb <= 0:
        ap.error("--runs must be >= 1 and --size-mb > 0")

    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": _machine(),
        "seed": args.seed,
        "runs": args.runs,
        "gc": "disabled while timing" if args.no_gc else "enabled (collected before timing)",
    }

    def say(msg: str) -> None:
        if not args.json:
            print(msg, flush=True)

    official_python = None if args.skip_official else ensure_official_python(args.official_python)
    tuskops_problem = _tuskops_available()
    report["tuskops_available"] = tuskops_problem is None
    if tuskops_problem:
        report["tuskops_problem"] = tuskops_problem

    start = time.perf_counter()
    path = _input_file(args.size_mb, args.seed)
    size_mb = path.stat().st_size / MB
    report["input"] = {"path": str(path), "size_mb": size_mb, "lines": path.read_text().count("\n")}
    say(
        f"input: {path.name}: {size_mb:.2f} MB, {report['input']['lines']} lines "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )
    say(
        f"machine: {report['machine']['platform']}, {report['machine']['cpus']} cpus, "
        f"python {report['machine']['python']}; gc {report['gc']}; best of {args.runs}"
    )

    if args.check_mb > 0:
        eq = _check_equivalence(official_python, args.check_mb, args.seed, tuskops_problem is None)
        report["equivalence"] = eq
        say(f"equivalence on a {args.check_mb:g} MB sample ({eq['keys_expected']} keys):")
        for key in ("official_vs_expected", "tuskops-load_vs_expected", "official_vs_tuskops"):
            if key in eq:
                say(f"  {key}: {eq[key]['count']} mismatches")
                for line in eq[key]["examples"]:
                    say(f"      {line}")
        for kind in ("official", "tuskops-load"):
            if f"{kind}_error" in eq:
                say(f"  {kind} failed on the sample: {eq[kind + '_error'].splitlines()[-1]}")

    results: dict[str, Any] = {}
    if tuskops_problem is None:
        say("timing (fresh subprocess per run; parse time only, import excluded):")
        for kind, label in (
            ("tuskops-load", "tuskops.loads (parse+evaluate)"),
            ("tuskops-parse", "tuskops.lang.parse (parse only)"),
        ):
            try:
                results[kind] = _best_of(sys.executable, kind, path, args.runs, args.no_gc)
                say(_fmt_run(label, results[kind], size_mb))
            except RuntimeError as exc:
                results[kind] = {"error": str(exc)}
                say(f"  {label}: FAILED: {str(exc).splitlines()[-1]}")
    else:
        say(f"tuskops cannot run yet ({tuskops_problem}); timing the official parser only")
    if official_python:
        try:
            results["official"] = _best_of(official_python, "official", path, args.runs, args.no_gc)
            label = f"official TuskLangEnhanced {results['official'].get('version', '')}"
            say(_fmt_run(label, results["official"], size_mb))
            say(f"    (official import: {results['official'].get('import_mode')})")
        except RuntimeError as exc:
            results["official"] = {"error": str(exc)}
            say(f"  official: FAILED: {str(exc).splitlines()[-1]}")
    report["results"] = results

    if args.scaling:
        sizes = [0.1, 0.5, 1.0, 2.0]
        report["scaling"] = {}
        runners = [("official", official_python)] if official_python else []
        if tuskops_problem is None:
            runners.append(("tuskops-load", sys.executable))
        for kind, python in runners:
            assert python is not None
            rows = _scaling(python, kind, sizes, args.seed, args.runs, args.no_gc)
            report["scaling"][kind] = rows
            say(
                f"scaling, {kind}: "
                + ", ".join(
                    f"{r['size_mb']:.2f} MB {r['seconds']:.3f} s ({r['seconds_per_mb']:.3f} s/MB)"
                    for r in rows
                )
            )

    verdict: dict[str, Any] = {}
    load = results.get("tuskops-load", {})
    if "best" in load:
        # Scale linearly to 10 MB when a different size was measured.
        at10 = load["best"] * 10.0 / size_mb
        verdict["tuskops_seconds_at_10mb"] = at10
        fast = at10 < TARGET_SECONDS_AT_10MB
        verdict["under_2s_at_10mb"] = fast
        how = "" if abs(size_mb - 10) < 0.5 else f", extrapolated linearly from {size_mb:.2f} MB"
        say(f"target '10 MB in under 2 s': {_met(fast)} ({at10:.3f} s{how})")
        if "best" in results.get("official", {}):
            ratio = results["official"]["best"] / load["best"]
            verdict["ratio_official_over_tuskops"] = ratio
            verdict["at_least_as_fast_as_official"] = ratio >= 1.0
            say(
                f"target 'at least as fast as the official parser': {_met(ratio >= 1)} "
                f"(official/tuskops = {ratio:.2f}x at {size_mb:.2f} MB)"
            )
    else:
        say("targets: not judged (tuskops.loads did not run)")
    report["verdict"] = verdict

    if args.json:
        print(json.dumps(report, indent=2))
    measured = any("best" in r for r in results.values())
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())

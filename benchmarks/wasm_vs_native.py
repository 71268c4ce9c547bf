"""WebAssembly against native code: five compute kernels in C (and Rust), timed side by side.

Each kernel in ``benchmarks/wasm_kernels/`` exports ``u64 run(u32 n)`` and returns a checksum:
recursive Fibonacci (calls), n-body (floating point, sqrt), SHA-256 (32-bit integer work and
memory), a 256x256 matrix multiply (floating point and cache) and a quicksort of 1M integers
(branches and memory). For each kernel the script

* builds it natively with ``gcc -O2`` into a shared library, called through ctypes, and to
  WebAssembly with tuskops (``tuskops.wasm.build``, profile ``release``: ``clang -O2``, strip,
  ``wasm-opt -O3``), run in wasmtime through tuskops' sandbox (``tuskops.wasm.sandbox``, with
  fuel and timeouts off so the guard costs nothing);
* checks that both return the same checksum (a mismatch is exit status 1);
* times the call alone (the best of ``--repeat`` runs; the module is compiled beforehand, its
  compile time reported apart) and prints wasm time / native time and the share of native speed;
  the wasm time includes what every sandboxed call pays (a fresh instance, WASI linked), shown
  apart as "call ms" (the same call with n = 0).

The same is done for the Rust versions when a rustc with the ``wasm32-unknown-unknown`` standard
library is installed (native: the first ``rustc`` on PATH with ``-C opt-level=2``). Module sizes
are printed after each build step, and the size of the wasmtime runtime this machine loads,
since TuskLang's platform notes claim "90% of native performance" and "a runtime under 2 MB":
the output says what holds here.

    .venv/bin/python benchmarks/wasm_vs_native.py
    .venv/bin/python benchmarks/wasm_vs_native.py --quick --json     # small inputs, one run

Exit status: 0 measured; 1 a checksum differed; 3 a toolchain is missing (the message says
which package to install).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import wasmtime

from tuskops.errors import TuskError
from tuskops.wasm.build import build
from tuskops.wasm.sandbox import Limits, Sandbox
from tuskops.wasm.toolchain import MissingToolchain, find_rust

KERNELS_DIR = Path(__file__).parent / "wasm_kernels"

#: kernel -> (full n, quick n): full inputs take a few tenths of a second natively.
KERNELS: dict[str, tuple[int, int]] = {
    "fib": (36, 20),
    "nbody": (1_000_000, 1_000),
    "sha256": (30, 1),
    "matmul": (12, 1),
    "sort": (3, 1),
}


@dataclass
class Row:
    kernel: str
    language: str
    n: int
    checksum_native: int
    checksum_wasm: int
    native_seconds: float
    wasm_seconds: float
    wasm_compile_seconds: float
    #: One call with n = 0: a fresh instance, WASI linked, the guard set up (paid per call).
    wasm_call_overhead_seconds: float
    module_bytes: int
    #: (step, bytes) of the wasm build.
    build_steps: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.wasm_seconds / self.native_seconds

    @property
    def agree(self) -> bool:
        return self.checksum_native == self.checksum_wasm


def _best(call: Callable[[], int], repeat: int) -> tuple[int, float]:
    times: list[float] = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, min(times)


def _native_c(source: Path, out: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise MissingToolchain("no native C compiler (gcc)", "apt-get install gcc")
    library = out / f"{source.stem}.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", str(source), "-o", str(library)], check=True)
    return library


def _native_rust(source: Path, out: Path) -> Path:
    rustc = shutil.which("rustc")
    if rustc is None:
        raise MissingToolchain("no rustc", "apt-get install rustc")
    library = out / f"rs_{source.stem}.so"
    argv = [rustc, "--edition=2021", "--crate-type", "cdylib", "-C", "opt-level=2"]
    subprocess.run([*argv, str(source), "-o", str(library)], check=True)
    return library


def _native_call(library: Path, n: int) -> Callable[[], int]:
    run = ctypes.CDLL(str(library)).run
    run.restype = ctypes.c_uint64
    run.argtypes = [ctypes.c_uint32]
    return lambda: int(run(n))


def measure(
    kernel: str, language: str, n: int, repeat: int, scratch: Path, sandbox: Sandbox
) -> Row:
    source = KERNELS_DIR / f"{kernel}.{'c' if language == 'c' else 'rs'}"
    native = (_native_c if language == "c" else _native_rust)(source, scratch)
    built = build(source, output=scratch / f"{language}_{kernel}.wasm", profile="release")
    start = time.perf_counter()
    sandbox.compile(built.output)
    compile_seconds = time.perf_counter() - start
    checksum_native, native_seconds = _best(_native_call(native, n), repeat)

    def in_wasm() -> int:
        return int(sandbox.call(built.output, "run", n)) & 0xFFFFFFFFFFFFFFFF

    checksum_wasm, wasm_seconds = _best(in_wasm, repeat)
    _, overhead = _best(lambda: int(sandbox.call(built.output, "run", 0)), repeat)
    return Row(
        kernel,
        language,
        n,
        checksum_native,
        checksum_wasm,
        native_seconds,
        wasm_seconds,
        compile_seconds,
        overhead,
        built.size,
        [(s.name, s.size) for s in built.steps],
    )


def runtime_size() -> tuple[str, int]:
    """The wasmtime shared library this Python process loads, and its size."""
    package = Path(wasmtime.__file__).parent
    libraries = sorted(package.rglob("*wasmtime*.so")) + sorted(package.rglob("*.dylib"))
    if not libraries:
        return ("unknown", 0)
    biggest = max(libraries, key=lambda p: p.stat().st_size)
    return (str(biggest), biggest.stat().st_size)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def report(rows: Sequence[Row], runtime: tuple[str, int]) -> str:
    lines = [
        f"{'kernel':8} {'lang':4} {'n':>9} {'native s':>9} {'wasm s':>9} {'wasm/native':>11} "
        f"{'% native':>8} {'module':>8} {'compile s':>9} {'call ms':>7} checksum",
    ]
    for row in rows:
        lines.append(
            f"{row.kernel:8} {row.language:4} {row.n:>9} {row.native_seconds:9.4f} "
            f"{row.wasm_seconds:9.4f} {row.ratio:10.2f}x {100 / row.ratio:7.0f}% "
            f"{row.module_bytes:>8} {row.wasm_compile_seconds:9.3f} "
            f"{row.wasm_call_overhead_seconds * 1000:7.1f} "
            + ("same" if row.agree else f"DIFFERS {row.checksum_native} != {row.checksum_wasm}")
        )
    for language in sorted({r.language for r in rows}):
        ratios = [r.ratio for r in rows if r.language == language]
        mean = statistics.geometric_mean(ratios)
        lines.append(
            f"{language}: geometric mean wasm/native {mean:.2f}x = {100 / mean:.0f}% of native "
            f"speed (claim: 90%; {'holds' if 100 / mean >= 90 else 'does not hold'} here)"
        )
    lines.append("module size after each build step (bytes):")
    for row in rows:
        steps = " -> ".join(f"{name} {size}" for name, size in row.build_steps)
        lines.append(f"  {row.language} {row.kernel}: {steps}")
    path, size = runtime
    verdict = "holds" if 0 < size < 2_000_000 else "does not hold"
    lines.append(
        f"runtime: wasmtime {wasmtime_version()} loaded from {path}: {_mb(size)} "
        f"(claim: under 2 MB; {verdict} for this runtime)"
    )
    return "\n".join(lines) + "\n"


def wasmtime_version() -> str:
    from importlib.metadata import version

    return version("wasmtime")


def main(argv: Sequence[str] | None = None) -> int:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--kernel", action="append", choices=sorted(KERNELS), help="repeatable")
    ap.add_argument("--quick", action="store_true", help="tiny inputs, one run (a smoke test)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; best counts")
    ap.add_argument("--no-rust", action="store_true", help="C kernels only")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args(argv)
    kernels = args.kernel or list(KERNELS)
    repeat = 1 if args.quick else args.repeat
    languages = ["c"]
    rust_note = ""
    if not args.no_rust:
        try:
            find_rust("wasm32-unknown-unknown")
            if shutil.which("rustc") is None:
                raise MissingToolchain("no native rustc on PATH", "apt-get install rustc")
            languages.append("rust")
        except MissingToolchain as exc:
            rust_note = f"Rust skipped: {exc}"
    sandbox = Sandbox(Limits(fuel=None, timeout_seconds=None, memory_pages=4096))
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tuskops-wasm-bench-") as scratch:
            for language in languages:
                for kernel in kernels:
                    full, quick = KERNELS[kernel]
                    n = quick if args.quick else full
                    rows.append(measure(kernel, language, n, repeat, Path(scratch), sandbox))
    except MissingToolchain as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except TuskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    runtime = runtime_size()
    if args.json:
        data: dict[str, Any] = {
            "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
            "rows": [asdict(r) | {"ratio": r.ratio, "agree": r.agree} for r in rows],
            "runtime": {"path": runtime[0], "bytes": runtime[1], "wasmtime": wasmtime_version()},
            "notes": [rust_note] if rust_note else [],
        }
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(report(rows, runtime))
        if rust_note:
            print(rust_note)
    return 0 if all(r.agree for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

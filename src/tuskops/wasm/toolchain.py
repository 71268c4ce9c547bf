"""Finding the compilers and tools a WebAssembly build needs, and saying how to get a missing one.

Several toolchains can be installed side by side (rustup's ``rustc`` first on PATH without the
wasm targets, Debian's ``/usr/bin/rustc`` with them), so each candidate is asked what it can
build for rather than trusting the first one on PATH. Every lookup is a pure question: nothing
is installed or changed.

The install hints name Debian's packages, the ones ``.ci/run`` installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tuskops.errors import TuskError

__all__ = [
    "CToolchain",
    "MissingToolchain",
    "RustToolchain",
    "find_c",
    "find_rust",
    "find_tool",
    "rust_target_names",
]

#: Debian's locations of wasi-libc, and wasi-sdk's.
WASI_SYSROOTS = (Path("/usr"), Path("/opt/wasi-sdk/share/wasi-sysroot"))

#: Where rustc lives besides PATH: Debian's, then rustup's default and its other toolchains.
RUSTC_LOCATIONS: tuple[str, ...] = (
    "/usr/bin/rustc",
    "~/.cargo/bin/rustc",
    "~/.rustup/toolchains/*/bin/rustc",
)

#: tool -> how to install it on Debian/Ubuntu.
INSTALL_HINTS: Mapping[str, str] = {
    "clang": "apt-get install clang lld",
    "wasm-ld": "apt-get install lld",
    "wasi-libc": "apt-get install wasi-libc libclang-rt-14-dev-wasm32",
    "builtins": "apt-get install libclang-rt-14-dev-wasm32",
    "rustc": "apt-get install rustc cargo libstd-rust-dev-wasm32 "
    "(or: rustup target add wasm32-unknown-unknown wasm32-wasip1)",
    "wasm-opt": "apt-get install binaryen",
    "wasm-strip": "apt-get install wabt",
}


class MissingToolchain(TuskError):
    """A compiler, target library or tool the build needs is not installed."""

    exit_code = 3

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what}; install it with: {hint}")


def _run(argv: list[str], env: Mapping[str, str] | None = None) -> str | None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def find_tool(name: str, *, required: bool = True) -> Path | None:
    """The path of ``name`` on PATH (also LLVM's versioned directories for ``wasm-ld``)."""
    found = shutil.which(name)
    if found is None and name == "wasm-ld":
        for candidate in sorted(Path("/usr/lib").glob("llvm-*/bin/wasm-ld"), reverse=True):
            found = str(candidate)
            break
    if found is None:
        if required:
            raise MissingToolchain(f"{name} is not installed", INSTALL_HINTS.get(name, name))
        return None
    return Path(found)


@dataclass(frozen=True)
class CToolchain:
    """clang able to emit wasm32, and where wasi-libc is (None when it is not installed)."""

    clang: Path
    version: str
    wasi_sysroot: Path | None

    def require_wasi(self) -> Path:
        if self.wasi_sysroot is None:
            raise MissingToolchain(
                "wasi-libc (the C library for wasm32-wasi) is not installed",
                INSTALL_HINTS["wasi-libc"],
            )
        return self.wasi_sysroot


def _wasi_sysroot(env: Mapping[str, str]) -> Path | None:
    candidates = [Path(env["WASI_SYSROOT"])] if env.get("WASI_SYSROOT") else []
    for sysroot in (*candidates, *WASI_SYSROOTS):
        for layout in ("include/wasm32-wasi/stdio.h", "include/stdio.h"):
            if (sysroot / layout).is_file() and any(
                (sysroot / lib).is_file() for lib in ("lib/wasm32-wasi/libc.a", "lib/libc.a")
            ):
                return sysroot
    return None


@cache
def _clang_targets(clang: str) -> str:
    return _run([clang, "-print-targets"]) or ""


def find_c(env: Mapping[str, str] | None = None) -> CToolchain:
    """clang (``$CC`` when it is a clang) with the WebAssembly backend, and wasi-libc."""
    env = os.environ if env is None else env
    names = [env["CC"]] if env.get("CC") else []
    names += ["clang", *(f"clang-{v}" for v in range(20, 13, -1))]
    for name in names:
        path = shutil.which(name)
        if path is None:
            continue
        if "wasm32" not in _clang_targets(path):
            continue
        version = (_run([path, "--version"]) or "").splitlines()
        return CToolchain(Path(path), version[0] if version else "clang", _wasi_sysroot(env))
    raise MissingToolchain(
        "no clang with the WebAssembly (wasm32) backend is installed", INSTALL_HINTS["clang"]
    )


def rust_target_names(target: str) -> tuple[str, ...]:
    """The names a Rust target has had: ``wasm32-wasi`` became ``wasm32-wasip1`` in 1.78."""
    if target in ("wasm32-wasi", "wasm32-wasip1"):
        return ("wasm32-wasip1", "wasm32-wasi")
    return (target,)


@dataclass(frozen=True)
class RustToolchain:
    """A rustc whose sysroot has the target's standard library, and the cargo beside it."""

    rustc: Path
    cargo: Path | None
    version: str
    #: The target's name for this rustc (``wasm32-wasi`` or ``wasm32-wasip1``).
    target: str


def _rustc_candidates(env: Mapping[str, str]) -> Iterable[Path]:
    seen: set[Path] = set()
    names: list[str | Path] = [env["RUSTC"]] if env.get("RUSTC") else []
    names.append("rustc")
    for location in RUSTC_LOCATIONS:
        pattern = Path(location).expanduser()
        names += sorted(Path(pattern.anchor).glob(str(pattern.relative_to(pattern.anchor))))
    for name in names:
        found = shutil.which(str(name))
        if found is None:
            continue
        path = Path(found).resolve()
        if path not in seen:
            seen.add(path)
            yield Path(found)


@cache
def _sysroot(rustc: Path) -> Path | None:
    out = _run([str(rustc), "--print", "sysroot"])
    return Path(out.strip()) if out else None


def find_rust(target: str, env: Mapping[str, str] | None = None) -> RustToolchain:
    """The first rustc (``$RUSTC``, PATH, Debian's, rustup's) that has ``target``'s std."""
    env = os.environ if env is None else env
    tried: list[str] = []
    for rustc in _rustc_candidates(env):
        sysroot = _sysroot(rustc)
        tried.append(str(rustc))
        if sysroot is None:
            continue
        for name in rust_target_names(target):
            if (sysroot / "lib" / "rustlib" / name / "lib").is_dir():
                cargo = rustc.parent / "cargo"
                version = (_run([str(rustc), "--version"]) or "rustc").strip()
                return RustToolchain(rustc, cargo if cargo.exists() else None, version, name)
    where = f" (looked at {', '.join(tried)})" if tried else ""
    raise MissingToolchain(
        f"no rustc with the {target} standard library is installed{where}", INSTALL_HINTS["rustc"]
    )

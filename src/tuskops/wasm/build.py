"""Building C and Rust to WebAssembly: compile, then strip and optimise as separate, measured steps.

``build(source)`` takes a ``.c`` file, a C project directory (every ``.c`` under it, ``include/``
on the include path), a ``.rs`` file or a Cargo crate (a directory with ``Cargo.toml``), and a
target: ``wasm32`` (freestanding: no libc, no entry point, exports chosen by
``__attribute__((export_name("f")))`` / ``#[no_mangle]`` or by a list) or ``wasi`` (wasi-libc /
Rust's std; a command module when the source has a ``main``, otherwise a reactor).

Profiles, as a wasm-pack or Cargo user expects them:

* ``debug``: ``-O0`` with debug info; nothing stripped or optimised afterwards.
* ``release``: ``-O2``; then names and debug info stripped; then ``wasm-opt -O3`` (speed).
* ``size``: ``-Oz``; stripped; then ``wasm-opt -Oz``.

Each step's output size is recorded in :class:`BuildResult` (and printed by the CLI), so what
each step buys is visible. The compilers and binaryen are run as subprocesses: they are the real
tools, and there is no library form of them for Python. The output is written to a temporary
file and renamed into place, so a failed build leaves the previous module untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tuskops.errors import TuskError
from tuskops.wasm.toolchain import (
    INSTALL_HINTS,
    MissingToolchain,
    find_c,
    find_rust,
    find_tool,
)

__all__ = ["PROFILES", "TARGETS", "BuildResult", "BuildStep", "WasmBuildError", "build"]

Profile = Literal["debug", "release", "size"]
Target = Literal["wasm32", "wasi"]
PROFILES: tuple[Profile, ...] = ("debug", "release", "size")
TARGETS: tuple[Target, ...] = ("wasm32", "wasi")

_C_OPT = {"debug": ["-O0", "-g"], "release": ["-O2"], "size": ["-Oz"]}
_RUST_OPT = {"debug": ["-C", "opt-level=0", "-g"], "release": ["-C", "opt-level=2"]}
_RUST_OPT["size"] = ["-C", "opt-level=z"]
_WASM_OPT = {"release": "-O3", "size": "-Oz"}
_RUST_TARGET = {"wasm32": "wasm32-unknown-unknown", "wasi": "wasm32-wasi"}
_MAIN = re.compile(r"\bint\s+main\s*\(|\bfn\s+main\s*\(")


class WasmBuildError(TuskError):
    """The compiler or an optimisation step failed; the message carries its output."""

    def __init__(self, message: str, output: str = "") -> None:
        self.output = output
        super().__init__(f"{message}\n{output}".rstrip() if output else message)


@dataclass(frozen=True)
class BuildStep:
    """One step of a build: what ran and the module's size after it."""

    name: str
    size: int
    command: tuple[str, ...] = ()
    #: Why the step did not run (a missing optional tool), else None.
    skipped: str | None = None


@dataclass(frozen=True)
class BuildResult:
    output: Path
    language: Literal["c", "rust"]
    target: Target
    profile: Profile
    toolchain: str
    steps: tuple[BuildStep, ...] = field(default=())

    @property
    def size(self) -> int:
        return self.output.stat().st_size

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["output"] = str(self.output)
        data["size"] = self.size
        return data


def _language(source: Path) -> Literal["c", "rust"]:
    if source.is_file():
        if source.suffix == ".c":
            return "c"
        if source.suffix == ".rs":
            return "rust"
        raise WasmBuildError(f"{source}: not a .c or .rs file")
    if source.is_dir():
        if (source / "Cargo.toml").is_file():
            return "rust"
        if any(source.rglob("*.c")):
            return "c"
        raise WasmBuildError(f"{source}: neither a Cargo crate nor a directory with .c files")
    raise WasmBuildError(f"{source}: no such file or directory")


def _default_output(source: Path) -> Path:
    if source.is_file():
        return source.with_suffix(".wasm")
    if (source / "Cargo.toml").is_file():
        return source / "dist" / f"{_crate_name(source)[0]}.wasm"
    return source / "dist" / f"{source.resolve().name}.wasm"


def _exec(argv: Sequence[str], what: str, env: Mapping[str, str] | None = None) -> None:
    done = subprocess.run(
        list(argv), capture_output=True, text=True, check=False, env=dict(env) if env else None
    )
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip()
        if "libclang_rt.builtins-wasm32.a" in output:
            raise MissingToolchain(
                "clang's WebAssembly runtime library (compiler-rt builtins) is not installed",
                INSTALL_HINTS["builtins"],
            )
        if "can't find crate for `std`" in output or "can't find crate for `core`" in output:
            raise MissingToolchain(
                "the Rust standard library for this target is missing", INSTALL_HINTS["rustc"]
            )
        raise WasmBuildError(f"{what} failed (exit {done.returncode})", output)


def _c_sources(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    skip = {"dist", "build", "target", "node_modules", ".git"}
    return sorted(
        p for p in source.rglob("*.c") if not skip.intersection(p.relative_to(source).parts)
    )


def _has_main(paths: Sequence[Path]) -> bool:
    return any(_MAIN.search(p.read_text(errors="replace")) for p in paths)


def _compile_c(
    source: Path, target: Target, profile: Profile, exports: Sequence[str], out: Path
) -> tuple[str, tuple[str, ...]]:
    chain = find_c()
    find_tool("wasm-ld")
    sources = _c_sources(source)
    argv = [str(chain.clang), *_C_OPT[profile]]
    if target == "wasm32":
        # No libc to supply memcpy/memset: bulk memory turns the ones the compiler emits (struct
        # copies, zeroing) into memory.copy/memory.fill, which every current engine supports.
        argv += ["--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-mbulk-memory"]
    else:
        argv += ["--target=wasm32-wasi", f"--sysroot={chain.require_wasi()}"]
        if not _has_main(sources):
            argv += ["-mexec-model=reactor"]
    if source.is_dir():
        for include in ("include", "src"):
            if (source / include).is_dir():
                argv.append(f"-I{source / include}")
    argv += [f"-Wl,--export={name}" for name in exports]
    argv += [*map(str, sources), "-o", str(out)]
    _exec(argv, "clang")
    return chain.version, tuple(argv)


def _compile_rust_file(
    source: Path, target: Target, profile: Profile, exports: Sequence[str], out: Path
) -> tuple[str, tuple[str, ...]]:
    chain = find_rust(_RUST_TARGET[target])
    command_module = target == "wasi" and _has_main([source])
    argv = [str(chain.rustc), "--edition=2021", "--target", chain.target]
    argv += ["--crate-type", "bin" if command_module else "cdylib", *_RUST_OPT[profile]]
    argv += [f"-Clink-arg=--export={name}" for name in exports]
    argv += [str(source), "-o", str(out)]
    _exec(argv, "rustc")
    return chain.version, tuple(argv)


def _crate_name(crate: Path) -> tuple[str, bool]:
    """The wasm file's stem cargo writes, and whether the crate builds a library."""
    manifest = tomllib.loads((crate / "Cargo.toml").read_text())
    package = manifest.get("package", {})
    lib = manifest.get("lib", {})
    if not isinstance(package, dict) or "name" not in package:
        raise WasmBuildError(f"{crate / 'Cargo.toml'}: no [package] name")
    name = str(lib.get("name", package["name"]) if isinstance(lib, dict) else package["name"])
    is_lib = (crate / "src" / "lib.rs").is_file() or "lib" in manifest
    return name.replace("-", "_"), is_lib


def _compile_crate(
    crate: Path, target: Target, profile: Profile, exports: Sequence[str], out: Path
) -> tuple[str, tuple[str, ...]]:
    chain = find_rust(_RUST_TARGET[target])
    if chain.cargo is None:
        raise MissingToolchain(f"no cargo beside {chain.rustc}", INSTALL_HINTS["rustc"])
    name, is_lib = _crate_name(crate)
    with tempfile.TemporaryDirectory(prefix="tuskops-cargo-") as target_dir:
        argv = [str(chain.cargo), "build", "--target", chain.target]
        argv += ["--manifest-path", str(crate / "Cargo.toml")]
        if profile != "debug":
            argv += ["--release"]
        if profile == "size":
            argv += ["--config", 'profile.release.opt-level="z"']
        env = dict(os.environ, RUSTC=str(chain.rustc), CARGO_TARGET_DIR=target_dir)
        if exports:
            flags = " ".join(f"-Clink-arg=--export={n}" for n in exports)
            env["RUSTFLAGS"] = f"{env.get('RUSTFLAGS', '')} {flags}".strip()
        _exec(argv, "cargo build", env)
        built = Path(target_dir) / chain.target / ("debug" if profile == "debug" else "release")
        candidates = [built / f"{name}.wasm"]
        if not is_lib:
            candidates += sorted(built.glob("*.wasm"))
        for candidate in candidates:
            if candidate.is_file():
                shutil.copyfile(candidate, out)
                return chain.version, tuple(argv)
    kind = 'a cdylib ([lib] crate-type = ["cdylib"])' if is_lib else "a binary"
    raise WasmBuildError(f"{crate}: cargo built no {name}.wasm; the crate must build {kind}")


def _strip(module: Path) -> BuildStep:
    tool = find_tool("wasm-strip", required=False)
    if tool is not None:
        argv = [str(tool), str(module)]
    else:
        opt = find_tool("wasm-opt", required=False)
        if opt is None:
            hint = f"{INSTALL_HINTS['wasm-strip']} or {INSTALL_HINTS['wasm-opt']}"
            return BuildStep("strip", module.stat().st_size, skipped=f"no wasm-strip ({hint})")
        argv = [str(opt), "--strip-debug", "--strip-producers", str(module), "-o", str(module)]
    _exec(argv, "strip")
    return BuildStep("strip", module.stat().st_size, tuple(argv))


def _optimise(module: Path, profile: Profile) -> BuildStep:
    level = _WASM_OPT[profile]
    tool = find_tool("wasm-opt", required=profile == "size")
    if tool is None:
        reason = f"binaryen's wasm-opt is not installed ({INSTALL_HINTS['wasm-opt']})"
        return BuildStep(f"wasm-opt {level}", module.stat().st_size, skipped=reason)
    # Modules from current compilers use post-MVP features binaryen may reject by default.
    argv = [str(tool), level, "--enable-bulk-memory", "--enable-sign-ext"]
    argv += ["--enable-mutable-globals", "--enable-nontrapping-float-to-int"]
    argv += [str(module), "-o", str(module)]
    _exec(argv, "wasm-opt")
    return BuildStep(f"wasm-opt {level}", module.stat().st_size, tuple(argv))


def build(
    source: Path,
    *,
    output: Path | None = None,
    profile: Profile = "release",
    target: Target = "wasm32",
    exports: Sequence[str] = (),
    progress: Callable[[BuildStep], None] | None = None,
) -> BuildResult:
    """Build ``source`` into ``output`` (default: ``x.wasm`` beside a file, ``dist/NAME.wasm``
    in a directory, NAME being a crate's library name); see the module doc. Raises
    :class:`MissingToolchain` naming what to install, :class:`WasmBuildError` with the
    compiler's output."""
    if profile not in PROFILES:
        raise WasmBuildError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
    if target not in TARGETS:
        raise WasmBuildError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    language = _language(source)
    target_path = output if output is not None else _default_output(source)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    steps: list[BuildStep] = []

    def record(step: BuildStep) -> None:
        steps.append(step)
        if progress is not None:
            progress(step)

    with tempfile.TemporaryDirectory(prefix="tuskops-wasm-") as scratch:
        module = Path(scratch) / "module.wasm"
        if language == "c":
            version, argv = _compile_c(source, target, profile, exports, module)
        elif source.is_file():
            version, argv = _compile_rust_file(source, target, profile, exports, module)
        else:
            version, argv = _compile_crate(source, target, profile, exports, module)
        record(BuildStep("compile", module.stat().st_size, argv))
        if profile != "debug":
            record(_strip(module))
            record(_optimise(module, profile))
        partial = target_path.with_name(f".{target_path.name}.partial")
        shutil.copyfile(module, partial)
        os.replace(partial, target_path)
    return BuildResult(target_path, language, target, profile, version, tuple(steps))

"""Building C and Rust to wasm with the real toolchains; the modules are run by wasmtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import wasmtime

from tuskops.wasm.build import BuildStep, WasmBuildError, build
from tuskops.wasm.toolchain import MissingToolchain, find_c, find_rust

ADD_C = '__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }\n'
LISTED_C = "int twice(int x) { return 2 * x; }\n"
HELLO_C = (
    "#include <stdio.h>\n"
    'int main(int argc, char **argv) { printf("hello %s\\n", argc > 1 ? argv[1] : "world");'
    " return 0; }\n"
)
FIB_RS = (
    "#[no_mangle]\n"
    'pub extern "C" fn fib(n: u32) -> u64 {\n'
    "    let (mut a, mut b) = (0u64, 1u64);\n"
    "    for _ in 0..n { let t = a + b; a = b; b = t; }\n"
    "    a\n"
    "}\n"
)


def need_c(wasi: bool = False) -> None:
    try:
        chain = find_c()
        if wasi:
            chain.require_wasi()
    except MissingToolchain as exc:
        pytest.skip(str(exc))
    if shutil.which("wasm-opt") is None:
        pytest.skip("binaryen's wasm-opt is not installed (apt-get install binaryen)")


def need_rust(target: str) -> None:
    try:
        find_rust(target)
    except MissingToolchain as exc:
        pytest.skip(str(exc))


def call(module: Path, name: str, *args: int) -> object:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module.from_file(engine, str(module)), [])
    function = instance.exports(store)[name]
    assert isinstance(function, wasmtime.Func)
    return function(store, *args)


def export_names(module: Path) -> set[str]:
    return {e.name for e in wasmtime.Module.from_file(wasmtime.Engine(), str(module)).exports}


def run_wasi(module: Path, *args: str, tmp_path: Path) -> str:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    config = wasmtime.WasiConfig()
    config.argv = ["prog", *args]
    out = tmp_path / "stdout"
    config.stdout_file = str(out)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(module)))
    start = instance.exports(store)["_start"]
    assert isinstance(start, wasmtime.Func)
    start(store)
    return out.read_text()


@pytest.mark.parametrize("profile", ["debug", "release", "size"])
def test_freestanding_c_with_an_attribute_export(tmp_path: Path, profile: str) -> None:
    need_c()
    source = tmp_path / "add.c"
    source.write_text(ADD_C)
    seen: list[BuildStep] = []
    result = build(source, profile=profile, progress=seen.append)  # type: ignore[arg-type]
    assert result.output == tmp_path / "add.wasm"
    assert call(result.output, "add", 2, 40) == 42
    names = [s.name for s in result.steps]
    if profile == "debug":
        assert names == ["compile"]
    else:
        level = "-O3" if profile == "release" else "-Oz"
        assert names == ["compile", "strip", f"wasm-opt {level}"]
        assert result.steps[1].size < result.steps[0].size  # names and producers removed
        assert all(s.skipped is None for s in result.steps)
    assert seen == list(result.steps)
    assert result.steps[-1].size == result.size


def test_exports_by_list(tmp_path: Path) -> None:
    need_c()
    source = tmp_path / "twice.c"
    source.write_text(LISTED_C)
    result = build(source, exports=["twice"], output=tmp_path / "out" / "t.wasm")
    assert call(result.output, "twice", 21) == 42
    assert export_names(result.output) >= {"twice"}


def test_a_c_project_directory(tmp_path: Path) -> None:
    need_c()
    project = tmp_path / "mathlib"
    (project / "include").mkdir(parents=True)
    (project / "src").mkdir()
    (project / "include" / "sq.h").write_text("int sq(int x);\n")
    (project / "src" / "sq.c").write_text('#include "sq.h"\nint sq(int x) { return x * x; }\n')
    (project / "src" / "api.c").write_text(
        '#include "sq.h"\n__attribute__((export_name("hyp2"))) int hyp2(int a, int b)'
        " { return sq(a) + sq(b); }\n"
    )
    result = build(project)
    assert result.output == project / "dist" / "mathlib.wasm"
    assert call(result.output, "hyp2", 3, 4) == 25


def test_wasi_c_command(tmp_path: Path) -> None:
    need_c(wasi=True)
    source = tmp_path / "hello.c"
    source.write_text(HELLO_C)
    result = build(source, target="wasi", profile="size")
    assert run_wasi(result.output, "tusk", tmp_path=tmp_path) == "hello tusk\n"
    assert result.steps[0].size > 2 * result.size  # stripping wasi-libc's names matters


def test_a_compile_error_carries_the_compiler_output_and_keeps_the_old_module(
    tmp_path: Path,
) -> None:
    need_c()
    source = tmp_path / "bad.c"
    source.write_text(ADD_C)
    build(source)
    before = (tmp_path / "bad.wasm").read_bytes()
    source.write_text("int broken( {\n")
    with pytest.raises(WasmBuildError) as info:
        build(source)
    assert "clang failed" in str(info.value)
    assert "bad.c:1" in str(info.value)
    assert (tmp_path / "bad.wasm").read_bytes() == before
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.parametrize("profile", ["debug", "size"])
def test_a_rust_file(tmp_path: Path, profile: str) -> None:
    need_rust("wasm32-unknown-unknown")
    source = tmp_path / "fib.rs"
    source.write_text(FIB_RS)
    result = build(source, profile=profile)  # type: ignore[arg-type]
    assert result.language == "rust"
    assert result.toolchain.startswith("rustc")
    assert call(result.output, "fib", 50) == 12586269025


def test_a_cargo_crate(tmp_path: Path) -> None:
    need_rust("wasm32-unknown-unknown")
    crate = tmp_path / "kernel"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "my-kernel"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[lib]\ncrate-type = ["cdylib"]\n'
    )
    (crate / "src" / "lib.rs").write_text(FIB_RS)
    result = build(crate, profile="release")
    assert result.output == crate / "dist" / "my_kernel.wasm"
    assert call(result.output, "fib", 10) == 55


def test_a_rust_wasi_command(tmp_path: Path) -> None:
    need_rust("wasm32-wasi")
    source = tmp_path / "main.rs"
    source.write_text('fn main() { println!("args {}", std::env::args().count()); }\n')
    result = build(source, target="wasi")
    assert run_wasi(result.output, "a", "b", tmp_path=tmp_path) == "args 3\n"


def test_bad_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(WasmBuildError, match="no such file"):
        build(tmp_path / "missing.c")
    (tmp_path / "x.go").write_text("package main\n")
    with pytest.raises(WasmBuildError, match=r"not a \.c or \.rs file"):
        build(tmp_path / "x.go")
    with pytest.raises(WasmBuildError, match="unknown profile"):
        build(tmp_path / "x.go", profile="fast")  # type: ignore[arg-type]

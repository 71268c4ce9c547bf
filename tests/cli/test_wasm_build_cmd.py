"""`tuskops wasm build`: steps with sizes, JSON, and the exit codes of a compile error and of a
missing toolchain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tuskops.wasm import toolchain
from tuskops.wasm.toolchain import MissingToolchain, find_c

Run = Callable[..., Result]

ADD_C = '__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }\n'


@pytest.fixture
def add_c(tmp_path: Path) -> Path:
    try:
        find_c()
    except MissingToolchain as exc:
        pytest.skip(str(exc))
    source = tmp_path / "add.c"
    source.write_text(ADD_C)
    return source


def test_build_reports_each_step(run: Run, add_c: Path) -> None:
    result = run("wasm", "build", add_c, "--profile", "size")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"Building {add_c} (wasm32, size)"
    assert [line.split()[0] for line in lines[1:4]] == ["compile", "strip", "wasm-opt"]
    assert "bytes" in lines[2]
    assert "%)" in lines[2]  # the change from the step before
    assert result.stdout.startswith(f"Built {add_c.with_suffix('.wasm')} (c, ")
    assert add_c.with_suffix(".wasm").read_bytes()[:4] == b"\0asm"


def test_build_json(run: Run, add_c: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "m.wasm"
    result = run("wasm", "build", add_c, "--out", out, "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output"] == str(out)
    assert data["size"] == out.stat().st_size
    assert [s["name"] for s in data["steps"]] == ["compile", "strip", "wasm-opt -O3"]
    assert data["language"] == "c"


def test_a_compile_error_exits_1_with_the_compiler_output(run: Run, add_c: Path) -> None:
    add_c.write_text("int broken( {\n")
    result = run("wasm", "build", add_c)
    assert result.exit_code == 1
    assert "clang failed" in result.stderr
    assert "add.c:1" in result.stderr
    assert not add_c.with_suffix(".wasm").exists()


def test_a_missing_toolchain_exits_3_naming_the_package(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "lib.rs"
    source.write_text('#[no_mangle] pub extern "C" fn f() -> i32 { 1 }\n')
    monkeypatch.setattr(toolchain, "RUSTC_LOCATIONS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("wasm", "build", source)
    assert result.exit_code == 3
    assert "no rustc with the wasm32-unknown-unknown standard library" in result.stderr
    assert "libstd-rust-dev-wasm32" in result.stderr

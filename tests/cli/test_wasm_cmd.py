from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tuskops.cli.wasm_cmd import parse_duration, parse_memory
from wasm.wasm_fixtures import IMPORTS_WAT, MATH_WAT, wasi_tool, write_module

Run = Callable[..., Result]


@pytest.fixture
def math(tmp_path: Path) -> Path:
    return write_module(tmp_path, "math.wasm", MATH_WAT)


# --- inspect ----------------------------------------------------------------------------------


def test_inspect_text_shows_types_sections_and_sizes(run: Run, math: Path) -> None:
    result = run("wasm", "inspect", math)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"{math} (module $math): {math.stat().st_size} bytes, valid" in out
    assert "(i32, i32) -> i32" in out  # add
    assert "tuskops.note" in out
    assert "Size by section" in out
    total_line = next(line for line in out.splitlines() if "total" in line)
    assert str(math.stat().st_size) in total_line


def test_inspect_json(run: Run, tmp_path: Path) -> None:
    module = write_module(tmp_path, "imports.wasm", IMPORTS_WAT)
    result = run("wasm", "inspect", module, "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["bytes"] == module.stat().st_size
    assert sum(s["bytes"] for s in data["sections"]) == data["bytes"]
    log = next(i for i in data["imports"] if i["name"] == "log")
    assert log["type"] == {"params": ["i32", "i64"], "results": ["f32"]}


def test_inspect_a_file_that_is_not_wasm(run: Run, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.wasm"
    bogus.write_text("#!/bin/sh\n")
    result = run("wasm", "inspect", bogus)
    assert result.exit_code == 2
    assert "not a WebAssembly module" in result.stderr
    assert str(bogus) in result.stderr


def test_inspect_an_invalid_module_names_the_problem(run: Run, tmp_path: Path) -> None:
    bad = write_module(tmp_path, "bad.wasm", "(module (func (result i32) i64.const 1))")
    result = run("wasm", "inspect", bad)
    assert result.exit_code == 2
    assert "type mismatch: expected i32, found i64" in result.stderr
    assert "in the code section" in result.stderr


# --- run --invoke -----------------------------------------------------------------------------


def test_invoke_numbers(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "add", "40", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "42\n"
    # Negative numbers are arguments, not options.
    assert run("wasm", "run", math, "--invoke", "add", "-40", "2").stdout == "-38\n"
    assert run("wasm", "run", math, "--invoke", "half", "1.5").stdout == "0.75\n"


def test_invoke_string_through_the_abi(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "upper", "str:hello", "--returns", "str")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "HELLO\n"


def test_invoke_bad_argument_explains(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "upper", "hello")
    assert result.exit_code == 2
    assert "to pass a string write str:hello" in result.stderr


def test_trap_exit_code_and_message(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "div", "1", "0")
    assert result.exit_code == 134
    assert "error: wasm trap: integer divide by zero" in result.stderr
    assert "wasm backtrace" in result.stderr


def test_fuel_exhausted_exit_code(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "spin", "--fuel", "5000", "--timeout", "off")
    assert result.exit_code == 120
    assert "fuel exhausted: all 5000 units" in result.stderr


def test_timeout_exit_code(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "spin", "--timeout", "200ms")
    assert result.exit_code == 124
    assert "timeout: interrupted after 0.2s" in result.stderr


def test_memory_limit_exit_code(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "hog", "--max-memory", "512KiB")
    assert result.exit_code == 121
    assert "memory limit exceeded: limit of 8 pages (512 KiB)" in result.stderr


def test_bad_limits_are_usage_errors(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--invoke", "add", "1", "2", "--timeout", "soon")
    assert result.exit_code == 2
    assert "--timeout" in result.stderr


def test_limit_syntax() -> None:
    assert parse_memory("64MiB") == 1024
    assert parse_memory("100") == 100
    assert parse_memory("1 page") == 1
    assert parse_memory("100KiB") == 2  # rounded up to whole pages
    assert parse_memory("off") is None
    assert parse_duration("5s") == 5.0
    assert parse_duration("250ms") == 0.25
    assert parse_duration("2m") == 120.0
    assert parse_duration("off") is None


# --- run a WASI command -----------------------------------------------------------------------


def test_run_wasi_with_args_env_and_stdin(run: Run, tmp_path: Path) -> None:
    tool = wasi_tool()
    stdin = tmp_path / "in.txt"
    stdin.write_text("quiet")
    result = run(
        "wasm", "run", tool, "--env", "GREETING=hey", "--stdin", stdin, "--", "hello", "--flag"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "argc=3 [--flag]",
        "GREETING=hey",
        "HOME=(unset)",
        "QUIET",
    ]
    assert "to stderr" in result.stderr


def test_run_stdin_from_tuskops_stdin(run: Run) -> None:
    result = run("wasm", "run", wasi_tool(), "--stdin", "-", "hello", input="piped")
    assert result.stdout.splitlines()[-1] == "PIPED"


def test_run_exit_status_passes_through(run: Run) -> None:
    result = run("wasm", "run", wasi_tool(), "exit", "5")
    assert result.exit_code == 5
    assert "module exited with status 5" in result.stderr


def test_run_dirs_read_only_by_default(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("payload\n")
    grant = f"{data}::/data"
    read = run("wasm", "run", wasi_tool(), "--dir", grant, "read", "/data/in.txt")
    assert read.exit_code == 0, read.stderr
    assert read.stdout == "payload\n"

    denied = run("wasm", "run", wasi_tool(), "--dir", grant, "write", "/data/new.txt")
    assert denied.exit_code == 3
    assert "cannot open" in denied.stderr
    assert not (data / "new.txt").exists()

    allowed = run("wasm", "run", wasi_tool(), "--dir", f"{grant}:rw", "write", "/data/new.txt")
    assert allowed.exit_code == 0, allowed.stderr
    assert (data / "new.txt").read_text() == "written by wasm\n"

    no_grant = run("wasm", "run", wasi_tool(), "read", "/data/in.txt")
    assert no_grant.exit_code == 3


def test_run_help_has_examples(run: Run) -> None:
    result = run("wasm", "run", "--help")
    assert result.exit_code == 0
    assert "tuskops wasm run tool.wasm --dir ./data::/data" in result.stdout
    assert "134 a trap" in result.stdout


def test_returns_needs_invoke(run: Run, math: Path) -> None:
    result = run("wasm", "run", math, "--returns", "str")
    assert result.exit_code == 2
    assert "--returns applies to --invoke only" in result.stderr

"""@wasm in .tsk files: build as an artifact resource (plan shows the recipe, apply compiles),
call and call_string at evaluation time under strict limits, inspect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wasmtime
from click.testing import CliRunner, Result

import tuskops
from tuskops.cli.main import cli
from tuskops.errors import LangError
from tuskops.wasm.toolchain import MissingToolchain, find_c

ADD_C = '__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }\n'

#: A module with the memory ABI: alloc/dealloc, and `shout` upper-casing ASCII in place.
ABI_WAT = """
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $ptr))
  (func (export "dealloc") (param i32 i32))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "spin") (loop $l (br $l)))
  (func (export "shout") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97))
                     (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $ptr) (local.get $i))
                            (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
"""

CLOCK_WAT = """
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "now") (result i32) (call $t (i32.const 0) (i64.const 1) (i32.const 0)))
)
"""


def evaluate(directory: Path, text: str) -> dict[str, object]:
    path = directory / "app.tsk"
    path.write_text(text)
    return dict(tuskops.load(path).data)


def cli_run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    (tmp_path / "abi.wasm").write_bytes(wasmtime.wat2wasm(ABI_WAT))
    (tmp_path / "clock.wasm").write_bytes(wasmtime.wat2wasm(CLOCK_WAT))
    return tmp_path


def test_call_and_call_string_at_evaluation(modules: Path) -> None:
    doc = evaluate(
        modules,
        'sum: @wasm.call("abi.wasm", "add", 2, 40)\n'
        'loud: @wasm.call_string("abi.wasm", "shout", "hello tusk")\n'
        'info: @wasm.inspect("abi.wasm")\n',
    )
    assert doc["sum"] == 42
    assert doc["loud"] == "HELLO TUSK"
    info = doc["info"]
    assert isinstance(info, dict)
    exports = info["exports"]
    assert {e["name"] for e in exports} >= {"add", "shout", "alloc", "memory"}


def test_a_runaway_call_is_stopped_by_the_strict_fuel_limit(modules: Path) -> None:
    with pytest.raises(LangError) as info:
        evaluate(modules, 'x: @wasm.call("abi.wasm", "spin")\n')
    assert "app.tsk:1:4" in str(info.value)
    assert "fuel" in str(info.value)


def test_a_module_that_reads_the_clock_is_refused(modules: Path) -> None:
    with pytest.raises(LangError) as info:
        evaluate(modules, 'x: @wasm.call("clock.wasm", "now")\n')
    assert "imports wasi_snapshot_preview1.clock_time_get" in str(info.value)
    assert "without clocks or randomness" in str(info.value)


def test_missing_modules_and_functions_are_named(modules: Path) -> None:
    with pytest.raises(LangError, match=r"no module 'nope\.wasm'"):
        evaluate(modules, 'x: @wasm.call("nope.wasm", "f")\n')
    with pytest.raises(LangError, match="export 'nope' does not exist"):
        evaluate(modules, 'x: @wasm.call("abi.wasm", "nope")\n')


def test_build_spec_errors_point_at_the_call(tmp_path: Path) -> None:
    (tmp_path / "add.c").write_text(ADD_C)
    for spec, message in (
        ('{source: "missing.c"}', "does not exist"),
        ('{source: "add.c", profile: "fast"}', "profile must be one of"),
        ('{source: "add.c", path: "../out.wasm"}', "must stay inside the target"),
        ('{source: "add.c", optimise: true}', "unknown key 'optimise'"),
    ):
        with pytest.raises(LangError, match=message):
            evaluate(tmp_path, f"m: @wasm.build({spec})\n")


def test_build_is_planned_applied_and_rebuilt_only_when_the_source_changes(
    tmp_path: Path,
) -> None:
    try:
        find_c()
    except MissingToolchain as exc:
        pytest.skip(str(exc))
    (tmp_path / "add.c").write_text(ADD_C)
    config = tmp_path / "app.tsk"
    config.write_text(
        "#!target dir ./deploy\n"
        'math: @wasm.build({source: "add.c", profile: "size", path: "public/add.wasm"})\n'
    )
    plan = cli_run("plan", config)
    assert plan.exit_code == 0, plan.stderr
    assert "+ create wasm/module/public/add.wasm" in plan.stdout
    assert '+ profile: "size"' in plan.stdout
    assert "+ source_sha256: " in plan.stdout
    assert not (tmp_path / "deploy").exists()  # planning builds nothing

    applied = cli_run("apply", config, "--yes")
    assert applied.exit_code == 0, applied.stderr
    module = tmp_path / "deploy" / "public" / "add.wasm"
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module.from_file(engine, str(module)), [])
    add = instance.exports(store)["add"]
    assert isinstance(add, wasmtime.Func)
    assert add(store, 20, 22) == 42
    index = json.loads((tmp_path / "deploy" / ".tuskops" / "managed.json").read_text())
    entry = index["resources"]["wasm/module/public/add.wasm"]
    assert entry["format"] == "artifact"
    assert entry["recipe"]["source"] == "add.c"
    assert entry["recipe"]["profile"] == "size"

    assert cli_run("plan", config, "--detailed-exitcode").exit_code == 0  # nothing to do
    (tmp_path / "add.c").write_text(ADD_C.replace("a + b", "a + b + 1"))
    changed = cli_run("plan", config, "--detailed-exitcode")
    assert changed.exit_code == 3
    assert "~ update wasm/module/public/add.wasm" in changed.stdout
    assert "source_sha256" in changed.stdout
    assert cli_run("apply", config, "--yes").exit_code == 0
    instance = wasmtime.Instance(store, wasmtime.Module.from_file(engine, str(module)), [])
    add = instance.exports(store)["add"]
    assert isinstance(add, wasmtime.Func)
    assert add(store, 20, 22) == 43

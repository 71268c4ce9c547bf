from __future__ import annotations

import io
from pathlib import Path

import pytest

from tuskops.errors import TuskError
from tuskops.wasm.abi import pack, unpack
from tuskops.wasm.errors import (
    FuelExhausted,
    InvalidModuleError,
    MemoryLimitExceeded,
    WasmArgumentError,
    WasmExit,
    WasmTimeout,
    WasmTrap,
)
from tuskops.wasm.sandbox import DirGrant, Limits, Sandbox, WasiOptions, invoke, run_wasi
from wasm.wasm_fixtures import MATH_WAT, abi_module, wasi_tool, wat

MATH = wat(MATH_WAT)


# --- numbers and the memory ABI ---------------------------------------------------------------


def test_numbers_in_and_out() -> None:
    box = Sandbox()
    assert box.call(MATH, "add", 2, 40) == 42
    assert box.call(MATH, "add", -5, 3) == -2
    assert box.call(MATH, "add64", 2**40, 1) == 2**40 + 1
    assert box.call(MATH, "half", 3.0) == 1.5
    # An unsigned 32-bit value wraps as wasm sees it.
    assert box.call(MATH, "add", 0xFFFFFFFF, 1) == 0


def test_string_in_string_out_through_the_memory_abi() -> None:
    assert Sandbox().call(MATH, "upper", "Hello, wasm!", returns="str") == "HELLO, WASM!"
    assert Sandbox().call(MATH, "upper", b"abc\x00z", returns="bytes") == b"ABC\x00Z"
    assert Sandbox().call(MATH, "upper", "", returns="str") == ""


def test_pack_and_unpack_agree() -> None:
    for ptr, length in [(0, 0), (1024, 5), (0xFFFFFFFF, 0xFFFFFFFF), (0x80000000, 1)]:
        assert unpack(pack(ptr, length)) == (ptr, length)
    assert pack(1, 2) == (1 << 32) | 2


def test_cli_words_are_converted_by_parameter_types() -> None:
    box = Sandbox()
    assert box.invoke(MATH, "add", ["0x10", "-1"], cli_args=True).value == 15
    assert box.invoke(MATH, "half", ["5"], cli_args=True).value == 2.5
    result = box.invoke(MATH, "upper", ["str:shout"], cli_args=True, returns="str")
    assert result.value == "SHOUT"
    assert box.invoke(MATH, "upper", ["hex:6162"], cli_args=True, returns="bytes").value == b"AB"


def test_argument_errors_are_clear() -> None:
    box = Sandbox()
    with pytest.raises(WasmArgumentError, match=r"takes 2 parameter\(s\) \(i32, i32\), got 1"):
        box.call(MATH, "add", 1)
    with pytest.raises(WasmArgumentError, match="to pass a string write str:hello"):
        box.invoke(MATH, "upper", ["hello"], cli_args=True)
    with pytest.raises(WasmArgumentError, match="'nope' does not exist; functions exported:"):
        box.call(MATH, "nope")
    with pytest.raises(WasmArgumentError, match="not an i64"):
        box.call(MATH, "add", 1, 2, returns="str")
    with pytest.raises(WasmArgumentError, match="does not fit in i32"):
        box.call(MATH, "add", 2**40, 1)
    no_abi = wat('(module (func (export "f") (param i32 i32)))')
    with pytest.raises(WasmArgumentError, match="does not export 'memory' and 'alloc'"):
        box.call(no_abi, "f", "text")


# --- traps and limits --------------------------------------------------------------------------


def test_a_trap_names_its_reason_and_backtrace() -> None:
    with pytest.raises(WasmTrap) as exc:
        Sandbox().call(MATH, "deep")
    err = exc.value
    assert type(err) is WasmTrap
    assert "unreachable" in err.trap
    # Innermost first: $boom has a name in the name section, the unnamed caller an index.
    assert [f.split(" ", 1)[1] for f in err.backtrace] == ["boom", "<wasm function 7>"]
    assert all(f.startswith("0x") for f in err.backtrace)
    assert "wasm backtrace" in str(err)
    assert err.exit_code == 134


def test_division_by_zero_traps() -> None:
    with pytest.raises(WasmTrap, match="integer divide by zero") as exc:
        Sandbox().call(MATH, "div", 1, 0)
    assert exc.value.exit_code == 134


def test_an_infinite_loop_runs_out_of_fuel() -> None:
    box = Sandbox(Limits(fuel=100_000, timeout_seconds=None))
    with pytest.raises(FuelExhausted, match="all 100000 units of fuel consumed") as exc:
        box.call(MATH, "spin")
    assert exc.value.exit_code == 120
    assert isinstance(exc.value, TuskError)


def test_an_infinite_loop_without_fuel_is_stopped_by_the_epoch_timeout() -> None:
    box = Sandbox(Limits(fuel=None, timeout_seconds=0.2))
    with pytest.raises(WasmTimeout, match=r"interrupted after 0\.2s") as exc:
        box.call(MATH, "spin")
    assert exc.value.exit_code == 124
    # The sandbox is usable again afterwards: the next call gets a fresh deadline.
    assert box.call(MATH, "add", 1, 1) == 2


def test_growing_memory_past_the_limit_is_a_memory_error() -> None:
    box = Sandbox(Limits(memory_pages=8))
    with pytest.raises(MemoryLimitExceeded, match="limit of 8 pages") as exc:
        box.call(MATH, "hog")
    assert exc.value.exit_code == 121
    # Below the limit the module grows as it likes.
    assert Sandbox(Limits(memory_pages=8)).call(MATH, "pages") == 1


def test_a_module_needing_more_memory_than_granted_fails_to_start() -> None:
    big = wat('(module (memory 20) (func (export "f")))')
    with pytest.raises(MemoryLimitExceeded, match="limit of 4 pages"):
        Sandbox(Limits(memory_pages=4)).call(big, "f")


def test_fuel_use_is_reported() -> None:
    result = Sandbox(Limits(fuel=1_000_000)).invoke(MATH, "add", [1, 2])
    assert result.value == 3
    assert result.fuel_consumed is not None
    assert 0 < result.fuel_consumed < 1_000_000


def test_each_call_starts_from_a_fresh_instance() -> None:
    box = Sandbox(Limits(memory_pages=100))
    assert box.call(MATH, "upper", "x" * 1000, returns="str") == "X" * 1000
    # The bump allocator's state is not carried over: memory is back to its initial size.
    assert box.call(MATH, "pages") == 1


def test_strict_limits_for_evaluation_time_calls() -> None:
    limits = Limits.strict()
    assert limits.fuel is not None
    assert limits.memory_pages is not None
    assert limits.timeout_seconds is not None
    with pytest.raises(FuelExhausted):
        Sandbox(limits).call(MATH, "spin")
    assert invoke(MATH, "add", 1, 2, limits=limits) == 3


def test_imports_other_than_wasi_are_refused_by_name() -> None:
    needs_env = wat('(module (import "env" "log" (func)) (func (export "f")))')
    with pytest.raises(WasmArgumentError, match=r"imports 'env.log'"):
        Sandbox().call(needs_env, "f")


def test_an_invalid_module_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.wasm"
    path.write_bytes(b"MZ\x90\x00")
    with pytest.raises(InvalidModuleError, match="not a WebAssembly module"):
        Sandbox().call(path, "f")


def test_compiled_modules_are_cached_by_file(tmp_path: Path) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(MATH)
    box = Sandbox()
    assert box.compile(path) is box.compile(path)
    assert box.compile(MATH) is box.compile(bytes(MATH))


# --- WASI: args, env, stdio, directories -------------------------------------------------------


def test_wasi_args_env_and_stdin() -> None:
    tool = wasi_tool()
    result = run_wasi(
        tool,
        wasi=WasiOptions(args=["hello", "a b", "c"], env={"GREETING": "hi"}, stdin=b"shout\n"),
    )
    assert result.exit_code == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "argc=4 [a b] [c]"
    assert lines[1] == "GREETING=hi"
    # Nothing is inherited from this process's environment.
    assert lines[2] == "HOME=(unset)"
    assert lines[3] == "SHOUT"
    assert result.stderr == b"to stderr\n"


def test_wasi_stdout_can_stream_to_a_given_file() -> None:
    tool = wasi_tool()
    sink, errors = io.BytesIO(), io.BytesIO()
    result = run_wasi(tool, wasi=WasiOptions(args=["hello"], stdout=sink, stderr=errors))
    assert result.stdout == b""
    assert sink.getvalue().startswith(b"argc=2")
    assert errors.getvalue() == b"to stderr\n"


def test_stdin_from_a_file(tmp_path: Path) -> None:
    tool = wasi_tool()
    (tmp_path / "in.txt").write_text("from a file")
    result = run_wasi(tool, wasi=WasiOptions(args=["hello"], stdin=tmp_path / "in.txt"))
    assert result.stdout.decode().splitlines()[-1] == "FROM A FILE"


def test_proc_exit_status_is_a_wasm_exit() -> None:
    tool = wasi_tool()
    with pytest.raises(WasmExit) as exc:
        run_wasi(tool, wasi=WasiOptions(args=["exit", "7"]))
    assert exc.value.code == 7
    assert exc.value.exit_code == 7
    assert run_wasi(tool, wasi=WasiOptions(args=["exit", "0"])).exit_code == 0


def test_abort_in_c_is_a_trap() -> None:
    with pytest.raises(WasmTrap, match="unreachable"):
        run_wasi(wasi_tool(), wasi=WasiOptions(args=["abort"]))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "in.txt").write_text("host data\n")
    return d


def test_a_granted_directory_can_be_read(data_dir: Path) -> None:
    result = run_wasi(
        wasi_tool(),
        wasi=WasiOptions(args=["read", "/data/in.txt"], dirs=[DirGrant(data_dir, "/data")]),
    )
    assert result.stdout == b"host data\n"


def test_a_read_only_directory_refuses_writes(data_dir: Path) -> None:
    with pytest.raises(WasmExit) as exc:
        run_wasi(
            wasi_tool(),
            wasi=WasiOptions(args=["write", "/data/out.txt"], dirs=[DirGrant(data_dir, "/data")]),
        )
    assert exc.value.code == 3
    assert b"cannot open" in exc.value.stderr
    assert not (data_dir / "out.txt").exists()


def test_a_writable_directory_allows_writes(data_dir: Path) -> None:
    grant = DirGrant(data_dir, "/data", writable=True)
    result = run_wasi(wasi_tool(), wasi=WasiOptions(args=["write", "/data/out.txt"], dirs=[grant]))
    assert result.stdout == b"wrote\n"
    assert (data_dir / "out.txt").read_text() == "written by wasm\n"


def test_without_a_grant_the_filesystem_is_out_of_reach(data_dir: Path) -> None:
    for path in ["/data/in.txt", str(data_dir / "in.txt")]:
        with pytest.raises(WasmExit) as exc:
            run_wasi(wasi_tool(), wasi=WasiOptions(args=["read", path]))
        assert b"cannot open" in exc.value.stderr


def test_a_grant_does_not_reach_outside_its_directory(data_dir: Path) -> None:
    (data_dir.parent / "secret.txt").write_text("secret")
    with pytest.raises(WasmExit) as exc:
        run_wasi(
            wasi_tool(),
            wasi=WasiOptions(
                args=["read", "/data/../secret.txt"], dirs=[DirGrant(data_dir, "/data")]
            ),
        )
    assert b"secret" not in exc.value.stdout


def test_dir_grant_syntax() -> None:
    assert DirGrant.parse("./in::/in") == DirGrant(Path("./in"), "/in", False)
    assert DirGrant.parse("/srv/out::/out:rw") == DirGrant(Path("/srv/out"), "/out", True)
    assert DirGrant.parse("a::/b:ro") == DirGrant(Path("a"), "/b", False)
    with pytest.raises(WasmArgumentError, match="HOST::GUEST"):
        DirGrant.parse("/just/a/path")


def test_a_missing_host_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WasmArgumentError, match="not a directory"):
        run_wasi(
            wasi_tool(),
            wasi=WasiOptions(args=["hello"], dirs=[DirGrant(tmp_path / "nope", "/x")]),
        )


def test_a_reactor_without_start_is_not_a_command() -> None:
    with pytest.raises(WasmArgumentError, match="no '_start' export"):
        run_wasi(MATH)


def test_the_c_example_of_the_memory_abi_works() -> None:
    # The C side of the ABI exactly as docs/wasm.md shows it; _initialize runs first.
    box = Sandbox(Limits.strict())
    assert box.call(abi_module(), "upper", "memory abi", returns="str") == "MEMORY ABI"
    assert box.call(abi_module(), "upper", "x" * 100_000, returns="str") == "X" * 100_000


def test_malloc_failing_at_the_limit_in_c_is_a_memory_error() -> None:
    limits = Limits(memory_pages=64, timeout_seconds=30)
    with pytest.raises(MemoryLimitExceeded, match="limit of 64 pages") as exc:
        run_wasi(wasi_tool(), limits=limits, wasi=WasiOptions(args=["hog", "1000"]))
    assert exc.value.stderr == b"malloc failed\n"


def test_a_trap_with_memory_near_the_limit_says_so() -> None:
    # One big request refused while half the memory is free: whether that caused the trap is
    # not known, so it stays a trap, with the memory use in the message.
    limits = Limits(memory_pages=64, timeout_seconds=30)
    with pytest.raises(WasmTrap, match=r"of 64 pages in use; if a memory.grow was refused") as exc:
        run_wasi(wasi_tool(), limits=limits, wasi=WasiOptions(args=["hog", "3000000"]))
    assert type(exc.value) is WasmTrap


def test_a_deterministic_call_refuses_clocks_and_randomness() -> None:
    clocky = wat(
        '(module (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))'
        ' (func (export "f") (result i32) i32.const 1))'
    )
    assert Sandbox().call(clocky, "f") == 1
    with pytest.raises(WasmArgumentError, match=r"imports wasi_snapshot_preview1\.random_get"):
        Sandbox().call(clocky, "f", deterministic=True)
    assert Sandbox().call(MATH, "add", 1, 2, deterministic=True) == 3

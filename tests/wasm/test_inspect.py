from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.errors import TuskError
from tuskops.wasm.errors import InvalidModuleError
from tuskops.wasm.inspect import FuncSig, GlobalInfo, MemoryInfo, TableInfo, inspect_module
from wasm.wasm_fixtures import IMPORTS_WAT, MATH_WAT, MEMORY64_WAT, wasi_tool, wat


def test_exports_carry_full_function_types() -> None:
    info = inspect_module(wat(MATH_WAT))
    assert info.export("add") is not None
    add = info.export("add")
    assert add is not None
    assert add.kind == "func"
    assert add.type == FuncSig(("i32", "i32"), ("i32",))
    assert str(add.type) == "(i32, i32) -> i32"
    upper = info.export("upper")
    assert upper is not None
    assert upper.type == FuncSig(("i32", "i32"), ("i64",))
    boom = info.export("boom")
    assert boom is not None
    assert str(boom.type) == "() -> ()"
    half = info.export("half")
    assert half is not None
    assert half.type == FuncSig(("f64",), ("f64",))
    memory = info.export("memory")
    assert memory is not None
    assert memory.kind == "memory"
    assert isinstance(memory.type, MemoryInfo)
    assert (memory.type.min_pages, memory.type.max_pages) == (1, 1000)
    assert info.imports == ()


def test_imports_of_every_kind_tables_and_globals() -> None:
    info = inspect_module(wat(IMPORTS_WAT))
    kinds = {(i.module, i.name): (i.kind, i.type) for i in info.imports}
    assert kinds[("env", "log")] == ("func", FuncSig(("i32", "i64"), ("f32",)))
    kind, mem = kinds[("env", "mem")]
    assert kind == "memory"
    assert isinstance(mem, MemoryInfo)
    assert (mem.min_pages, mem.max_pages) == (1, 4)
    kind, table = kinds[("env", "tab")]
    assert kind == "table"
    assert isinstance(table, TableInfo)
    assert table.element == "funcref"
    assert kinds[("env", "g")] == ("global", GlobalInfo("i64", True))

    assert [(m.index, m.imported_from) for m in info.memories] == [(0, "env.mem")]
    assert [(t.index, t.min, t.max, t.imported_from, t.exported_as) for t in info.tables] == [
        (0, 2, None, "env.tab", ()),
        (1, 3, 10, None, ("t",)),
    ]
    # Globals the module defines (imported ones are in imports).
    assert info.globals == (GlobalInfo("i32", False), GlobalInfo("f64", True))
    answer = info.export("answer")
    assert answer is not None
    assert answer.type == GlobalInfo("i32", False)


def test_memory64_and_shared_flags() -> None:
    info = inspect_module(wat(MEMORY64_WAT))
    m64, shared = info.memories
    assert m64.memory64
    assert not m64.shared
    assert (m64.min_pages, m64.max_pages) == (2, 8)
    assert shared.shared
    assert not shared.memory64
    assert shared.exported_as == ("s",)


def test_custom_sections_with_names_sizes_and_the_name_section() -> None:
    info = inspect_module(wat(MATH_WAT))
    names = [c.name for c in info.custom_sections]
    assert "tuskops.note" in names
    assert "name" in names
    note = next(c for c in info.custom_sections if c.name == "tuskops.note")
    payload = b"hello from a custom section"
    # id byte + size byte + name length byte + name + payload
    assert note.size == 1 + 1 + 1 + len("tuskops.note") + len(payload)
    assert info.module_name == "math"


def test_size_breakdown_sums_to_the_file_size() -> None:
    data = wat(MATH_WAT)
    info = inspect_module(data)
    assert sum(s.size for s in info.sections) == len(data) == info.size
    assert info.sections[0].label == "header"
    assert info.sections[0].size == 8
    assert abs(sum(s.percent for s in info.sections) - 100.0) < 1e-6
    labels = [s.label for s in info.sections]
    assert {"type", "function", "memory", "export", "code", "custom:tuskops.note"} <= set(labels)
    # Sections are contiguous: each starts where the previous one ended.
    for before, after in zip(info.sections, info.sections[1:], strict=False):
        assert after.offset == before.offset + before.size


def test_a_c_module_shows_producers_and_debug_sections() -> None:
    tool = wasi_tool()
    info = inspect_module(tool)
    assert sum(s.size for s in info.sections) == tool.stat().st_size
    assert "clang" in " ".join(name for name, _ in info.producers.get("processed-by", []))
    assert {i.module for i in info.imports} == {"wasi_snapshot_preview1"}
    start = info.export("_start")
    assert start is not None
    assert start.type == FuncSig((), ())


def test_to_json_round_trips_through_json() -> None:
    data = json.loads(json.dumps(inspect_module(wat(IMPORTS_WAT)).to_json()))
    log = next(i for i in data["imports"] if i["name"] == "log")
    assert log == {
        "module": "env",
        "kind": "func",
        "name": "log",
        "type": {"params": ["i32", "i64"], "results": ["f32"]},
    }
    assert sum(s["bytes"] for s in data["sections"]) == data["bytes"]


def test_a_file_that_is_not_wasm_is_named(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidModuleError, match="not a WebAssembly module") as exc:
        inspect_module(text)
    assert str(text) in str(exc.value)
    assert isinstance(exc.value, TuskError)
    assert exc.value.exit_code == 2


def test_a_truncated_module_names_the_section() -> None:
    data = wat(MATH_WAT)
    with pytest.raises(InvalidModuleError, match=r"declares .* bytes but only"):
        inspect_module(data[:40])


def test_a_validation_error_is_named_with_its_section() -> None:
    bad = wat(
        '(module (func (export "f") (result i32) i64.const 1))',
    )
    # wat2wasm checks syntax, not types: wasmtime's validator finds the mismatch.
    with pytest.raises(InvalidModuleError) as exc:
        inspect_module(bad, source="bad.wasm")
    message = str(exc.value)
    assert message.startswith("bad.wasm: invalid module:")
    assert "type mismatch" in message
    assert "code section" in message


def test_a_component_is_refused_clearly() -> None:
    with pytest.raises(InvalidModuleError, match="component"):
        inspect_module(b"\0asm\x0d\0\x01\0")


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidModuleError, match="cannot read"):
        inspect_module(tmp_path / "nope.wasm")


def test_every_truncation_is_a_named_error_never_a_crash() -> None:
    data = wat(IMPORTS_WAT)
    boundaries = {s.offset for s in inspect_module(data).sections} - {0}
    for end in range(len(data)):
        if end in boundaries:  # a prefix of whole sections can be a valid module
            continue
        with pytest.raises(InvalidModuleError):
            inspect_module(data[:end])


def test_corrupt_section_contents_are_reported_by_wasmtime() -> None:
    data = bytearray(wat(MATH_WAT))
    # Flip the memory section's limits flag to an undefined value.
    info = inspect_module(bytes(data))
    memory = next(s for s in info.sections if s.label == "memory")
    data[memory.offset + 3] = 0x7F
    with pytest.raises(InvalidModuleError, match="memory section"):
        inspect_module(bytes(data))

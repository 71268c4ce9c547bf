"""Inspect a WebAssembly module: imports, exports, memories, tables, globals, custom sections,
and where its bytes go.

Types of imports and exports come from wasmtime (``Module.imports`` / ``Module.exports``), and
wasmtime validates the module, so the error it reports is the one a run would hit.

The binary's *framing* is read here by hand: the section headers (id, LEB128 size), the names of
custom sections, the ``producers`` and ``name`` sections, and the small memory, table, global and
export sections. No maintained Python library exposes section sizes or custom sections (wasmtime
hides both; the PyPI ``wasm`` decoder has been unmaintained since 2019 and predates memory64,
shared memories and the newer value types), and framing is a small, stable part of the spec
(https://webassembly.github.io/spec/core/binary/modules.html). Anything this reader does not
understand is reported as unknown, never guessed.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import wasmtime

from tuskops.wasm.errors import InvalidModuleError

__all__ = [
    "CustomSection",
    "ExternInfo",
    "FuncSig",
    "GlobalInfo",
    "MemoryInfo",
    "ModuleInfo",
    "SectionInfo",
    "TableInfo",
    "engine_for_inspection",
    "inspect_module",
]

MAGIC = b"\0asm"
CORE_VERSION = b"\x01\0\0\0"

SECTION_NAMES: dict[int, str] = {
    0: "custom",
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    6: "global",
    7: "export",
    8: "start",
    9: "element",
    10: "code",
    11: "data",
    12: "datacount",
    13: "tag",
}

_VALTYPES = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
}
_EXTERN_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuncSig:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        results = ", ".join(self.results)
        if len(self.results) != 1:
            results = f"({results})"
        return f"({', '.join(self.params)}) -> {results}"

    def to_json(self) -> dict[str, Any]:
        return {"params": list(self.params), "results": list(self.results)}


@dataclass(frozen=True)
class MemoryInfo:
    min_pages: int
    max_pages: int | None
    shared: bool = False
    memory64: bool = False
    page_size: int = 65536
    #: ``None`` for an imported memory's index when unknown.
    index: int | None = None
    imported_from: str | None = None
    exported_as: tuple[str, ...] = ()

    def __str__(self) -> str:
        bounds = f"{self.min_pages}..{self.max_pages if self.max_pages is not None else ''}"
        flags = [f for f, on in (("shared", self.shared), ("memory64", self.memory64)) if on]
        if self.page_size != 65536:
            flags.append(f"page={self.page_size}")
        return f"pages {bounds}" + (f" ({', '.join(flags)})" if flags else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "min_pages": self.min_pages,
            "max_pages": self.max_pages,
            "shared": self.shared,
            "memory64": self.memory64,
            "page_size": self.page_size,
            "imported_from": self.imported_from,
            "exported_as": list(self.exported_as),
        }


@dataclass(frozen=True)
class TableInfo:
    element: str
    min: int
    max: int | None
    index: int | None = None
    imported_from: str | None = None
    exported_as: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.element} {self.min}..{self.max if self.max is not None else ''}"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "element": self.element,
            "min": self.min,
            "max": self.max,
            "imported_from": self.imported_from,
            "exported_as": list(self.exported_as),
        }


@dataclass(frozen=True)
class GlobalInfo:
    type: str
    mutable: bool

    def __str__(self) -> str:
        return f"{'mut ' if self.mutable else ''}{self.type}"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "mutable": self.mutable}


ExternType = FuncSig | MemoryInfo | TableInfo | GlobalInfo | None


@dataclass(frozen=True)
class ExternInfo:
    """One import or export. ``module`` is empty for exports; ``type`` is None when unknown."""

    kind: str
    name: str
    type: ExternType
    module: str = ""

    def describe(self) -> str:
        return str(self.type) if self.type is not None else "unknown"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.module:
            data = {"module": self.module, **data}
        ty = self.type.to_json() if self.type is not None else None
        if ty is not None:  # where a memory or table sits in the module is not part of its type
            for key in ("index", "imported_from", "exported_as"):
                ty.pop(key, None)
        data["type"] = ty
        return data


@dataclass(frozen=True)
class SectionInfo:
    """One section (or the 8-byte header): ``size`` counts its id and size bytes too."""

    id: int | None
    name: str
    offset: int
    size: int
    percent: float
    custom_name: str | None = None

    @property
    def label(self) -> str:
        return f"custom:{self.custom_name}" if self.custom_name is not None else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.label,
            "offset": self.offset,
            "bytes": self.size,
            "percent": round(self.percent, 2),
        }


@dataclass(frozen=True)
class CustomSection:
    name: str
    offset: int
    size: int
    #: What is known of its contents (``producers`` fields, the ``name`` section's module name).
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "offset": self.offset, "bytes": self.size, **self.details}


@dataclass(frozen=True)
class ModuleInfo:
    source: str
    size: int
    imports: tuple[ExternInfo, ...]
    exports: tuple[ExternInfo, ...]
    memories: tuple[MemoryInfo, ...]
    tables: tuple[TableInfo, ...]
    #: Globals the module defines; None when the global section could not be read.
    globals: tuple[GlobalInfo, ...] | None
    custom_sections: tuple[CustomSection, ...]
    sections: tuple[SectionInfo, ...]
    module_name: str | None = None
    producers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    has_start: bool = False

    def export(self, name: str) -> ExternInfo | None:
        return next((e for e in self.exports if e.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "bytes": self.size,
            "module_name": self.module_name,
            "imports": [i.to_json() for i in self.imports],
            "exports": [e.to_json() for e in self.exports],
            "memories": [m.to_json() for m in self.memories],
            "tables": [t.to_json() for t in self.tables],
            "globals": None if self.globals is None else [g.to_json() for g in self.globals],
            "start_function": self.has_start,
            "custom_sections": [c.to_json() for c in self.custom_sections],
            "producers": {k: [list(p) for p in v] for k, v in self.producers.items()},
            "sections": [s.to_json() for s in self.sections],
        }


# --- reading bytes ----------------------------------------------------------------------------


class _Truncated(Exception):
    pass


class _Unknown(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise _Truncated
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n: int) -> bytes:
        if self.pos + n > self.end:
            raise _Truncated
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
            if shift > 70:
                raise _Unknown("LEB128 too long")

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
            if shift > 70:
                raise _Unknown("LEB128 too long")

    def name(self) -> str:
        return self.bytes(self.uleb()).decode("utf-8", errors="replace")

    def valtype(self) -> str:
        b = self.byte()
        if b in _VALTYPES:
            return _VALTYPES[b]
        if b in (0x63, 0x64):  # (ref null? ht)
            ht = self.sleb()
            return f"(ref {'null ' if b == 0x63 else ''}{ht})"
        raise _Unknown(f"value type 0x{b:02x}")

    def limits(self) -> tuple[int, int | None, int]:
        flags = self.uleb()
        minimum = self.uleb()
        maximum = self.uleb() if flags & 1 else None
        return flags, maximum, minimum


def _const_expr(r: _Reader) -> None:
    """Skip a constant expression up to its ``end`` (MVP and extended-const opcodes)."""
    while True:
        op = r.byte()
        if op == 0x0B:
            return
        if op in (0x41, 0x42):
            r.sleb()
        elif op == 0x43:
            r.bytes(4)
        elif op == 0x44:
            r.bytes(8)
        elif op in (0x23, 0xD2):
            r.uleb()
        elif op == 0xD0:
            r.sleb()
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            pass
        else:
            raise _Unknown(f"opcode 0x{op:02x} in a constant expression")


def _memory_type(r: _Reader) -> MemoryInfo:
    flags = r.uleb()
    minimum = r.uleb()
    maximum = r.uleb() if flags & 1 else None
    page_size = 1 << r.uleb() if flags & 8 else 65536
    return MemoryInfo(minimum, maximum, bool(flags & 2), bool(flags & 4), page_size)


def _table_type(r: _Reader) -> TableInfo:
    element = r.valtype()
    _flags, maximum, minimum = r.limits()
    return TableInfo(element, minimum, maximum)


@dataclass
class _Framing:
    sections: list[tuple[int, int, int, int, str | None]]  # id, offset, size, payload offset, name
    customs: list[CustomSection]
    memories: list[MemoryInfo]
    tables: list[TableInfo]
    globals: list[GlobalInfo] | None
    exports: list[tuple[str, str, int]]
    module_name: str | None
    producers: dict[str, list[tuple[str, str]]]
    has_start: bool


def read_framing(data: bytes, source: str) -> _Framing:
    if data[:4] != MAGIC:
        found = data[:4].hex(" ") or "an empty file"
        raise InvalidModuleError(
            source, f"not a WebAssembly module: expected the magic bytes 00 61 73 6d, found {found}"
        )
    version = data[4:8]
    if len(version) < 4:
        raise InvalidModuleError(source, "truncated WebAssembly header")
    if version != CORE_VERSION:
        if version[2:4] == b"\x01\0":
            raise InvalidModuleError(
                source, "a WebAssembly component, not a core module: components are not supported"
            )
        raise InvalidModuleError(source, f"unsupported WebAssembly version {version.hex(' ')}")
    f = _Framing([], [], [], [], [], [], None, {}, False)
    r = _Reader(data, 8)
    while r.pos < len(data):
        start = r.pos
        try:
            sid = r.byte()
            size = r.uleb()
        except _Truncated:
            raise InvalidModuleError(
                source, f"truncated section header at offset {start}"
            ) from None
        payload = r.pos
        end = payload + size
        if end > len(data):
            raise InvalidModuleError(
                source,
                f"section {SECTION_NAMES.get(sid, sid)} at offset {start} declares {size} bytes "
                f"but only {len(data) - payload} remain",
            )
        body = _Reader(data, payload, end)
        cname: str | None = None
        if sid == 0:
            try:
                cname = body.name()
            except _Truncated:
                raise InvalidModuleError(
                    source, f"custom section at offset {start} has a truncated name"
                ) from None
            f.customs.append(CustomSection(cname, start, end - start, _custom_details(cname, body)))
        else:
            with contextlib.suppress(_Truncated, _Unknown):
                _known_section(sid, body, f)
        f.sections.append((sid, start, end - start, payload, cname))
        r.pos = end
    return f


def _known_section(sid: int, r: _Reader, f: _Framing) -> None:
    if sid == 4:
        for _ in range(r.uleb()):
            if r.pos < r.end and r.data[r.pos] == 0x40:  # a table with an initialiser
                r.bytes(2)
                t = _table_type(r)
                _const_expr(r)
            else:
                t = _table_type(r)
            f.tables.append(t)
    elif sid == 5:
        for _ in range(r.uleb()):
            f.memories.append(_memory_type(r))
    elif sid == 6:
        globals_: list[GlobalInfo] = []
        f.globals = None  # unknown until fully read
        for _ in range(r.uleb()):
            vt = r.valtype()
            mut = r.byte() == 1
            _const_expr(r)
            globals_.append(GlobalInfo(vt, mut))
        f.globals = globals_
    elif sid == 7:
        for _ in range(r.uleb()):
            name = r.name()
            export_kind = _EXTERN_KINDS.get(r.byte(), "?")
            f.exports.append((name, export_kind, r.uleb()))
    elif sid == 8:
        f.has_start = True


def _custom_details(name: str, r: _Reader) -> dict[str, Any]:
    try:
        if name == "producers":
            fields: dict[str, list[tuple[str, str]]] = {}
            for _ in range(r.uleb()):
                key = r.name()
                fields[key] = [(r.name(), r.name()) for _ in range(r.uleb())]
            return {"producers": fields}
        if name == "name":
            details: dict[str, Any] = {}
            while r.pos < r.end:
                sub = r.byte()
                size = r.uleb()
                sub_r = _Reader(r.data, r.pos, r.pos + size)
                if sub == 0:
                    details["module_name"] = sub_r.name()
                elif sub == 1:
                    details["function_names"] = sub_r.uleb()
                elif sub == 2:
                    details["functions_with_local_names"] = sub_r.uleb()
                r.pos += size
            return details
    except (_Truncated, _Unknown):
        return {"malformed": True}
    return {}


# --- wasmtime types ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def engine_for_inspection() -> wasmtime.Engine:
    """An engine with every proposal wasmtime can validate switched on, so inspection accepts
    whatever some configuration of wasmtime would run."""
    config = wasmtime.Config()
    for feature in (
        "wasm_threads",
        "wasm_memory64",
        "wasm_multi_memory",
        "wasm_tail_call",
        "wasm_function_references",
        "wasm_gc",
        "wasm_exceptions",
        "wasm_relaxed_simd",
        "wasm_wide_arithmetic",
        "wasm_custom_page_sizes",
    ):
        with contextlib.suppress(AttributeError, wasmtime.WasmtimeError):
            setattr(config, feature, True)
    return wasmtime.Engine(config)


def _extern_type(ty: object) -> tuple[str, ExternType]:
    if isinstance(ty, wasmtime.FuncType):
        return "func", FuncSig(tuple(str(p) for p in ty.params), tuple(str(r) for r in ty.results))
    if isinstance(ty, wasmtime.MemoryType):
        lim = ty.limits
        return "memory", MemoryInfo(lim.min, lim.max, ty.is_shared, ty.is_64, ty.page_size)
    if isinstance(ty, wasmtime.TableType):
        lim = ty.limits
        return "table", TableInfo(str(ty.element), lim.min, lim.max)
    if isinstance(ty, wasmtime.GlobalType):
        return "global", GlobalInfo(str(ty.content), ty.mutable)
    if isinstance(ty, wasmtime.TagType):
        f = ty.functype
        return "tag", FuncSig(tuple(str(p) for p in f.params), tuple(str(r) for r in f.results))
    return "unknown", None


def _section_at(framing: _Framing, offset: int) -> str | None:
    for sid, start, size, _payload, cname in framing.sections:
        if start <= offset < start + size:
            return f"custom:{cname}" if cname is not None else SECTION_NAMES.get(sid, str(sid))
    return None


def validation_message(err: Exception, framing: _Framing) -> str:
    """wasmtime's reason, on one line, with the section the offset falls in."""
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else "unknown validation error"
    text = re.sub(r"^\d+: ", "", text)
    text = re.sub(
        r"^Invalid input WebAssembly code at offset (\d+): (.*)$", r"\2 (at offset \1)", text
    )
    m = re.search(r"at offset (0x[0-9a-f]+|\d+)", text)
    if m:
        where = _section_at(framing, int(m.group(1), 0))
        if where:
            text = text[: m.end()] + f", in the {where} section" + text[m.end() :]
    return f"invalid module: {text}"


def compile_checked(
    engine: wasmtime.Engine, data: bytes, source: str, framing: _Framing
) -> wasmtime.Module:
    """Validate, then compile; :class:`InvalidModuleError` names what is wrong and where."""
    try:
        wasmtime.Module.validate(engine, data)
        return wasmtime.Module(engine, data)
    except wasmtime.WasmtimeError as err:
        raise InvalidModuleError(source, validation_message(err, framing)) from None


# --- the entry point --------------------------------------------------------------------------


def inspect_module(module: bytes | str | Path, *, source: str | None = None) -> ModuleInfo:
    """Read ``module`` (a path or the bytes) into a :class:`ModuleInfo`.

    Raises :class:`InvalidModuleError` for a file that is not WebAssembly or does not validate;
    the message names the problem and, when wasmtime gives an offset, the section it is in.
    """
    if isinstance(module, bytes | bytearray):
        data = bytes(module)
        name = source or "<bytes>"
    else:
        path = Path(module)
        name = source or str(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InvalidModuleError(name, f"cannot read: {err.strerror or err}") from None
    framing = read_framing(data, name)
    compiled = compile_checked(engine_for_inspection(), data, name, framing)

    imports: list[ExternInfo] = []
    imported_mems: list[MemoryInfo] = []
    imported_tables: list[TableInfo] = []
    for imp in compiled.imports:
        kind, ty = _extern_type(imp.type)
        imports.append(ExternInfo(kind, imp.name or "", ty, imp.module))
        where = f"{imp.module}.{imp.name}"
        if isinstance(ty, MemoryInfo):
            imported_mems.append(replace(ty, index=len(imported_mems), imported_from=where))
        elif isinstance(ty, TableInfo):
            imported_tables.append(replace(ty, index=len(imported_tables), imported_from=where))
    exports: list[ExternInfo] = []
    for exp in compiled.exports:
        kind, ty = _extern_type(exp.type)
        exports.append(ExternInfo(kind, exp.name, ty))

    def exported(kind: str, index: int) -> tuple[str, ...]:
        return tuple(n for n, k, i in framing.exports if k == kind and i == index)

    memories = [replace(m, exported_as=exported("memory", m.index or 0)) for m in imported_mems] + [
        replace(
            m, index=len(imported_mems) + i, exported_as=exported("memory", len(imported_mems) + i)
        )
        for i, m in enumerate(framing.memories)
    ]
    tables = [replace(t, exported_as=exported("table", t.index or 0)) for t in imported_tables] + [
        replace(
            t,
            index=len(imported_tables) + i,
            exported_as=exported("table", len(imported_tables) + i),
        )
        for i, t in enumerate(framing.tables)
    ]

    total = len(data)
    sections = [SectionInfo(None, "header", 0, 8, 800 / total)]
    for sid, start, size, _payload, cname in framing.sections:
        sections.append(
            SectionInfo(
                sid,
                SECTION_NAMES.get(sid, f"unknown({sid})"),
                start,
                size,
                100 * size / total,
                cname,
            )
        )
    module_name: str | None = None
    producers: dict[str, list[tuple[str, str]]] = {}
    for c in framing.customs:
        if c.name == "name" and "module_name" in c.details:
            module_name = c.details["module_name"]
        if c.name == "producers" and "producers" in c.details:
            for key, values in c.details["producers"].items():
                producers.setdefault(key, []).extend(values)
    return ModuleInfo(
        source=name,
        size=total,
        imports=tuple(imports),
        exports=tuple(exports),
        memories=tuple(memories),
        tables=tuple(tables),
        globals=None if framing.globals is None else tuple(framing.globals),
        custom_sections=tuple(framing.customs),
        sections=tuple(sections),
        module_name=module_name,
        producers=producers,
        has_start=framing.has_start,
    )

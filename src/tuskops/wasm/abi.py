"""The memory ABI: how strings and byte arrays cross into and out of a module.

WebAssembly functions take and return only numbers, so tuskops (and the npm package ``tuskops
wasm pack`` writes, in JavaScript) pass bytes through the module's linear memory:

* The module exports its memory as ``memory`` and an allocator ``alloc(len: i32) -> i32`` that
  returns a pointer to ``len`` writable bytes; optionally ``dealloc(ptr: i32, len: i32)``.
* A string (UTF-8) or byte-array **argument** becomes two i32 parameters, ``(ptr, len)``: the host
  calls ``alloc(len)``, copies the bytes there, passes ``ptr, len``, and after the call returns it
  calls ``dealloc(ptr, len)`` when the module exports it. The guest must not keep the pointer. An
  empty value is passed as ``(0, 0)`` without calling ``alloc``.
* A string or byte-array **result** is a single i64: ``(ptr << 32) | len``, both unsigned 32-bit.
  The host copies ``len`` bytes from ``ptr`` and then calls ``dealloc(ptr, len)`` when exported:
  the buffer belongs to the host once returned.

See ``docs/wasm.md`` for the C side of the same convention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import wasmtime

from tuskops.wasm.errors import WasmArgumentError, WasmError

__all__ = [
    "ABI_EXPORTS",
    "ALLOC_EXPORT",
    "DEALLOC_EXPORT",
    "MEMORY_EXPORT",
    "Buffer",
    "MemoryABI",
    "pack",
    "parse_cli_args",
    "unpack",
]

#: The export names of the memory ABI.
MEMORY_EXPORT = "memory"
ALLOC_EXPORT = "alloc"
DEALLOC_EXPORT = "dealloc"
ABI_EXPORTS = (MEMORY_EXPORT, ALLOC_EXPORT, DEALLOC_EXPORT)

#: CLI prefixes: ``str:TEXT`` passes TEXT as a UTF-8 string, ``hex:0a0b`` passes bytes.
STR_PREFIX = "str:"
HEX_PREFIX = "hex:"

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF


def pack(ptr: int, length: int) -> int:
    """``(ptr << 32) | len`` as the signed i64 a wasm function returns."""
    if not (0 <= ptr <= _U32 and 0 <= length <= _U32):
        raise ValueError("pointer and length must fit in 32 bits")
    value = (ptr << 32) | length
    return value - (1 << 64) if value >= 1 << 63 else value


def unpack(value: int) -> tuple[int, int]:
    """The ``(ptr, len)`` of a packed i64 result (signed or unsigned)."""
    value &= _U64
    return value >> 32, value & _U32


@dataclass(frozen=True)
class Buffer:
    """A string or byte array to pass through memory as ``(ptr, len)``."""

    data: bytes

    @classmethod
    def of(cls, value: str | bytes | bytearray | memoryview) -> Buffer:
        return cls(value.encode("utf-8") if isinstance(value, str) else bytes(value))


def _ptr_len_at(params: Sequence[str], i: int) -> bool:
    return tuple(params[i : i + 2]) == ("i32", "i32")


def _int_for(ty: str, value: int, position: int) -> int:
    bits = 32 if ty == "i32" else 64
    if not -(1 << (bits - 1)) <= value < (1 << bits):
        raise WasmArgumentError(f"argument {position}: {value} does not fit in {ty}")
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def convert_args(params: Sequence[str], args: Sequence[Any], *, abi: bool) -> list[Any]:
    """Python values for a function of ``params``: ints and floats one parameter each, and
    ``str``/``bytes``/:class:`Buffer` two i32 parameters (ptr, len), given as one Buffer.

    ``abi`` says whether the module exports the allocator; strings need it.
    """
    out: list[Any] = []
    i = 0
    for n, arg in enumerate(args, 1):
        if isinstance(arg, str | bytes | bytearray | memoryview | Buffer):
            if not _ptr_len_at(params, i):
                raise WasmArgumentError(
                    f"argument {n} is a string or bytes, but parameters {i + 1}-{i + 2} of the "
                    f"function are not (i32 ptr, i32 len)"
                )
            if not abi:
                raise WasmArgumentError(
                    f"argument {n} is a string or bytes, but the module does not export "
                    f"'{MEMORY_EXPORT}' and '{ALLOC_EXPORT}' (see the memory ABI in docs/wasm.md)"
                )
            out.append(arg if isinstance(arg, Buffer) else Buffer.of(arg))
            i += 2
            continue
        if i >= len(params):
            break
        ty = params[i]
        if isinstance(arg, bool) or not isinstance(arg, int | float):
            raise WasmArgumentError(
                f"argument {n}: {type(arg).__name__} cannot be passed as {ty} "
                "(numbers, str and bytes can)"
            )
        if ty in ("i32", "i64"):
            if not isinstance(arg, int):
                raise WasmArgumentError(f"argument {n}: {arg!r} is not an integer ({ty})")
            out.append(_int_for(ty, arg, n))
        elif ty in ("f32", "f64"):
            out.append(float(arg))
        else:
            raise WasmArgumentError(f"parameter {i + 1} has type {ty}, which cannot be passed")
        i += 1
    consumed = sum(2 if isinstance(a, Buffer) else 1 for a in out)
    if consumed != len(params) or len(out) != len(args):
        given = sum(2 if isinstance(a, str | bytes | bytearray | Buffer) else 1 for a in args)
        raise WasmArgumentError(
            f"the function takes {len(params)} parameter(s) ({', '.join(params) or 'none'}), "
            f"got {given}"
        )
    return out


def parse_cli_args(params: Sequence[str], texts: Sequence[str], *, abi: bool) -> list[Any]:
    """Command-line words as arguments: each by the type of the next parameter; ``str:TEXT``
    is a string and ``hex:HEX`` bytes, both passed through the memory ABI."""
    values: list[Any] = []
    i = 0
    for n, text in enumerate(texts, 1):
        if text.startswith(STR_PREFIX):
            values.append(Buffer.of(text[len(STR_PREFIX) :]))
            i += 2
            continue
        if text.startswith(HEX_PREFIX):
            try:
                values.append(Buffer(bytes.fromhex(text[len(HEX_PREFIX) :])))
            except ValueError:
                raise WasmArgumentError(f"argument {n}: {text!r} is not valid hex") from None
            i += 2
            continue
        if i >= len(params):
            values.append(text)  # counted, and reported, by convert_args
            i += 1
            continue
        ty = params[i]
        try:
            if ty in ("i32", "i64"):
                values.append(int(text, 0))
            elif ty in ("f32", "f64"):
                values.append(float(text))
            else:
                raise WasmArgumentError(f"parameter {i + 1} has type {ty}, which cannot be passed")
        except ValueError:
            hint = f"; to pass a string write {STR_PREFIX}{text}" if _ptr_len_at(params, i) else ""
            raise WasmArgumentError(f"argument {n}: {text!r} is not a valid {ty}{hint}") from None
        i += 1
    if any(isinstance(v, str) for v in values):
        raise WasmArgumentError(
            f"the function takes {len(params)} parameter(s) ({', '.join(params) or 'none'}), "
            f"got {len(texts)} argument(s)"
        )
    return convert_args(params, values, abi=abi)


class MemoryABI:
    """The memory ABI over one instance: copy bytes in, read results out, free both."""

    def __init__(self, store: wasmtime.Store, exports: Any) -> None:
        self.store = store
        memory = exports.get(MEMORY_EXPORT)
        alloc = exports.get(ALLOC_EXPORT)
        dealloc = exports.get(DEALLOC_EXPORT)
        self.memory = memory if isinstance(memory, wasmtime.Memory) else None
        self.alloc = alloc if isinstance(alloc, wasmtime.Func) else None
        self.dealloc = dealloc if isinstance(dealloc, wasmtime.Func) else None

    @property
    def available(self) -> bool:
        return self.memory is not None and self.alloc is not None

    def _need_memory(self) -> wasmtime.Memory:
        if self.memory is None:
            raise WasmError(f"the module does not export its memory as '{MEMORY_EXPORT}'")
        return self.memory

    def write(self, data: bytes) -> tuple[int, int]:
        if not data:
            return 0, 0
        memory = self._need_memory()
        if self.alloc is None:
            raise WasmError(f"the module does not export '{ALLOC_EXPORT}(len) -> ptr'")
        ptr = self.alloc(self.store, len(data))
        if not isinstance(ptr, int):
            raise WasmError(f"'{ALLOC_EXPORT}' did not return an i32 pointer")
        ptr &= _U32
        if ptr == 0 or ptr + len(data) > memory.data_len(self.store):
            raise WasmError(
                f"'{ALLOC_EXPORT}({len(data)})' returned {ptr}, outside the module's memory"
            )
        memory.write(self.store, data, ptr)
        return ptr, len(data)

    def read(self, ptr: int, length: int) -> bytes:
        if length == 0:
            return b""
        memory = self._need_memory()
        if ptr + length > memory.data_len(self.store):
            raise WasmError(
                f"the result (ptr={ptr}, len={length}) lies outside the module's memory "
                f"({memory.data_len(self.store)} bytes)"
            )
        return bytes(memory.read(self.store, ptr, ptr + length))

    def free(self, ptr: int, length: int) -> None:
        if self.dealloc is not None and length:
            self.dealloc(self.store, ptr, length)

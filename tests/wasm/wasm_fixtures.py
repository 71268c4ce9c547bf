"""Modules the wasm tests run: WAT text turned into binaries by wasmtime, and one WASI program
compiled from C with clang (skipped, with the reason, when clang or wasi-libc is missing)."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest
import wasmtime

#: Numbers, traps, limits and the memory ABI, with an import-free, WASI-free module.
MATH_WAT = """
(module $math
  (memory (export "memory") 1 1000)
  (global $top (mut i32) (i32.const 1024))
  (func $alloc (export "alloc") (param $n i32) (result i32) (local $p i32)
    global.get $top local.set $p
    global.get $top local.get $n i32.add global.set $top
    local.get $p)
  (func (export "dealloc") (param i32 i32))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "add64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.add)
  (func (export "half") (param f64) (result f64) local.get 0 f64.const 2 f64.div)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func $boom (export "boom") unreachable)
  (func (export "deep") call $boom)
  (func (export "spin") (loop br 0))
  (func (export "hog") (result i32)
    (loop
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
      br 0)
    i32.const 0)
  (func (export "pages") (result i32) memory.size)
  ;; upper(ptr, len) -> ptr<<32|len: an ASCII upper-cased copy
  (func (export "upper") (param $p i32) (param $n i32) (result i64)
    (local $i i32) (local $o i32) (local $c i32)
    local.get $n call $alloc local.set $o
    (block (loop
      local.get $i local.get $n i32.ge_u br_if 1
      local.get $o local.get $i i32.add
      local.get $p local.get $i i32.add i32.load8_u local.set $c
      local.get $c
      local.get $c i32.const 97 i32.ge_u local.get $c i32.const 122 i32.le_u i32.and
      i32.const 32 i32.mul i32.sub
      i32.store8
      local.get $i i32.const 1 i32.add local.set $i br 0))
    local.get $o i64.extend_i32_u i64.const 32 i64.shl local.get $n i64.extend_i32_u i64.or)
  (@custom "tuskops.note" "hello from a custom section")
)
"""

#: Imports of every kind, tables and globals, for inspection (not instantiable).
IMPORTS_WAT = """
(module
  (import "env" "log" (func (param i32 i64) (result f32)))
  (import "env" "mem" (memory 1 4))
  (import "env" "tab" (table 2 funcref))
  (import "env" "g" (global (mut i64)))
  (table (export "t") 3 10 funcref)
  (global (export "answer") i32 (i32.const 42))
  (global (mut f64) (f64.const 1.5))
)
"""

#: A memory64 shared module: flags must come through.
MEMORY64_WAT = """(module (memory (export "m") i64 2 8) (memory (export "s") 1 2 shared))"""

WASI_TOOL_C = r"""
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *volatile last; /* keeps the allocations of "hog" from being optimised away */

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "hello") == 0) {
    printf("argc=%d", argc);
    for (int i = 2; i < argc; i++) printf(" [%s]", argv[i]);
    const char *greeting = getenv("GREETING");
    printf("\nGREETING=%s\n", greeting ? greeting : "(unset)");
    printf("HOME=%s\n", getenv("HOME") ? getenv("HOME") : "(unset)");
    int c;
    while ((c = getchar()) != EOF) putchar(toupper(c));
    fprintf(stderr, "to stderr\n");
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "read") == 0) {
    FILE *f = fopen(argv[2], "r");
    if (!f) { fprintf(stderr, "cannot open: %s\n", strerror(errno)); return 3; }
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "write") == 0) {
    FILE *f = fopen(argv[2], "w");
    if (!f) { fprintf(stderr, "cannot open: %s\n", strerror(errno)); return 3; }
    fputs("written by wasm\n", f);
    fclose(f);
    puts("wrote");
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "hog") == 0) {
    size_t n = (size_t)atoi(argv[2]);
    for (;;) {
      char *p = malloc(n);
      if (!p) { fprintf(stderr, "malloc failed\n"); abort(); }
      memset(p, 1, n);
      last = p;
    }
  }
  if (argc >= 2 && strcmp(argv[1], "exit") == 0) exit(argc >= 3 ? atoi(argv[2]) : 0);
  if (argc >= 2 && strcmp(argv[1], "abort") == 0) abort();
  fprintf(stderr, "usage: tool hello|read PATH|write PATH|exit N|abort\n");
  return 2;
}
"""


#: The memory ABI in C, as docs/wasm.md shows it (a reactor: no main).
ABI_C = r"""
#include <stdint.h>
#include <stdlib.h>

__attribute__((export_name("alloc"))) void *alloc(uint32_t len) { return malloc(len); }
__attribute__((export_name("dealloc"))) void dealloc(void *p, uint32_t len) { free(p); }

static uint64_t pack(const void *p, uint32_t len) {
  return ((uint64_t)(uintptr_t)p << 32) | len;
}

__attribute__((export_name("upper"))) uint64_t upper(const char *s, uint32_t len) {
  char *out = alloc(len);
  for (uint32_t i = 0; i < len; i++) out[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
  return pack(out, len);
}
"""


def wat(text: str) -> bytes:
    return wasmtime.wat2wasm(text)


def write_module(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_bytes(wat(text))
    return path


def _clang_build(name: str, source_text: str, *flags: str) -> Path | str:
    clang = shutil.which("clang") or shutil.which("clang-14")
    if clang is None:
        return "clang is not installed (apt-get install clang lld)"
    if not Path("/usr/include/wasm32-wasi/stdio.h").is_file():
        return "wasi-libc is not installed (apt-get install wasi-libc)"
    out_dir = Path(tempfile.mkdtemp(prefix="tuskops-wasm-tests-"))
    atexit.register(shutil.rmtree, out_dir, True)
    source = out_dir / f"{name}.c"
    source.write_text(source_text)
    output = out_dir / f"{name}.wasm"
    cmd = [clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *flags, str(source)]
    proc = subprocess.run([*cmd, "-o", str(output)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return (
            "clang cannot build for wasm32-wasi (needs lld, wasi-libc and "
            "libclang-rt-14-dev-wasm32): " + proc.stderr.strip()[-400:]
        )
    return output


@cache
def _built(name: str) -> Path | str:
    if name == "tool":
        return _clang_build("tool", WASI_TOOL_C)
    return _clang_build("abi", ABI_C, "-mexec-model=reactor")


def _need(name: str) -> Path:
    built = _built(name)
    if isinstance(built, str):
        pytest.skip(built)
    return built


def wasi_tool() -> Path:
    """The compiled WASI test program (built once per session)."""
    return _need("tool")


def abi_module() -> Path:
    """docs/wasm.md's C example of the memory ABI, compiled as a reactor."""
    return _need("abi")

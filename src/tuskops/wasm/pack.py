"""Packaging a WebAssembly module as an npm package (``tuskops wasm pack``).

``pack(module, out_dir, name=..., version=..., signatures=...)`` writes a directory that is an
npm package, then runs ``npm pack`` on it:

* ``index.mjs`` (Node ES module: reads the ``.wasm`` beside it, top-level await),
  ``index.cjs`` (Node CommonJS: synchronous ``new WebAssembly.Module``/``Instance``),
  ``browser.mjs`` (``WebAssembly.instantiateStreaming``, falling back to ``instantiate`` on the
  bytes when the server sends another MIME type than ``application/wasm``) and ``sw.js`` (a
  service worker caching the ``.wasm`` cache-first for offline use); every entry exports the
  same functions by name and as ``default``;
* ``index.d.ts``, ``index.d.cts`` and ``browser.d.ts``, typed from the module's exports;
* ``package.json`` with ``exports`` conditions ``browser``, ``import`` and ``require`` (each with
  its ``types``), ``files`` and ``sideEffects: false``; a ``README.md``; the module.

The JavaScript and TypeScript come from the templates in ``tuskops/wasm/templates``; Python only
fills in ``{{placeholders}}`` (names, the signature table, one line per export).

Numbers pass directly (``i64`` as ``bigint``). A function's wasm type cannot tell a string
parameter ``(ptr, len)`` from two ``i32`` numbers, nor a packed ``i64`` string result from a
number, so those are declared: ``greet(str)->str``, ``hash(data: bytes) -> i32``. Parameters
``str``/``bytes`` are two ``i32`` in the module, results ``str``/``bytes`` one ``i64``
``ptr << 32 | len``: the memory ABI of :mod:`tuskops.wasm.abi`, implemented in JavaScript by
``templates/runtime.js``. Functions without a signature take and return numbers, as their wasm
types say.

Imports: none, or WASI preview 1 (``wasi_snapshot_preview1`` / ``wasi_unstable``), for which
the package carries a minimal shim (stdout/stderr, clocks, randomness; other calls ``ENOSYS``).
Anything else is refused at pack time, naming the import.

The package is built in a temporary directory beside ``out_dir`` and renamed into place, so a
failure leaves the previous package untouched. An existing ``out_dir`` is replaced only if it
is empty or was written by this function (it holds the ``.tuskops-pack`` marker).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tuskops.wasm.abi import ALLOC_EXPORT, DEALLOC_EXPORT, MEMORY_EXPORT
from tuskops.wasm.errors import WasmError
from tuskops.wasm.inspect import FuncSig, ModuleInfo, inspect_module

__all__ = [
    "MARKER",
    "FunctionSpec",
    "PackError",
    "PackResult",
    "Signature",
    "default_name",
    "pack",
    "parse_signature",
    "render",
]

#: The file that marks a directory as written by :func:`pack` (not part of the npm package).
MARKER = ".tuskops-pack"
#: Kinds a signature may name: the wasm number types, and the two memory-ABI kinds.
NUMBER_KINDS = ("i32", "i64", "f32", "f64")
BUFFER_KINDS = ("str", "bytes")
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
#: Names every entry exports besides the module's functions.
RESERVED: tuple[str, ...] = ("default", "compileMode", "wasmExports", "WasiExit")
RESERVED += ("fallbackReason", "registerServiceWorker", "ServiceWorkerOptions")
#: Exports that are part of the ABI or the WASI lifecycle, not functions to wrap.
LIFECYCLE = (ALLOC_EXPORT, DEALLOC_EXPORT, "_initialize")

_TS_TYPES = {"i32": "number", "f32": "number", "f64": "number", "i64": "bigint"}
_TS_TYPES |= {"str": "string", "bytes": "Uint8Array"}
_JS_RESERVED = frozenset(
    [
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "arguments",
        "eval",
    ]
)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NPM_NAME = re.compile(r"(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_SIGNATURE = re.compile(r"\s*([^\s(]+)\s*\(([^)]*)\)\s*(?:->\s*(\S+))?\s*")
_PLACEHOLDER = re.compile(r"/\*\{\{(\w+)\}\}\*/|\{\{(\w+)\}\}")


class PackError(WasmError):
    """The module cannot be packaged as asked: the message says why (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Signature:
    """A declared signature: ``name(kind, ...) -> kind``; ``result`` None leaves the result to
    the module's type. Parameter names are optional (``greet(who: str) -> str``)."""

    name: str
    params: tuple[str, ...]
    result: str | None = None
    param_names: tuple[str | None, ...] = ()

    def __str__(self) -> str:
        params = ", ".join(self.params)
        return f"{self.name}({params})" + (f" -> {self.result}" if self.result else "")


def parse_signature(text: str) -> Signature:
    """``fn(str, i32) -> str``, ``fn(name: str)``, ``fn() -> void``: kinds are i32, i64, f32,
    f64, str and bytes; a result may also be ``void``."""
    match = _SIGNATURE.fullmatch(text)
    if match is None:
        raise PackError(f"signature {text!r}: expected NAME(KIND, ...) or NAME(KIND, ...)->KIND")
    name, inner, result = match.group(1), match.group(2).strip(), match.group(3)
    params: list[str] = []
    names: list[str | None] = []
    for piece in inner.split(",") if inner else []:
        label, sep, kind = piece.strip().rpartition(":") if ":" in piece else ("", "", piece)
        kind = kind.strip()
        label = label.strip()
        if kind not in NUMBER_KINDS + BUFFER_KINDS:
            raise PackError(
                f"signature {text!r}: unknown parameter kind {kind!r} "
                f"(one of {', '.join(NUMBER_KINDS + BUFFER_KINDS)})"
            )
        if sep and not _is_identifier(label):
            raise PackError(f"signature {text!r}: {label!r} is not a parameter name")
        params.append(kind)
        names.append(label or None)
    if result is not None and result not in NUMBER_KINDS + BUFFER_KINDS + ("void",):
        raise PackError(
            f"signature {text!r}: unknown result kind {result!r} "
            f"(one of {', '.join(NUMBER_KINDS + BUFFER_KINDS)}, void)"
        )
    return Signature(name, tuple(params), result, tuple(names))


@dataclass(frozen=True)
class FunctionSpec:
    """One exported function as the package presents it."""

    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    param_names: tuple[str, ...]
    wasm: FuncSig

    @property
    def ts_result(self) -> str:
        if not self.results:
            return "void"
        if len(self.results) == 1:
            return _TS_TYPES[self.results[0]]
        return "[" + ", ".join(_TS_TYPES[r] for r in self.results) + "]"

    @property
    def ts_params(self) -> str:
        return ", ".join(
            f"{n}: {_TS_TYPES[k]}" for n, k in zip(self.param_names, self.params, strict=True)
        )

    @property
    def display(self) -> str:
        results = ", ".join(self.results) or "void"
        return f"{self.name}({', '.join(self.params)}) -> {results}"

    def runtime_entry(self) -> list[Any]:
        result: Any = self.results[0] if self.results[:1] in (("str",), ("bytes",)) else None
        return [list(self.params), result]


@dataclass(frozen=True)
class PackResult:
    out_dir: Path
    name: str
    version: str
    wasm_file: str
    files: tuple[str, ...]
    functions: tuple[FunctionSpec, ...]
    #: Exports not wrapped, with the reason (``"__heap_base: not a function"`` is not listed).
    skipped: tuple[tuple[str, str], ...] = ()
    tarball: Path | None = None
    wasi: bool = False
    package_json: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "name": self.name,
            "version": self.version,
            "wasm": self.wasm_file,
            "files": list(self.files),
            "functions": [
                {"name": f.name, "params": list(f.params), "results": list(f.results)}
                for f in self.functions
            ],
            "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
            "tarball": str(self.tarball) if self.tarball else None,
            "wasi": self.wasi,
        }


def _is_identifier(text: str) -> bool:
    return _IDENT.fullmatch(text) is not None and text not in _JS_RESERVED


def _expand(params: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for kind in params:
        out += ["i32", "i32"] if kind in BUFFER_KINDS else [kind]
    return tuple(out)


def _function_spec(name: str, wasm: FuncSig, sig: Signature | None) -> FunctionSpec:
    if sig is None:
        params, results = wasm.params, wasm.results
        names: tuple[str | None, ...] = ()
    else:
        if _expand(sig.params) != wasm.params:
            raise PackError(
                f"signature {sig}: the module's {name} takes ({', '.join(wasm.params)}); "
                "str and bytes are two i32 parameters (ptr, len)"
            )
        params, names = sig.params, sig.param_names
        if sig.result is None:
            results = wasm.results
        elif sig.result == "void":
            results = ()
        else:
            results = (sig.result,)
        expected = ("i64",) if sig.result in BUFFER_KINDS else results
        if expected != wasm.results:
            want = f"returns ({', '.join(wasm.results)})"
            raise PackError(
                f"signature {sig}: the module's {name} {want}; a str or bytes result is one "
                "i64 (ptr << 32 | len)"
            )
    for kind in params + results:
        if kind not in _TS_TYPES:
            raise _Unsupported(f"type {kind} cannot cross into JavaScript")
    labels = tuple(n or f"arg{i}" for i, n in enumerate(names or (None,) * len(params)))
    return FunctionSpec(name, tuple(params), tuple(results), labels, wasm)


class _Unsupported(Exception):
    pass


def _functions(
    info: ModuleInfo, signatures: Sequence[Signature]
) -> tuple[list[FunctionSpec], list[tuple[str, str]]]:
    declared: dict[str, Signature] = {}
    for sig in signatures:
        if sig.name in declared:
            raise PackError(f"two signatures for {sig.name}")
        declared[sig.name] = sig
    funcs = {e.name: e for e in info.exports if e.kind == "func"}
    for name in declared:
        if name not in funcs:
            available = ", ".join(sorted(funcs)) or "none"
            raise PackError(
                f"signature for {name}: the module exports no such function "
                f"(functions: {available})"
            )
    specs: list[FunctionSpec] = []
    skipped: list[tuple[str, str]] = []
    for name, export in funcs.items():
        if name in LIFECYCLE:
            continue
        if not _is_identifier(name):
            skipped.append((name, "not a JavaScript identifier (call it via wasmExports)"))
            continue
        if name in RESERVED:
            skipped.append((name, "clashes with a name the package exports (use wasmExports)"))
            continue
        if not isinstance(export.type, FuncSig):
            skipped.append((name, "its type is unknown"))
            continue
        try:
            specs.append(_function_spec(name, export.type, declared.get(name)))
        except _Unsupported as err:
            if name in declared:
                raise PackError(f"{name}: {err}") from None
            skipped.append((name, str(err)))
    return specs, skipped


def _check_module(info: ModuleInfo, specs: Sequence[FunctionSpec]) -> bool:
    if info.export("_start") is not None:
        raise PackError(
            f"{info.source} is a WASI command (it exports _start); pack a library or reactor "
            "(clang -mexec-model=reactor, or no main)"
        )
    wasi = False
    for imp in info.imports:
        if imp.module in WASI_MODULES and imp.kind == "func":
            wasi = True
            continue
        raise PackError(
            f"{info.source} imports {imp.kind} {imp.module}.{imp.name}: the package provides "
            f"only WASI preview 1 ({WASI_MODULES[0]}) functions"
        )
    uses_abi = [f.name for f in specs if set(f.params + f.results) & set(BUFFER_KINDS)]
    if uses_abi:
        exports = {e.name: e.kind for e in info.exports}
        missing = [
            n for n, k in ((MEMORY_EXPORT, "memory"), (ALLOC_EXPORT, "func")) if exports.get(n) != k
        ]
        if missing:
            raise PackError(
                f"{', '.join(uses_abi)} pass strings or bytes, but the module does not export "
                f"{' and '.join(missing)} (the memory ABI, docs/wasm.md)"
            )
    if wasi and {e.name: e.kind for e in info.exports}.get(MEMORY_EXPORT) != "memory":
        raise PackError("the module imports WASI but does not export its memory as 'memory'")
    return wasi


def _template(name: str) -> str:
    return resources.files("tuskops.wasm").joinpath("templates", name).read_text("utf-8")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{{key}}`` and ``/*{{key}}*/`` placeholders; an unknown key is an error."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1) or match.group(2)
        if key not in values:
            raise KeyError(f"template placeholder {key!r} has no value")
        return values[key]

    return _PLACEHOLDER.sub(fill, template)


def default_name(module: Path) -> str:
    stem = re.sub(r"[^a-z0-9._~-]+", "-", module.stem.lower()).strip("-._~")
    return stem or "wasm-module"


def _package_json(name: str, version: str, wasm_file: str, files: Sequence[str]) -> dict[str, Any]:
    node_import = {"types": "./index.d.ts", "default": "./index.mjs"}
    node_require = {"types": "./index.d.cts", "default": "./index.cjs"}
    browser = {"types": "./browser.d.ts", "default": "./browser.mjs"}
    return {
        "name": name,
        "version": version,
        "description": f"WebAssembly module {wasm_file}, packaged by tuskops wasm pack",
        "type": "module",
        "main": "./index.cjs",
        "module": "./index.mjs",
        "types": "./index.d.ts",
        "exports": {
            ".": {
                "browser": browser,
                "import": node_import,
                "require": node_require,
                "default": node_import,
            },
            "./browser": browser,
            "./sw.js": "./sw.js",
            f"./{wasm_file}": f"./{wasm_file}",
            "./package.json": "./package.json",
        },
        "files": list(files),
        "sideEffects": False,
        "engines": {"node": ">=18"},
    }


def _sources(
    name: str,
    version: str,
    wasm_file: str,
    wasm_hash: str,
    specs: Sequence[FunctionSpec],
) -> dict[str, str]:
    signatures = {f.name: f.runtime_entry() for f in specs}
    runtime = render(
        _template("runtime.js"),
        {"signatures": json.dumps(signatures), "wasm_file": json.dumps(wasm_file)},
    )
    esm_exports = "".join(f"export const {f.name} = api.{f.name};\n" for f in specs)
    common = {"name": name, "version": version, "runtime": runtime.rstrip("\n")}
    common |= {"esm_exports": esm_exports.rstrip("\n"), "wasm_file": wasm_file}
    declarations = "\n".join(
        f"export declare function {f.name}({f.ts_params}): {f.ts_result};" for f in specs
    )
    cts_declarations = "\n".join(
        f"  export function {f.name}({f.ts_params}): {f.ts_result};" for f in specs
    )
    members = "\n".join(f"  {f.name}: typeof {f.name};" for f in specs)
    types = {"name": name, "version": version, "members": members}
    table = "\n".join(
        f"| `{f.display}` | `{f.name}({f.ts_params}): {f.ts_result}` |" for f in specs
    )
    readme = {"name": name, "version": version, "wasm_file": wasm_file, "table": table}
    readme["first_name"] = specs[0].name if specs else "wasmExports"
    return {
        "index.mjs": render(_template("index.mjs"), common),
        "index.cjs": render(_template("index.cjs"), common),
        "browser.mjs": render(_template("browser.mjs"), common),
        "sw.js": render(_template("sw.js"), common | {"wasm_hash": wasm_hash}),
        "index.d.ts": render(
            _template("index.d.ts"), types | {"declarations": declarations, "extra": ""}
        ),
        "index.d.cts": render(_template("index.d.cts"), types | {"declarations": cts_declarations}),
        "browser.d.ts": render(
            _template("index.d.ts"),
            types | {"declarations": declarations, "extra": _template("browser-extra.d.ts")},
        ),
        "README.md": render(_template("README.md"), readme),
    }


def _npm_pack(package_dir: Path, npm: str | None) -> str:
    exe = npm or shutil.which("npm")
    if exe is None:
        raise PackError(
            "npm pack: npm is not installed (apt-get install npm), or pass npm_pack=False"
        )
    done = subprocess.run(
        [exe, "pack", "--json", "--ignore-scripts", "--pack-destination", str(package_dir)],
        cwd=package_dir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"},
    )
    if done.returncode != 0:
        raise PackError(f"npm pack failed (exit {done.returncode})\n{done.stderr.strip()}")
    try:
        filename = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise PackError(f"npm pack printed no tarball name: {done.stdout.strip()!r}") from None
    # npm writes "@scope/name" tarballs as "scope-name-1.0.0.tgz".
    return str(filename).lstrip("@").replace("/", "-")


def _replace_dir(staging: Path, out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise PackError(f"{out_dir} exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
            raise PackError(
                f"{out_dir} is not empty and was not written by tuskops wasm pack; "
                "choose another --out"
            )
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        try:
            os.replace(staging, out_dir)
        except OSError:
            os.replace(old, out_dir)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def pack(
    module: Path,
    out_dir: Path,
    *,
    name: str | None = None,
    version: str = "0.1.0",
    signatures: Sequence[str | Signature] = (),
    npm_pack: bool = True,
    npm: str | None = None,
) -> PackResult:
    """Write the npm package for ``module`` into ``out_dir`` (see the module doc) and, with
    ``npm_pack``, run ``npm pack`` there: the tarball lands in ``out_dir`` (outside the
    package's ``files``). ``name`` defaults to the module's file name."""
    module = Path(module)
    try:
        data = module.read_bytes()
    except OSError as err:
        raise PackError(f"{module}: {err.strerror or err}") from None
    pkg_name = name or default_name(module)
    if len(pkg_name) > 214 or _NPM_NAME.fullmatch(pkg_name) is None:
        raise PackError(
            f"{pkg_name!r} is not a valid npm package name (lower case, digits, - . _ ~, "
            "optionally @scope/)"
        )
    if _SEMVER.fullmatch(version) is None:
        raise PackError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    parsed = [s if isinstance(s, Signature) else parse_signature(s) for s in signatures]
    info = inspect_module(data, source=str(module))
    specs, skipped = _functions(info, parsed)
    wasi = _check_module(info, specs)

    wasm_file = pkg_name.rpartition("/")[2] + ".wasm"
    sources = _sources(pkg_name, version, wasm_file, hashlib.sha256(data).hexdigest()[:16], specs)
    files = sorted([*sources, wasm_file])
    package_json = _package_json(pkg_name, version, wasm_file, files)

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        for filename, text in sources.items():
            (staging / filename).write_text(text, encoding="utf-8")
        (staging / wasm_file).write_bytes(data)
        (staging / "package.json").write_text(json.dumps(package_json, indent=2) + "\n")
        (staging / MARKER).write_text("written by tuskops wasm pack; replaced on the next run\n")
        tarball = _npm_pack(staging, npm) if npm_pack else None
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PackResult(
        out_dir=out_dir,
        name=pkg_name,
        version=version,
        wasm_file=wasm_file,
        files=tuple(sorted([*files, "package.json"])),
        functions=tuple(specs),
        skipped=tuple(skipped),
        tarball=out_dir / tarball if tarball else None,
        wasi=wasi,
        package_json=package_json,
    )

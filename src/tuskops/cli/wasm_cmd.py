"""``tuskops wasm``: build, inspect, run and package WebAssembly modules."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, cast

import click
from rich.markup import escape
from rich.table import Table

from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stdout

__all__ = ["wasm_group"]


@click.group("wasm", short_help="Build, inspect, run and package WebAssembly modules.")
def wasm_group() -> None:
    """Build C and Rust to WebAssembly, inspect and run modules in a sandbox, and package them
    for npm."""


# --- inspect ----------------------------------------------------------------------------------


def _render_inspect(info: Any) -> None:
    from tuskops.wasm.inspect import ModuleInfo

    assert isinstance(info, ModuleInfo)
    con = stdout()
    title = escape(info.source) + (
        f" (module ${escape(info.module_name)})" if info.module_name else ""
    )
    con.print(f"[bold]{title}[/bold]: {info.size} bytes, valid")

    imports = Table("module", "name", "kind", "type", title="Imports", title_justify="left")
    for imp in info.imports:
        imports.add_row(escape(imp.module), escape(imp.name), imp.kind, escape(imp.describe()))
    con.print(imports if info.imports else "Imports: none")

    exports = Table("name", "kind", "type", title="Exports", title_justify="left")
    for exp in info.exports:
        exports.add_row(escape(exp.name), exp.kind, escape(exp.describe()))
    con.print(exports if info.exports else "Exports: none")

    if info.memories:
        mems = Table(
            "#", "min pages", "max pages", "flags", "where", title="Memories", title_justify="left"
        )
        for m in info.memories:
            flags = [f for f, on in (("shared", m.shared), ("memory64", m.memory64)) if on]
            where = [f"imported from {m.imported_from}"] if m.imported_from else []
            where += [f"exported as {n}" for n in m.exported_as]
            mems.add_row(
                str(m.index),
                str(m.min_pages),
                "none" if m.max_pages is None else str(m.max_pages),
                ", ".join(flags) or "-",
                escape(", ".join(where)) or "internal",
            )
        con.print(mems)
    else:
        con.print("Memories: none")
    if info.tables:
        tables = Table("#", "element", "min", "max", "where", title="Tables", title_justify="left")
        for t in info.tables:
            where = [f"imported from {t.imported_from}"] if t.imported_from else []
            where += [f"exported as {n}" for n in t.exported_as]
            tables.add_row(
                str(t.index),
                t.element,
                str(t.min),
                "none" if t.max is None else str(t.max),
                escape(", ".join(where)) or "internal",
            )
        con.print(tables)
    if info.globals is None:
        con.print("Globals: unknown (the global section could not be read)")
    else:
        desc = ", ".join(str(g) for g in info.globals[:8])
        more = " ..." if len(info.globals) > 8 else ""
        con.print(f"Globals: {len(info.globals)} defined" + (f" ({desc}{more})" if desc else ""))

    if info.custom_sections:
        customs = Table("name", "bytes", "contents", title="Custom sections", title_justify="left")
        for c in info.custom_sections:
            details = c.details
            if "producers" in details:
                text = "; ".join(
                    f"{k}: " + ", ".join(f"{n} {v}".strip() for n, v in vals)
                    for k, vals in details["producers"].items()
                )
            elif details:
                text = ", ".join(f"{k}={v}" for k, v in details.items())
            else:
                text = ""
            customs.add_row(escape(c.name), str(c.size), escape(text))
        con.print(customs)
    else:
        con.print("Custom sections: none")

    sizes = Table("section", "offset", "bytes", "%", title="Size by section", title_justify="left")
    for s in info.sections:
        sizes.add_row(escape(s.label), str(s.offset), str(s.size), f"{s.percent:.1f}")
    sizes.add_row("[bold]total[/bold]", "", str(sum(s.size for s in info.sections)), "100.0")
    con.print(sizes)


@click.command("inspect")
@click.argument("module", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def inspect_cmd(module: Path, output: str) -> None:
    """Show a module's imports and exports with their types, memories, tables, globals, custom
    sections and a size breakdown by section. An invalid module is an error naming the problem
    (exit 2).

    \b
    Examples:
      tuskops wasm inspect app.wasm
      tuskops wasm inspect app.wasm -o json | jq '.exports'
    """
    from tuskops.wasm.inspect import inspect_module

    info = inspect_module(module)
    if output == "json":
        print_json(info.to_json())
    else:
        _render_inspect(info)


# --- run --------------------------------------------------------------------------------------

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
}


def parse_memory(text: str) -> int | None:
    """``64MiB``, ``1GiB``, ``512KiB`` (rounded up to 64 KiB pages) or a page count; ``off``."""
    t = text.strip().lower()
    if t in ("off", "none", "unlimited"):
        return None
    m = re.fullmatch(r"(\d+)\s*(pages?)?", t)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg]i?b|b)", t)
    if not m:
        raise click.BadParameter(f"{text!r}: expected e.g. 64MiB, 1GiB, 512KiB, 100 (pages) or off")
    size = float(m.group(1)) * _SIZE_UNITS[m.group(2)]
    return max(0, -(-int(size) // 65536))


def parse_duration(text: str) -> float | None:
    """``5s``, ``500ms``, ``2m``, a number of seconds, or ``off``."""
    t = text.strip().lower()
    if t in ("off", "none", "0"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", t)
    if not m:
        raise click.BadParameter(f"{text!r}: expected e.g. 5s, 500ms, 2m, or off")
    scale = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "h": 3600.0}[m.group(2)]
    return float(m.group(1)) * scale


def _print_value(value: Any, returns: str) -> None:
    if returns == "bytes":
        out = sys.stdout.buffer
        out.write(value)
        out.flush()
    elif returns == "str":
        click.echo(value)
    elif value is None:
        return
    elif isinstance(value, list):
        click.echo(" ".join(json.dumps(v) for v in value))
    else:
        click.echo(json.dumps(value))


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("module", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--invoke",
    "function",
    metavar="FN",
    help="Call this export with ARGS instead of running the WASI command (_start).",
)
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    metavar="HOST::GUEST[:rw]",
    help="Preopen HOST as GUEST inside the module; read-only unless ':rw'. Repeatable.",
)
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="K=V",
    help="Set an environment variable for the module (none are inherited). Repeatable.",
)
@click.option(
    "--stdin",
    "stdin",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Feed this file ('-' for tuskops's own stdin) to the module; default: empty.",
)
@click.option(
    "--fuel",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Stop after this much fuel (about one unit per instruction). Default: off.",
)
@click.option(
    "--max-memory",
    default="256MiB",
    show_default=True,
    metavar="SIZE",
    help="Cap on each linear memory: 64MiB, 1GiB, a page count, or off.",
)
@click.option(
    "--timeout",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="Wall-clock limit: 5s, 500ms, 2m, or off.",
)
@click.option(
    "--returns",
    type=click.Choice(["value", "str", "bytes"]),
    default="value",
    show_default=True,
    help="With --invoke: print the result as is, or read it as a string or bytes "
    "returned through the memory ABI (an i64 ptr<<32|len).",
)
@handles_errors
def run_cmd(
    module: Path,
    args: tuple[str, ...],
    function: str | None,
    dirs: tuple[str, ...],
    envs: tuple[str, ...],
    stdin: str | None,
    fuel: int | None,
    max_memory: str,
    timeout: str,
    returns: str,
) -> None:
    """Run MODULE sandboxed on wasmtime: a WASI command with ARGS as its arguments, or, with
    --invoke, one exported function with ARGS converted by its parameter types.

    The module sees only what is granted: the given arguments and --env variables, stdin from
    --stdin, and --dir directories. It has no other filesystem access and no network (WASI
    preview 1 has no sockets). Put `--` before guest arguments that look like options.

    \b
    With --invoke, each ARG is parsed as the next parameter's type (i32, i64, f32, f64);
    `str:TEXT` passes a string and `hex:0a0b` bytes as (ptr, len) through the module's
    alloc/dealloc exports (the memory ABI, docs/wasm.md).

    \b
    Exit codes: the module's own exit status; 134 a trap, 120 fuel exhausted,
    121 memory limit exceeded, 124 timeout, 2 an invalid module or bad arguments.

    \b
    Examples:
      tuskops wasm run hello.wasm -- --name world
      tuskops wasm run tool.wasm --dir ./data::/data --env MODE=fast --stdin input.txt
      tuskops wasm run tool.wasm --dir ./out::/out:rw --timeout 10s --max-memory 64MiB
      tuskops wasm run math.wasm --invoke add 2 3
      tuskops wasm run text.wasm --invoke upper str:hello --returns str --fuel 1000000
    """
    from tuskops.wasm.sandbox import DirGrant, Limits, Returns, Sandbox, WasiOptions

    if function is None and returns != "value":
        raise click.UsageError("--returns applies to --invoke only")
    env: dict[str, str] = {}
    for item in envs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected K=V", param_hint="--env")
        env[key] = value
    grants = [DirGrant.parse(d) for d in dirs]
    stdin_data: bytes | Path | None = None
    if stdin == "-":
        stdin_data = sys.stdin.buffer.read()
    elif stdin is not None:
        stdin_data = Path(stdin)
    try:
        memory_pages = parse_memory(max_memory)
    except click.BadParameter as err:
        err.param_hint = "--max-memory"
        raise
    try:
        seconds = parse_duration(timeout)
    except click.BadParameter as err:
        err.param_hint = "--timeout"
        raise
    limits = Limits(fuel=fuel, memory_pages=memory_pages, timeout_seconds=seconds)
    sandbox = Sandbox(limits)
    out_stream = sys.stdout.buffer
    err_stream = sys.stderr.buffer
    if function is None:
        wasi = WasiOptions(
            args=args, env=env, stdin=stdin_data, stdout=out_stream, stderr=err_stream, dirs=grants
        )
        sandbox.run_wasi(module, wasi)
        return
    wasi = WasiOptions(env=env, stdin=stdin_data, stdout=out_stream, stderr=err_stream, dirs=grants)
    result = sandbox.invoke(
        module, function, args, wasi=wasi, returns=cast(Returns, returns), cli_args=True
    )
    _print_value(result.value, returns)


wasm_group.add_command(inspect_cmd)
wasm_group.add_command(run_cmd)


def _register() -> None:
    from tuskops.cli.wasm_build_cmd import build_cmd

    wasm_group.add_command(build_cmd)


_register()


# --- pack -------------------------------------------------------------------------------------


@click.command("pack")
@click.argument("module", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="npm package name (default: the module's file name).")
@click.option("--version", "version", default="0.1.0", show_default=True, help="Package version.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the package to (default: ./NAME-npm).",
)
@click.option(
    "--signature",
    "signatures",
    multiple=True,
    metavar="'FN(KIND,...)->KIND'",
    help="Declare an export's string/bytes parameters and result: 'greet(str)->str', "
    "'hash(data: bytes) -> i32'. Kinds: i32 i64 f32 f64 str bytes (result also void). "
    "Repeatable.",
)
@click.option("--no-npm-pack", is_flag=True, help="Write the package directory only.")
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def pack_cmd(
    module: Path,
    name: str | None,
    version: str,
    out_dir: Path | None,
    signatures: tuple[str, ...],
    no_npm_pack: bool,
    output: str,
) -> None:
    """Package MODULE for npm: Node ESM and CommonJS entries, a browser entry (streaming
    compilation, falling back when the server sends the wrong MIME type), a service worker that
    caches the module for offline use, TypeScript types from the module's exports, then
    `npm pack`.

    Numbers pass as they are (i64 as bigint). Strings and bytes go through the memory ABI
    (alloc/dealloc exports, pointer and length, docs/wasm.md); the wasm types cannot say which
    i32 pairs are strings, so declare them with --signature.

    \b
    Examples:
      tuskops wasm pack text.wasm --signature 'upper(str)->str'
      tuskops wasm pack lib.wasm --name @acme/lib --version 1.2.0 --out dist/npm
      tuskops wasm pack math.wasm --no-npm-pack -o json
    """
    from tuskops.wasm.pack import default_name, pack

    target = out_dir or Path(f"{(name or default_name(module)).rpartition('/')[2]}-npm")
    result = pack(
        module,
        target,
        name=name,
        version=version,
        signatures=signatures,
        npm_pack=not no_npm_pack,
    )
    if output == "json":
        print_json(result.to_json())
        return
    con = stdout()
    con.print(f"[bold]{escape(result.name)}@{escape(result.version)}[/bold] in {result.out_dir}")
    for fn in result.functions:
        con.print(f"  {escape(fn.name)}({escape(fn.ts_params)}): {escape(fn.ts_result)}")
    for skipped, reason in result.skipped:
        con.print(f"  [yellow]skipped[/yellow] {escape(skipped)}: {escape(reason)}")
    if result.wasi:
        con.print("  WASI preview 1 imports: the minimal shim (README.md)")
    if result.tarball is not None:
        con.print(f"tarball: {result.tarball}")


wasm_group.add_command(pack_cmd)

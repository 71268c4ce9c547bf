"""``tuskops wasm build``: compile C or Rust to WebAssembly, reporting the size after each step.

Exported, not registered: the ``wasm`` group adds it.
"""

from __future__ import annotations

from pathlib import Path

import click

from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stderr

__all__ = ["build_cmd"]


def _step_line(name: str, size: int, previous: int | None, skipped: str | None) -> str:
    if skipped is not None:
        return f"  {name:<14} skipped: {skipped}"
    change = ""
    if previous:
        change = f"  ({(size - previous) / previous:+.1%})"
    return f"  {name:<14} {size:>12,} bytes{change}"


@click.command("build", short_help="Compile C or Rust to WebAssembly.")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--profile",
    type=click.Choice(["debug", "release", "size"]),
    default="release",
    show_default=True,
    help="debug: -O0 with debug info; release: -O2, strip, wasm-opt -O3; "
    "size: -Oz, strip, wasm-opt -Oz.",
)
@click.option(
    "--target",
    type=click.Choice(["wasm32", "wasi"]),
    default="wasm32",
    show_default=True,
    help="wasm32: freestanding (no libc, exports only); wasi: wasi-libc or Rust std, a "
    "command when the source has main(), else a reactor.",
)
@click.option(
    "--export",
    "exports",
    metavar="NAME",
    multiple=True,
    help="Export NAME too (besides export_name attributes and #[no_mangle] functions).",
)
@click.option(
    "--out",
    "output_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the module [default: x.wasm beside a file, dist/NAME.wasm in a project].",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def build_cmd(
    source: Path,
    profile: str,
    target: str,
    exports: tuple[str, ...],
    output_file: Path | None,
    output: str,
) -> None:
    """Compile SOURCE (a .c file, a directory of C sources, a .rs file or a Cargo crate) to
    WebAssembly. Stripping and wasm-opt run as separate steps and the size after each is
    shown. A missing compiler, target library or tool is named with the package that provides
    it (exit 3); a compile error shows the compiler's output (exit 1).

    \b
    Examples:
      tuskops wasm build add.c --profile size
      tuskops wasm build hello.c --target wasi --out public/hello.wasm
      tuskops wasm build crates/kernel -o json
    """
    from tuskops.wasm.build import BuildStep, build

    err = stderr()
    previous: list[int] = []

    def progress(step: BuildStep) -> None:
        if output == "text":
            before = previous[-1] if previous else None
            click.echo(_step_line(step.name, step.size, before, step.skipped), err=True)
        previous.append(step.size)

    if output == "text":
        click.echo(f"Building {source} ({target}, {profile})", err=True)
    with err.status(f"Building {source}..."):
        result = build(
            source,
            output=output_file,
            profile=profile,  # type: ignore[arg-type]
            target=target,  # type: ignore[arg-type]
            exports=exports,
            progress=progress,
        )
    if output == "json":
        print_json(result.to_json())
        return
    click.echo(
        f"Built {result.output} ({result.language}, {result.toolchain}): {result.size:,} bytes"
    )

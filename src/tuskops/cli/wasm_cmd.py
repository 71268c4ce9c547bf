"""``tuskops wasm``: build, inspect, run and package WebAssembly modules."""

from __future__ import annotations

import click

__all__ = ["wasm_group"]


@click.group("wasm", short_help="Build, inspect, run and package WebAssembly modules.")
def wasm_group() -> None:
    """Build C and Rust to WebAssembly, inspect and run modules in a sandbox, and package them
    for npm."""

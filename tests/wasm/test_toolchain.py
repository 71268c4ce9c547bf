"""Toolchain detection: the rustc that has the target wins, missing pieces name their package."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tuskops.wasm import toolchain
from tuskops.wasm.toolchain import MissingToolchain, find_c, find_rust, rust_target_names


def fake_rustc(directory: Path, sysroot: Path) -> Path:
    """A stand-in rustc that answers `--print sysroot` and `--version` only."""
    directory.mkdir(parents=True)
    path = directory / "rustc"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--print" ]; then echo {sysroot}; else echo "rustc 9.9.9 (fake)"; fi\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_the_rustc_with_the_target_std_is_chosen(tmp_path: Path) -> None:
    without = tmp_path / "without"
    (without / "lib/rustlib/x86_64-unknown-linux-gnu/lib").mkdir(parents=True)
    with_wasm = tmp_path / "with"
    (with_wasm / "lib/rustlib/wasm32-wasi/lib").mkdir(parents=True)
    first = fake_rustc(tmp_path / "a", without)
    second = fake_rustc(tmp_path / "b", with_wasm)
    env = {"RUSTC": str(first), "PATH": f"{second.parent}:{os.environ['PATH']}"}
    old = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]
    try:
        chain = find_rust("wasm32-wasi", env)
    finally:
        os.environ["PATH"] = old
    assert chain.rustc == second
    assert chain.target == "wasm32-wasi"  # the old name, as this rustc knows it
    assert chain.version == "rustc 9.9.9 (fake)"


def test_a_missing_rust_target_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib/rustlib").mkdir(parents=True)
    only = fake_rustc(tmp_path / "bin", sysroot)
    monkeypatch.setenv("PATH", str(only.parent))
    monkeypatch.setattr(toolchain, "RUSTC_LOCATIONS", ())
    with pytest.raises(MissingToolchain) as info:
        find_rust("wasm32-unknown-unknown", {"RUSTC": str(only)})
    assert "no rustc with the wasm32-unknown-unknown standard library" in str(info.value)
    assert "libstd-rust-dev-wasm32" in info.value.hint
    assert info.value.exit_code == 3


def test_no_clang_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingToolchain, match="apt-get install clang lld"):
        find_c({})


def test_target_names() -> None:
    assert rust_target_names("wasm32-wasi") == ("wasm32-wasip1", "wasm32-wasi")
    assert rust_target_names("wasm32-unknown-unknown") == ("wasm32-unknown-unknown",)

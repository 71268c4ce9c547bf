"""``tuskops wasm pack``: the files it writes, package.json's exports, the types, the checks
it makes on the module and the signatures, npm pack's tarball, and the CLI."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from _support.browser import (
    ENV_IMPORT_WAT,
    GREETER_SIGNATURES,
    GREETER_WAT,
    WASI_WAT,
    write_module,
)
from tuskops.cli.main import cli
from tuskops.wasm.pack import MARKER, PackError, pack, parse_signature


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    return write_module(GREETER_WAT, tmp_path / "greeter.wasm")


def test_signature_syntax() -> None:
    sig = parse_signature("concat(a: str, b: str) -> str")
    assert (sig.name, sig.params, sig.result, sig.param_names) == (
        "concat",
        ("str", "str"),
        "str",
        ("a", "b"),
    )
    assert parse_signature("f()").params == ()
    assert parse_signature("f(i32,bytes)->void").result == "void"
    for bad, words in [
        ("f(string)", "unknown parameter kind 'string'"),
        ("f(i32)->text", "unknown result kind 'text'"),
        ("f i32", "expected NAME(KIND"),
        ("f(1x: i32)", "not a parameter name"),
    ]:
        with pytest.raises(PackError, match=words.replace("(", r"\(")):
            parse_signature(bad)


def test_package_files_and_exports(greeter: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    result = pack(
        greeter,
        out,
        name="@acme/greeter",
        version="1.2.3",
        signatures=GREETER_SIGNATURES,
        npm_pack=False,
    )
    assert result.tarball is None
    assert result.wasm_file == "greeter.wasm"
    on_disk = sorted(p.name for p in out.iterdir())
    assert on_disk == sorted([*result.files, MARKER])
    assert (out / "greeter.wasm").read_bytes() == greeter.read_bytes()

    package = json.loads((out / "package.json").read_text())
    assert package["name"] == "@acme/greeter"
    assert package["version"] == "1.2.3"
    assert package["type"] == "module"
    assert package["sideEffects"] is False
    root = package["exports"]["."]
    assert next(iter(root)) == "browser"  # conditions are matched in order: browser before node's
    assert root["browser"] == {"types": "./browser.d.ts", "default": "./browser.mjs"}
    assert root["import"] == {"types": "./index.d.ts", "default": "./index.mjs"}
    assert root["require"] == {"types": "./index.d.cts", "default": "./index.cjs"}
    assert package["exports"]["./sw.js"] == "./sw.js"
    assert MARKER not in package["files"]
    for target in {"./index.mjs", "./index.cjs", "./browser.mjs", "./index.d.ts", "./sw.js"}:
        assert target.removeprefix("./") in package["files"]

    names = {f.name: f for f in result.functions}
    assert set(names) == {"live", "add", "add64", "half", "greet", "concat", "checksum", "reverse"}
    assert "alloc" not in names
    assert "dealloc" not in names
    assert dict(result.skipped) == {
        "not-an-identifier": "not a JavaScript identifier (call it via wasmExports)"
    }
    assert names["concat"].params == ("str", "str")
    assert names["concat"].results == ("str",)
    assert names["add64"].params == ("i64", "i64")


def test_types_follow_exports_and_signatures(greeter: Path, tmp_path: Path) -> None:
    pack(greeter, tmp_path / "pkg", signatures=GREETER_SIGNATURES, npm_pack=False)
    dts = (tmp_path / "pkg" / "index.d.ts").read_text()
    for line in [
        "export declare function add(arg0: number, arg1: number): number;",
        "export declare function add64(arg0: bigint, arg1: bigint): bigint;",
        "export declare function half(arg0: number): number;",
        "export declare function greet(name: string): string;",
        "export declare function concat(a: string, b: string): string;",
        "export declare function checksum(data: Uint8Array): number;",
        "export declare function reverse(data: Uint8Array): Uint8Array;",
    ]:
        assert line in dts
    assert "registerServiceWorker" not in dts
    cts = (tmp_path / "pkg" / "index.d.cts").read_text()
    assert "  export function greet(name: string): string;" in cts
    assert "export = api;" in cts
    browser = (tmp_path / "pkg" / "browser.d.ts").read_text()
    assert "export declare function greet(name: string): string;" in browser
    assert "export declare function registerServiceWorker(" in browser
    readme = (tmp_path / "pkg" / "README.md").read_text()
    assert "| `greet(str) -> str` | `greet(name: string): string` |" in readme


def test_templates_are_filled(greeter: Path, tmp_path: Path) -> None:
    pack(greeter, tmp_path / "pkg", version="2.0.0", signatures=GREETER_SIGNATURES, npm_pack=False)
    for name in ("index.mjs", "index.cjs", "browser.mjs", "sw.js", "index.d.ts", "README.md"):
        text = (tmp_path / "pkg" / name).read_text()
        assert "{{" not in text, name
    mjs = (tmp_path / "pkg" / "index.mjs").read_text()
    assert "export const greet = api.greet;" in mjs
    assert '"greet": [["str"], "str"]' in mjs
    sw = (tmp_path / "pkg" / "sw.js").read_text()
    assert 'new URL("./greeter.wasm", here)' in sw
    assert 'const CACHE = CACHE_PREFIX + "2.0.0:' in sw


def test_signature_must_match_the_module(greeter: Path, tmp_path: Path) -> None:
    cases = [
        ("greet(str, i32) -> str", "takes \\(i32, i32\\)"),
        ("greet(str) -> i32", "returns \\(i64\\)"),
        ("add(str, str) -> i32", "the module's add takes \\(i32, i32\\)"),
        ("nope(str)", "exports no such function"),
    ]
    for sig, words in cases:
        with pytest.raises(PackError, match=words):
            pack(greeter, tmp_path / "pkg", signatures=[sig], npm_pack=False)
    assert not (tmp_path / "pkg").exists()  # nothing half-written


def test_strings_need_the_allocator(tmp_path: Path) -> None:
    module = write_module(
        '(module (memory (export "memory") 1) (func (export "len") (param i32 i32) (result i32)'
        " local.get 1))",
        tmp_path / "noalloc.wasm",
    )
    with pytest.raises(PackError, match="does not export alloc"):
        pack(module, tmp_path / "pkg", signatures=["len(str) -> i32"], npm_pack=False)
    result = pack(module, tmp_path / "pkg", npm_pack=False)  # as numbers it is fine
    assert result.functions[0].params == ("i32", "i32")


def test_imports_other_than_wasi_are_refused(tmp_path: Path) -> None:
    module = write_module(ENV_IMPORT_WAT, tmp_path / "env.wasm")
    with pytest.raises(PackError, match=r"imports func env\.now: the package provides only WASI"):
        pack(module, tmp_path / "pkg", npm_pack=False)
    wasi = write_module(WASI_WAT, tmp_path / "wasi.wasm")
    result = pack(wasi, tmp_path / "wasi-pkg", signatures=["shout(str)->i32"], npm_pack=False)
    assert result.wasi
    assert "_initialize" not in {f.name for f in result.functions}


def test_a_command_module_is_refused(tmp_path: Path) -> None:
    module = write_module('(module (func (export "_start")))', tmp_path / "cmd.wasm")
    with pytest.raises(PackError, match="is a WASI command"):
        pack(module, tmp_path / "pkg", npm_pack=False)


def test_names_and_versions_are_checked(greeter: Path, tmp_path: Path) -> None:
    with pytest.raises(PackError, match="not a valid npm package name"):
        pack(greeter, tmp_path / "pkg", name="Greeter", npm_pack=False)
    with pytest.raises(PackError, match="not a semantic version"):
        pack(greeter, tmp_path / "pkg", version="1.0", npm_pack=False)


def test_out_dir_replaced_only_when_ours(greeter: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    pack(greeter, out, version="1.0.0", npm_pack=False)
    pack(greeter, out, version="1.0.1", npm_pack=False)
    assert json.loads((out / "package.json").read_text())["version"] == "1.0.1"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "main.c").write_text("int x;")
    with pytest.raises(PackError, match="not written by tuskops wasm pack"):
        pack(greeter, foreign, npm_pack=False)
    assert [p.name for p in foreign.iterdir()] == ["main.c"]


def test_npm_pack_tarball(greeter: Path, tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("needs npm")
    result = pack(
        greeter,
        tmp_path / "pkg",
        name="@acme/greeter",
        version="0.3.0",
        signatures=GREETER_SIGNATURES,
    )
    assert result.tarball == tmp_path / "pkg" / "acme-greeter-0.3.0.tgz"
    with tarfile.open(result.tarball) as tar:
        members = sorted(m.name for m in tar.getmembers())
        package = json.loads(tar.extractfile("package/package.json").read())  # type: ignore[union-attr]
    expected = ["README.md", "browser.d.ts", "browser.mjs", "greeter.wasm", "index.cjs"]
    expected += ["index.d.cts", "index.d.ts", "index.mjs", "package.json", "sw.js"]
    assert members == [f"package/{name}" for name in expected]
    assert package["version"] == "0.3.0"


def test_cli_pack(greeter: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-pkg"
    runner = CliRunner()
    args = ["wasm", "pack", str(greeter), "--out", str(out), "--no-npm-pack", "-o", "json"]
    args += ["--signature", "greet(str)->str", "--version", "4.5.6", "--name", "hello-wasm"]
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["name"] == "hello-wasm"
    assert report["tarball"] is None
    greet = next(f for f in report["functions"] if f["name"] == "greet")
    assert greet == {"name": "greet", "params": ["str"], "results": ["str"]}
    assert (out / "hello-wasm.wasm").is_file()

    bad = runner.invoke(
        cli, ["wasm", "pack", str(greeter), "--out", str(out), "--signature", "greet(str)->i32"]
    )
    assert bad.exit_code == 2
    assert "returns (i64)" in bad.output

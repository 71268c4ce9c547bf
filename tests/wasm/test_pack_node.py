"""The package ``tuskops wasm pack`` writes, used as npm users would: installed from its
tarball, imported by Node 20 through the ESM and the CommonJS entry (numbers, bigints, strings,
bytes, memory growth, freeing, WASI), and type-checked by ``tsc`` from the npm ``typescript``
package against consumers that are right and one that is wrong."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _support.browser import (
    GREETER_SIGNATURES,
    GREETER_WAT,
    WASI_WAT,
    cached_npm_package,
    need,
    write_module,
)
from tuskops.wasm.pack import pack


@dataclass(frozen=True)
class Consumer:
    """A project with the packed packages installed from their tarballs."""

    root: Path
    node: str


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    node = need("node")
    npm = need("npm")
    work = tmp_path_factory.mktemp("pack-node")
    greeter = pack(
        write_module(GREETER_WAT, work / "greeter.wasm"),
        work / "greeter-npm",
        name="@tuskops-test/greeter",
        version="1.0.0",
        signatures=GREETER_SIGNATURES,
    )
    wasi = pack(
        write_module(WASI_WAT, work / "shouter.wasm"),
        work / "shouter-npm",
        name="shouter",
        version="0.1.0",
        signatures=["shout(str) -> i32"],
    )
    root = work / "app"
    root.mkdir()
    (root / "package.json").write_text('{"name": "app", "private": true}\n')
    tarballs = [str(greeter.tarball), str(wasi.tarball)]
    subprocess.run(
        [npm, "install", "--offline", "--no-audit", "--no-fund", *tarballs],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return Consumer(root, node)


def run_node(consumer: Consumer, filename: str, source: str) -> Any:
    script = consumer.root / filename
    script.write_text(source)
    done = subprocess.run(
        [consumer.node, str(script)],
        cwd=consumer.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


CALLS = """
const big = "ab".repeat(150000);  // 300 kB: alloc grows memory, so old views detach
const out = {
  add: pkg.add(2, 40),
  add64: String(pkg.add64(9007199254740993n, 2n)),
  half: pkg.half(5),
  greet: pkg.greet("wörld 🌍"),
  empty: pkg.greet(""),
  concat: pkg.concat("tusk", "ops"),
  checksum: pkg.checksum(new Uint8Array([1, 2, 3, 250])),
  reverse: Array.from(pkg.reverse(new Uint8Array([1, 2, 3]))),
  reverseIsBytes: pkg.reverse(new Uint8Array([9])) instanceof Uint8Array,
  bigLength: pkg.concat(big, big).length,
  mode: pkg.compileMode,
  defaultGreet: api.greet("default"),
};
try { pkg.greet(42); out.wrongType = "no error"; }
catch (e) { out.wrongType = e.name + ": " + e.message; }
try { pkg.add64(1, 2); out.numberForI64 = "no error"; } catch (e) { out.numberForI64 = e.name; }
out.live = pkg.live();
console.log(JSON.stringify(out));
"""

EXPECTED = {
    "add": 42,
    "add64": "9007199254740995",
    "half": 2.5,
    "greet": "Hello, wörld 🌍!",
    "empty": "Hello, !",
    "concat": "tuskops",
    "checksum": 256,
    "reverse": [3, 2, 1],
    "reverseIsBytes": True,
    "bigLength": 600000,
    "mode": "buffer",
    "defaultGreet": "Hello, default!",
    "wrongType": "TypeError: greet: argument 1 must be a string",
    "numberForI64": "TypeError",
    "live": 0,  # every argument and result buffer was freed
}


def test_esm_entry(consumer: Consumer) -> None:
    source = (
        'import * as pkg from "@tuskops-test/greeter";\n'
        'import api from "@tuskops-test/greeter";\n' + CALLS
    )
    assert run_node(consumer, "esm.mjs", source) == EXPECTED


def test_cjs_entry(consumer: Consumer) -> None:
    source = 'const pkg = require("@tuskops-test/greeter");\nconst api = pkg.default;\n' + CALLS
    assert run_node(consumer, "cjs.cjs", source) == EXPECTED


def test_cjs_and_esm_resolve_to_their_own_files(consumer: Consumer) -> None:
    source = """
const { createRequire } = await import("node:module");
const require = createRequire(import.meta.url);
console.log(JSON.stringify({
  esm: import.meta.resolve("@tuskops-test/greeter").split("/").pop(),
  cjs: require.resolve("@tuskops-test/greeter").split("/").pop(),
}));
"""
    assert run_node(consumer, "resolve.mjs", source) == {"esm": "index.mjs", "cjs": "index.cjs"}


def test_wasi_reactor_gets_the_shim(consumer: Consumer) -> None:
    script = consumer.root / "wasi.mjs"
    script.write_text(
        'import { shout, inits, quit, WasiExit } from "shouter";\n'
        'const status = shout("hello from wasm");\n'
        "let exit = null;\n"
        "try { quit(3); } catch (e) { exit = e instanceof WasiExit ? e.code : String(e); }\n"
        "console.log(JSON.stringify({ status, inits: inits(), exit }));\n"
    )
    done = subprocess.run(
        [consumer.node, str(script)],
        cwd=consumer.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "hello from wasm"  # fd_write(1, ...) reached console.log
    assert json.loads(lines[1]) == {"status": 0, "inits": 1, "exit": 3}


# --- TypeScript ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tsc(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    prefix = cached_npm_package("typescript@5", "typescript-5", tmp_path_factory.mktemp("ts"))
    return [need("node"), str(prefix / "node_modules" / "typescript" / "bin" / "tsc")]


def type_check(
    tsc: list[str], consumer: Consumer, name: str, files: dict[str, str], options: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    project = consumer.root / name
    project.mkdir(exist_ok=True)
    for filename, text in files.items():
        (project / filename).write_text(text)
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "es2022",
            "lib": ["es2022"],
            "types": [],
            **options,
        },
        "files": list(files),
    }
    (project / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run(
        [*tsc, "-p", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


NODE16 = {"module": "node16", "moduleResolution": "node16"}

GOOD_ESM = """
import api, { add, add64, greet, concat, checksum, reverse, compileMode }
  from "@tuskops-test/greeter";
const n: number = add(1, 2);
const b: bigint = add64(1n, 2n);
const s: string = greet("x") + concat("a", "b") + api.greet("y");
const c: number = checksum(new Uint8Array([1]));
const r: Uint8Array = reverse(new Uint8Array([1]));
const m: "buffer" | "streaming" | "instantiate" = compileMode;
export { n, b, s, c, r, m };
"""

GOOD_CJS = """
import pkg = require("@tuskops-test/greeter");
const s: string = pkg.greet("x");
const b: bigint = pkg.add64(1n, 2n);
const m: "buffer" = pkg.compileMode;
export { s, b, m };
"""


@pytest.mark.network
def test_tsc_accepts_correct_consumers(tsc: list[str], consumer: Consumer) -> None:
    done = type_check(
        tsc, consumer, "ts-good", {"main.mts": GOOD_ESM, "main.cts": GOOD_CJS}, NODE16
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.network
def test_tsc_rejects_wrong_calls(tsc: list[str], consumer: Consumer) -> None:
    wrong = (
        'import { greet, add64, checksum } from "@tuskops-test/greeter";\n'
        "greet(42);\n"
        "add64(1, 2);\n"
        'checksum("text");\n'
        'const n: number = greet("x");\n'
    )
    done = type_check(tsc, consumer, "ts-wrong", {"wrong.mts": wrong}, NODE16)
    assert done.returncode != 0
    errors = [line for line in done.stdout.splitlines() if "error TS" in line]
    where = sorted(line.split(":")[0] for line in errors)
    assert where == [f"wrong.mts({n},{col})" for n, col in [(2, 7), (3, 7), (4, 10), (5, 7)]]
    assert "not assignable to parameter of type 'string'" in errors[0]


@pytest.mark.network
def test_tsc_browser_condition_types(tsc: list[str], consumer: Consumer) -> None:
    source = (
        'import { registerServiceWorker, greet, fallbackReason } from "@tuskops-test/greeter";\n'
        'await registerServiceWorker({ scope: "/", cache: ["/index.html"] });\n'
        'const s: string = greet("x") + fallbackReason;\n'
        "export { s };\n"
    )
    browser = {"module": "es2022", "moduleResolution": "bundler", "customConditions": ["browser"]}
    done = type_check(tsc, consumer, "ts-browser", {"page.ts": source}, browser)
    assert done.returncode == 0, done.stdout + done.stderr
    # Node's entry has no service worker: the same file fails against its types.
    done = type_check(tsc, consumer, "ts-node-sw", {"page.mts": source}, NODE16)
    assert "has no exported member 'registerServiceWorker'" in done.stdout


# --- a C reactor built with tuskops.wasm.build --------------------------------------------------

WORDS_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((export_name("alloc"))) void *alloc(uint32_t len) { return malloc(len); }
__attribute__((export_name("dealloc"))) void dealloc(void *p, uint32_t len) { free(p); }

/* words(text) -> "N words", printing the text on stdout through wasi-libc's stdio. */
__attribute__((export_name("words"))) uint64_t words(const char *s, uint32_t len) {
  printf("got: %.*s\n", (int)len, s);
  fflush(stdout);
  int count = 0, in_word = 0;
  for (uint32_t i = 0; i < len; i++) {
    int space = s[i] == ' ' || s[i] == '\n' || s[i] == '\t';
    if (!space && !in_word) count++;
    in_word = !space;
  }
  char *out = malloc(32);
  int n = snprintf(out, 32, "%d words", count);
  return ((uint64_t)(uintptr_t)out << 32) | (uint32_t)n;
}
"""


def test_c_wasi_reactor_from_the_build(tmp_path: Path) -> None:
    from tuskops.wasm.build import WasmBuildError, build
    from tuskops.wasm.toolchain import MissingToolchain

    node = need("node")
    source = tmp_path / "words.c"
    source.write_text(WORDS_C)
    try:
        built = build(source, target="wasi", profile="release")
    except (MissingToolchain, WasmBuildError) as err:
        pytest.skip(f"cannot build a WASI reactor from C here: {err}")
    result = pack(built.output, tmp_path / "words", signatures=["words(str)->str"], npm_pack=False)
    assert result.wasi
    script = tmp_path / "use.mjs"
    script.write_text(
        f'import {{ words }} from "{(tmp_path / "words" / "index.mjs").as_posix()}";\n'
        'console.log(JSON.stringify(words("the quick  brown fox")));\n'
    )
    done = subprocess.run(
        [node, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["got: the quick  brown fox", '"4 words"']

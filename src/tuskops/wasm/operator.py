"""``@wasm``: WebAssembly in a config.

::

    kernel: @wasm.build({source: "kernels/fib.c", profile: "size", path: "public/fib.wasm"})
    answer: @wasm.call("lib/math.wasm", "add", 2, 40)            # 42, at evaluation time
    greeting: @wasm.call_string("lib/greet.wasm", "greet", "tusk")
    math_module: @wasm.inspect("lib/math.wasm")            # imports, exports, sizes

``build`` describes a module as an *artifact* resource (:mod:`tuskops.core.artifacts`): the plan
shows its recipe (source, a hash of the source files, profile, target, exports) and apply
compiles it into the target, so evaluation never runs a compiler. ``call`` and ``call_string``
run a function at evaluation time under strict limits (:meth:`Limits.strict`: 10M fuel, 16 MiB,
5 s) and only for modules whose result cannot depend on the outside world: the sandbox's
deterministic mode refuses WASI clocks, randomness and ``poll_oneoff``, and grants nothing else
(no arguments, environment, stdin or files). ``inspect`` reads a module's imports, exports
and sizes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from tuskops.core.artifacts import ARTIFACT_FORMAT
from tuskops.core.operator import CallContext, Operator, action
from tuskops.core.resource import ORDER_CONFIG, Resource
from tuskops.errors import OperatorArgumentError, OperatorError, TargetError, TuskError

__all__ = ["WasmOperator", "build_artifact"]

#: The files of a source directory that decide a build's output.
_SOURCE_SUFFIXES = (".c", ".h", ".rs", ".toml", ".lock")
_SKIPPED_DIRS = frozenset({"dist", "build", "target", "node_modules", ".git"})
_BUILD_KEYS = frozenset({"source", "path", "profile", "target", "exports"})


def _source_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    return sorted(
        p
        for p in source.rglob("*")
        if p.is_file()
        and p.suffix in _SOURCE_SUFFIXES
        and not _SKIPPED_DIRS.intersection(p.relative_to(source).parts)
    )


def source_digest(source: Path) -> str:
    """sha256 over the source files' relative names and contents: what the build reads."""
    digest = hashlib.sha256()
    root = source if source.is_dir() else source.parent
    for path in _source_files(source):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _target_path(path: str) -> str:
    pure = PurePosixPath(path.replace("\\", "/"))
    if not path or pure.is_absolute() or ".." in pure.parts:
        raise OperatorArgumentError(
            f"build: path {path!r} must stay inside the target",
            hint='a relative path such as "public/app.wasm"',
        )
    return str(pure)


def build_artifact(resource: Resource) -> bytes:
    """The artifact builder: compile the recipe's source (see :mod:`tuskops.core.artifacts`)."""
    import tempfile

    from tuskops.wasm.build import build

    recipe = resource.body
    source = Path(resource.labels["source_dir"]) / str(recipe["source"])
    if not source.exists():
        raise TargetError(f"{resource.id}: source {source} is gone")
    if source_digest(source) != recipe["source_sha256"]:
        raise TargetError(f"{resource.id}: {source} changed since the plan; plan again")
    with tempfile.TemporaryDirectory(prefix="tuskops-wasm-artifact-") as scratch:
        result = build(
            source,
            output=Path(scratch) / "module.wasm",
            profile=recipe["profile"],
            target=recipe["target"],
            exports=list(recipe.get("exports", ())),
        )
        return result.output.read_bytes()


def _module_path(ctx: CallContext, module: str) -> Path:
    path = Path(module)
    return path if path.is_absolute() else ctx.base_dir / path


class WasmOperator(Operator):
    """WebAssembly: build modules on apply, call deterministic ones at evaluation time."""

    name = "wasm"
    origin: ClassVar[str] = "platform"

    @action
    def build(self, ctx: CallContext, spec: dict[str, Any]) -> Resource:
        """A module built from C or Rust on apply, into the target. Spec: `source` (a .c or
        .rs file, a C directory or a Cargo crate, relative to this file), `path` in the target
        (default wasm/NAME.wasm), `profile` (debug, release, size), `target` (wasm32, wasi),
        `exports` (names to export besides those marked in the source)."""
        from tuskops.wasm.build import PROFILES, TARGETS

        unknown = sorted(set(spec) - _BUILD_KEYS)
        if unknown:
            raise OperatorArgumentError(
                f"build: unknown key {unknown[0]!r}", hint=f"keys: {', '.join(sorted(_BUILD_KEYS))}"
            )
        if not isinstance(spec.get("source"), str):
            raise OperatorArgumentError("build: `source` (a path) is required")
        source = ctx.base_dir / spec["source"]
        if not source.exists():
            raise OperatorArgumentError(f"build: source {spec['source']!r} does not exist")
        profile = str(spec.get("profile", "release"))
        if profile not in PROFILES:
            raise OperatorArgumentError(f"build: profile must be one of {', '.join(PROFILES)}")
        target = str(spec.get("target", "wasm32"))
        if target not in TARGETS:
            raise OperatorArgumentError(f"build: target must be one of {', '.join(TARGETS)}")
        exports = spec.get("exports", [])
        if not isinstance(exports, list) or not all(isinstance(e, str) for e in exports):
            raise OperatorArgumentError("build: `exports` must be a list of names")
        stem = source.stem if source.is_file() else source.resolve().name
        path = _target_path(str(spec.get("path", f"wasm/{stem}.wasm")))
        recipe = {
            "builder": "wasm",
            "source": PurePosixPath(Path(os.path.relpath(source, ctx.base_dir))).as_posix(),
            "source_sha256": source_digest(source),
            "profile": profile,
            "target": target,
            "exports": list(exports),
        }
        return Resource(
            operator="wasm",
            kind="module",
            name=path,
            body=recipe,
            path=path,
            format=ARTIFACT_FORMAT,
            order=ORDER_CONFIG,
            labels={"source_dir": str(ctx.base_dir)},
        )

    def _call(
        self, ctx: CallContext, module: str, function: str, args: Sequence[Any], returns: str
    ) -> Any:
        from tuskops.wasm.sandbox import Limits, Sandbox

        path = _module_path(ctx, module)
        try:
            stat = path.stat()
        except OSError:
            raise OperatorArgumentError(f"no module {module!r}") from None
        key = ("wasm.call", str(path), stat.st_mtime_ns, function, repr(args), returns)
        if key not in ctx.cache:
            try:
                sandbox = ctx.cache.setdefault(("wasm.sandbox",), Sandbox(Limits.strict()))
                ctx.cache[key] = sandbox.call(
                    path, function, *args, returns=returns, deterministic=True
                )
            except TuskError as exc:
                raise OperatorError(f"{path.name}: {exc}") from None
        return ctx.cache[key]

    @action
    def call(self, ctx: CallContext, module: str, function: str, *args: Any) -> Any:
        """Call `function` of `module` with numbers (or strings and bytes, through the memory
        ABI) and return its result, under strict limits; only deterministic modules."""
        return self._call(ctx, module, function, args, "value")

    @action
    def call_string(self, ctx: CallContext, module: str, function: str, *args: Any) -> str:
        """Like `call`, for a function returning a string through the memory ABI (an i64
        `ptr << 32 | len`)."""
        result: str = self._call(ctx, module, function, args, "str")
        return result

    @action
    def inspect(self, ctx: CallContext, module: str) -> dict[str, Any]:
        """A module's imports, exports with their types, memories, tables, custom sections and
        size by section."""
        from tuskops.wasm.inspect import inspect_module

        path = _module_path(ctx, module)
        try:
            return inspect_module(path).to_json()
        except TuskError as exc:
            raise OperatorError(str(exc)) from None

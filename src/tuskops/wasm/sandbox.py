"""Run WebAssembly modules sandboxed on wasmtime, with fuel, memory and wall-clock limits.

What a module can reach is only what is granted: WASI (preview 1) arguments and environment
variables given explicitly (nothing is inherited), stdin from given bytes or a file, stdout and
stderr captured or sent to given streams, and host directories preopened only by a
:class:`DirGrant`, read-only unless ``writable``. WASI preview 1 has no sockets, and nothing else
is linked, so a module has no network access. Imports other than WASI fail to link, with the
import named.

Limits (:class:`Limits`):

* ``fuel``: wasmtime's fuel metering (``Config.consume_fuel``), about one unit per instruction;
  running out raises :class:`FuelExhausted`.
* ``memory_pages``: a store limiter caps each linear memory; ``memory.grow`` past it returns -1
  to the module. A module that needs more at instantiation, or traps while its memory is at the
  limit (the usual end of a refused ``malloc``), raises :class:`MemoryLimitExceeded`.
* ``timeout_seconds``: epoch interruption. A timer thread increments the engine's epoch when the
  time is up, and the store's deadline of one tick interrupts the module:
  :class:`WasmTimeout`.

Section 6's ``@wasm.call`` is
``Sandbox(Limits.strict()).call(path, fn, *args, deterministic=True)``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import wasmtime

from tuskops.wasm.abi import Buffer, MemoryABI, convert_args, parse_cli_args, unpack
from tuskops.wasm.errors import (
    FuelExhausted,
    InvalidModuleError,
    MemoryLimitExceeded,
    WasmArgumentError,
    WasmError,
    WasmExit,
    WasmTimeout,
    WasmTrap,
)
from tuskops.wasm.inspect import compile_checked, read_framing

__all__ = [
    "NONDETERMINISTIC_WASI",
    "PAGE_SIZE",
    "WASI_MODULES",
    "DirGrant",
    "Limits",
    "RunResult",
    "Sandbox",
    "WasiOptions",
    "invoke",
    "run_wasi",
]

PAGE_SIZE = 65536
#: Import modules satisfied by wasmtime's WASI preview 1.
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")

Returns = Literal["value", "str", "bytes"]

#: WASI functions whose results differ from run to run: clocks, randomness, and
#: ``poll_oneoff`` (which waits on clocks). A deterministic call refuses modules importing them.
NONDETERMINISTIC_WASI = ("clock_time_get", "clock_res_get", "random_get", "poll_oneoff")


def _check_deterministic(compiled: wasmtime.Module) -> None:
    found = [
        f"{imp.module}.{imp.name}"
        for imp in compiled.imports
        if imp.module in WASI_MODULES and imp.name in NONDETERMINISTIC_WASI
    ]
    if found:
        raise WasmArgumentError(
            f"the module imports {', '.join(found)}, so its results may differ from run to run; "
            "a deterministic call needs a module without clocks or randomness"
        )


@dataclass(frozen=True)
class Limits:
    """What a module may use. ``None`` turns a limit off."""

    fuel: int | None = None
    memory_pages: int | None = 4096  # 256 MiB
    timeout_seconds: float | None = 30.0
    max_instances: int = 16
    max_tables: int = 16
    max_table_elements: int = 1_000_000
    max_memories: int = 16

    @classmethod
    def strict(cls) -> Limits:
        """For evaluation-time calls (``@wasm.call``): 10M fuel, 16 MiB, 5 s."""
        return cls(fuel=10_000_000, memory_pages=256, timeout_seconds=5.0)


@dataclass(frozen=True)
class DirGrant:
    """A host directory the module may open as ``guest``; read-only unless ``writable``."""

    host: Path
    guest: str
    writable: bool = False

    @classmethod
    def parse(cls, text: str) -> DirGrant:
        """``HOST::GUEST`` or ``HOST::GUEST:rw`` (``:ro`` is the default)."""
        host, sep, guest = text.partition("::")
        if not sep or not host or not guest:
            raise WasmArgumentError(f"--dir {text!r}: expected HOST::GUEST or HOST::GUEST:rw")
        writable = False
        for suffix, rw in ((":rw", True), (":ro", False)):
            if guest.endswith(suffix):
                guest, writable = guest[: -len(suffix)], rw
                break
        return cls(Path(host), guest, writable)


@dataclass(frozen=True)
class WasiOptions:
    """The WASI world a module sees. Nothing is inherited from this process.

    ``stdout``/``stderr``: a binary stream to write to as the module writes, or None to capture
    into :class:`RunResult`. ``stdin``: bytes, a file, or None for an empty stdin.
    """

    args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    stdin: bytes | Path | None = None
    stdout: BinaryIO | None = None
    stderr: BinaryIO | None = None
    dirs: Sequence[DirGrant] = ()
    #: argv[0]; defaults to the module's file name.
    program_name: str | None = None


@dataclass
class RunResult:
    exit_code: int = 0
    value: Any = None
    stdout: bytes = b""
    stderr: bytes = b""
    #: Fuel the run used, when fuel is metered.
    fuel_consumed: int | None = None


# --- errors ---------------------------------------------------------------------------------


def _backtrace(trap: wasmtime.Trap) -> list[str]:
    frames = []
    for f in trap.frames:
        name = f.func_name or f"<wasm function {f.func_index}>"
        frames.append(f"0x{f.module_offset:x} {name}")
    return frames


def _trap_reason(message: str) -> str:
    for line in reversed(message.strip().splitlines()):
        line = line.strip()
        if line.startswith("wasm trap:"):
            return line[len("wasm trap:") :].strip()
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown trap"


def _largest_memory(store: wasmtime.Store, exports: Any) -> int | None:
    """Pages of the largest exported memory, None when none is exported (or no instance)."""
    if exports is None:
        return None
    sizes = [int(m.size(store)) for m in exports.values() if isinstance(m, wasmtime.Memory)]
    return max(sizes) if sizes else None


# --- the sandbox -----------------------------------------------------------------------------


class Sandbox:
    """Compiles and runs modules under one set of :class:`Limits`.

    A sandbox caches compiled modules (by path and modification time, or by content), so calling
    the same module again is cheap. Each run gets a fresh store and instance: nothing carries
    over between runs. Runs on one sandbox are serialised (the wall-clock timer drives the
    engine's epoch); use one sandbox per thread for parallel runs.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        config = wasmtime.Config()
        config.consume_fuel = self.limits.fuel is not None
        config.epoch_interruption = self.limits.timeout_seconds is not None
        self.engine = wasmtime.Engine(config)
        self._modules: dict[tuple[Any, ...], wasmtime.Module] = {}
        self._lock = threading.RLock()

    # -- compiling --

    def compile(self, module: bytes | str | os.PathLike[str]) -> wasmtime.Module:
        """The compiled module; :class:`InvalidModuleError` names what is wrong."""
        if isinstance(module, bytes | bytearray):
            data = bytes(module)
            key: tuple[Any, ...] = ("bytes", hashlib.sha256(data).hexdigest())
            source = "<bytes>"
        else:
            path = Path(module)
            source = str(path)
            try:
                st = path.stat()
                key = ("path", str(path.resolve()), st.st_mtime_ns, st.st_size)
                if key in self._modules:
                    return self._modules[key]
                data = path.read_bytes()
            except OSError as err:
                raise InvalidModuleError(source, f"cannot read: {err.strerror or err}") from None
        if key in self._modules:
            return self._modules[key]
        framing = read_framing(data, source)  # a clear error for a file that is not wasm at all
        compiled = compile_checked(self.engine, data, source, framing)
        self._modules[key] = compiled
        return compiled

    # -- running --

    def run_wasi(
        self, module: bytes | str | os.PathLike[str], wasi: WasiOptions | None = None
    ) -> RunResult:
        """Run a WASI command (its ``_start``). A non-zero ``proc_exit`` raises
        :class:`WasmExit`; ``exit(0)`` and returning from ``main`` are success."""
        wasi = wasi or WasiOptions()
        compiled = self.compile(module)
        with self._instance(module, compiled, wasi) as (store, instance, out):
            exports = instance.exports(store)
            start = exports.get("_start")
            if not isinstance(start, wasmtime.Func):
                raise WasmArgumentError(
                    "the module has no '_start' export, so it is not a WASI command; "
                    "name a function with --invoke"
                )
            code = self._guard(store, exports, out, lambda: start(store))
            return out.result(store, self, exit_code=code)

    def invoke(
        self,
        module: bytes | str | os.PathLike[str],
        function: str,
        args: Sequence[Any] = (),
        *,
        wasi: WasiOptions | None = None,
        returns: Returns = "value",
        cli_args: bool = False,
        deterministic: bool = False,
    ) -> RunResult:
        """Call the export ``function``.

        ``args``: ints and floats by the parameter types; ``str``/``bytes`` through the memory
        ABI (:mod:`tuskops.wasm.abi`). With ``cli_args=True`` they are command-line words,
        converted by the parameter types (``str:TEXT``, ``hex:HEX`` for strings and bytes).
        ``deterministic=True`` refuses a module that imports a WASI clock, randomness or
        ``poll_oneoff`` (:data:`NONDETERMINISTIC_WASI`).
        ``returns``: ``"value"`` gives the raw result (None, a number, or a list for several);
        ``"str"``/``"bytes"`` read a packed ``(ptr << 32) | len`` i64 result from memory.
        """
        wasi = wasi or WasiOptions()
        compiled = self.compile(module)
        if deterministic:
            _check_deterministic(compiled)
        with self._instance(module, compiled, wasi) as (store, instance, out):
            exports = instance.exports(store)
            func = exports.get(function)
            if not isinstance(func, wasmtime.Func):
                funcs = sorted(n for n, e in exports.items() if isinstance(e, wasmtime.Func))
                what = "is not a function" if function in exports else "does not exist"
                raise WasmArgumentError(
                    f"export '{function}' {what}; functions exported: "
                    + (", ".join(funcs) or "none")
                )
            ty = func.type(store)
            params = [str(p) for p in ty.params]
            results = [str(r) for r in ty.results]
            abi = MemoryABI(store, exports)
            values = (
                parse_cli_args(params, [str(a) for a in args], abi=abi.available)
                if cli_args
                else convert_args(params, list(args), abi=abi.available)
            )
            if returns != "value" and results != ["i64"]:
                raise WasmArgumentError(
                    f"'{function}' returns ({', '.join(results)}), not an i64 (ptr << 32 | len), "
                    f"so its result cannot be read as {returns}"
                )

            def call() -> Any:
                init = exports.get("_initialize")
                if isinstance(init, wasmtime.Func):
                    init(store)
                flat: list[Any] = []
                owned: list[tuple[int, int]] = []
                for v in values:
                    if isinstance(v, Buffer):
                        ptr, length = abi.write(v.data)
                        owned.append((ptr, length))
                        flat += [ptr, length]
                    else:
                        flat.append(v)
                value = func(store, *flat)
                for ptr, length in owned:
                    abi.free(ptr, length)
                if returns == "value":
                    return value
                ptr, length = unpack(int(value))
                data = abi.read(ptr, length)
                abi.free(ptr, length)
                return data.decode("utf-8", errors="replace") if returns == "str" else data

            box: list[Any] = []
            code = self._guard(store, exports, out, lambda: box.append(call()))
            return out.result(store, self, exit_code=code, value=box[0] if box else None)

    def call(
        self,
        module: bytes | str | os.PathLike[str],
        function: str,
        *args: Any,
        returns: Returns = "value",
        deterministic: bool = False,
    ) -> Any:
        """Call ``function`` with ``args`` and return its result (the API ``@wasm.call`` uses,
        with ``Limits.strict()`` and ``deterministic=True``).

        WASI is linked with nothing granted; whatever the module writes is discarded.
        """
        return self.invoke(
            module, function, args, returns=returns, deterministic=deterministic
        ).value

    # -- the machinery --

    @contextmanager
    def _instance(
        self,
        module: bytes | str | os.PathLike[str],
        compiled: wasmtime.Module,
        wasi: WasiOptions,
    ) -> Iterator[tuple[wasmtime.Store, wasmtime.Instance, _Output]]:
        limits = self.limits
        with self._lock, tempfile.TemporaryDirectory(prefix="tuskops-wasm-") as tmp:
            store = wasmtime.Store(self.engine)
            store.set_limits(
                memory_size=-1 if limits.memory_pages is None else limits.memory_pages * PAGE_SIZE,
                table_elements=limits.max_table_elements,
                instances=limits.max_instances,
                tables=limits.max_tables,
                memories=limits.max_memories,
            )
            try:
                if limits.fuel is not None:
                    store.set_fuel(limits.fuel)
                out = _Output(wasi)
                store.set_wasi(self._wasi_config(module, wasi, out, Path(tmp)))
                linker = wasmtime.Linker(self.engine)
                linker.define_wasi()
                for imp in compiled.imports:
                    if imp.module not in WASI_MODULES:
                        raise WasmArgumentError(
                            f"the module imports '{imp.module}.{imp.name}', which the sandbox "
                            f"does not provide (only WASI preview 1: {', '.join(WASI_MODULES)})"
                        )
                holder: list[wasmtime.Instance] = []
                self._guard(
                    store, None, out, lambda: holder.append(linker.instantiate(store, compiled))
                )
                if not holder:  # proc_exit(0) from a start function
                    raise WasmError("the module exited while being instantiated")
                yield store, holder[0], out
            finally:
                # Free the store (and the WASI output callbacks it holds) now: left to the
                # garbage collector, a traceback can keep it alive until interpreter shutdown,
                # when a wasmtime I/O thread calling back into Python aborts the process.
                store.close()

    def _wasi_config(
        self, module: Any, wasi: WasiOptions, out: _Output, tmp: Path
    ) -> wasmtime.WasiConfig:
        config = wasmtime.WasiConfig()
        name = wasi.program_name or (
            Path(module).name if not isinstance(module, bytes | bytearray) else "module.wasm"
        )
        config.argv = [name, *wasi.args]
        config.env = [(k, v) for k, v in wasi.env.items()]
        if isinstance(wasi.stdin, bytes | bytearray):
            stdin = tmp / "stdin"
            stdin.write_bytes(bytes(wasi.stdin))
            config.stdin_file = str(stdin)
        elif wasi.stdin is not None:
            config.stdin_file = str(wasi.stdin)
        config.stdout_custom = out.stdout_callback
        config.stderr_custom = out.stderr_callback
        for grant in wasi.dirs:
            if not grant.host.is_dir():
                raise WasmArgumentError(f"--dir {grant.host}::{grant.guest}: not a directory")
            config.preopen_dir(str(grant.host), grant.guest, grant.writable)
        return config

    def _guard(
        self, store: wasmtime.Store, exports: Any, out: _Output, action: Callable[[], Any]
    ) -> int:
        """Run ``action`` under the wall-clock limit; map wasmtime's failures to ours. Returns
        the exit status (0 unless the module called ``proc_exit(0)``, which is success)."""
        limits = self.limits
        timer: threading.Timer | None = None
        if limits.timeout_seconds is not None:
            store.set_epoch_deadline(1)
            timer = threading.Timer(limits.timeout_seconds, self.engine.increment_epoch)
            timer.daemon = True
            timer.start()
        try:
            action()
            return 0
        except wasmtime.ExitTrap as err:
            if err.code == 0:
                return 0
            raise WasmExit(err.code, out.stdout, out.stderr) from None
        except wasmtime.Trap as trap:
            raise self._trap_error(store, exports, trap, out) from None
        except wasmtime.WasmtimeError as err:
            text = str(err)
            if "memory" in text and ("limit" in text or "exceeds" in text):
                pages = limits.memory_pages or 0
                raise out.attach(MemoryLimitExceeded(pages, _trap_reason(text))) from None
            raise out.attach(WasmError(f"wasmtime: {_trap_reason(text)}")) from None
        finally:
            if timer is not None:
                timer.cancel()
                timer.join()

    def _trap_error(
        self, store: wasmtime.Store, exports: Any, trap: wasmtime.Trap, out: _Output
    ) -> WasmError:
        limits = self.limits
        frames = _backtrace(trap)
        code = trap.trap_code
        err: WasmError
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            err = FuelExhausted(limits.fuel or 0, frames)
        elif code == wasmtime.TrapCode.INTERRUPT:
            err = WasmTimeout(limits.timeout_seconds or 0.0, frames)
        else:
            reason = _trap_reason(trap.message)
            limit = limits.memory_pages
            used = _largest_memory(store, exports)
            if limit is not None and used is not None and used + 1 > limit:
                err = MemoryLimitExceeded(
                    limit, f"memory.grow was refused and the module then trapped ({reason})", frames
                )
            elif limit is not None and used is not None and 2 * used >= limit:
                # wasmtime says only that the module trapped; whether a refused memory.grow
                # led to it is unknown. Say what is known.
                err = WasmTrap(
                    f"{reason} (linear memory: {used} of {limit} pages in use; if a memory.grow "
                    "was refused, raise --max-memory)",
                    frames,
                )
            else:
                err = WasmTrap(reason, frames)
        return out.attach(err)


class _Output:
    """Where stdout and stderr go: captured, or streamed to the given binary streams."""

    def __init__(self, wasi: WasiOptions) -> None:
        self._stdout_stream = wasi.stdout
        self._stderr_stream = wasi.stderr
        self._stdout = bytearray()
        self._stderr = bytearray()

    def stdout_callback(self, data: bytes) -> None:
        self._write(self._stdout_stream, self._stdout, data)

    def stderr_callback(self, data: bytes) -> None:
        self._write(self._stderr_stream, self._stderr, data)

    @staticmethod
    def _write(stream: BinaryIO | None, buffer: bytearray, data: bytes) -> None:
        if stream is None:
            buffer.extend(data)
        else:
            stream.write(data)
            stream.flush()

    @property
    def stdout(self) -> bytes:
        return bytes(self._stdout)

    @property
    def stderr(self) -> bytes:
        return bytes(self._stderr)

    def attach(self, err: WasmError) -> WasmError:
        err.stdout, err.stderr = self.stdout, self.stderr
        return err

    def result(
        self, store: wasmtime.Store, sandbox: Sandbox, *, exit_code: int, value: Any = None
    ) -> RunResult:
        fuel = sandbox.limits.fuel
        used = fuel - store.get_fuel() if fuel is not None else None
        return RunResult(exit_code, value, self.stdout, self.stderr, used)


# --- module-level conveniences ------------------------------------------------------------------


def run_wasi(
    module: bytes | str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    wasi: WasiOptions | None = None,
) -> RunResult:
    """Run a WASI command once in a fresh :class:`Sandbox`."""
    return Sandbox(limits).run_wasi(module, wasi)


def invoke(
    module: bytes | str | os.PathLike[str],
    function: str,
    *args: Any,
    limits: Limits | None = None,
    returns: Returns = "value",
) -> Any:
    """Call one export once in a fresh :class:`Sandbox` and return its result."""
    return Sandbox(limits).call(module, function, *args, returns=returns)

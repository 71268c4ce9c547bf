"""Errors of ``tuskops.wasm``: one subtree of :class:`~tuskops.errors.TuskError`.

Each kind of failure has its own CLI exit code (the table is in ``docs/wasm.md``), so a script
can tell a trap from exhausted fuel, a memory limit or a timeout without parsing messages.
"""

from __future__ import annotations

from tuskops.errors import TuskError

__all__ = [
    "FuelExhausted",
    "InvalidModuleError",
    "MemoryLimitExceeded",
    "WasmArgumentError",
    "WasmError",
    "WasmExit",
    "WasmTimeout",
    "WasmTrap",
]


class WasmError(TuskError):
    """Something about a WebAssembly module went wrong.

    ``stdout`` and ``stderr`` hold what the module had written (when captured) before it failed.
    """

    exit_code = 1
    stdout: bytes = b""
    stderr: bytes = b""


class InvalidModuleError(WasmError):
    """The file is not WebAssembly, or the module does not validate: the message names why."""

    exit_code = 2

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class WasmArgumentError(WasmError):
    """An export that does not exist, or arguments that do not fit its parameters."""

    exit_code = 2


class WasmTrap(WasmError):
    """The module trapped (``unreachable``, division by zero, out-of-bounds access...).

    ``trap`` is wasmtime's one-line reason (``integer divide by zero``), ``backtrace`` the wasm
    frames, innermost first, as ``"0x55 name"`` strings (``<wasm function N>`` when the module
    has no name section).
    """

    exit_code = 134  # what `wasmtime run` uses for a trap (128 + SIGABRT)

    def __init__(self, trap: str, backtrace: list[str] | None = None, *, what: str = "") -> None:
        self.trap = trap
        self.backtrace = list(backtrace or [])
        lead = what or "wasm trap"
        text = f"{lead}: {trap}"
        if self.backtrace:
            text += "\nwasm backtrace:\n" + "\n".join(
                f"  {i}: {frame}" for i, frame in enumerate(self.backtrace)
            )
        super().__init__(text)


class FuelExhausted(WasmTrap):
    """The module used up its fuel (roughly one unit per wasm instruction)."""

    exit_code = 120

    def __init__(self, fuel: int, backtrace: list[str] | None = None) -> None:
        self.fuel = fuel
        super().__init__(
            f"all {fuel} units of fuel consumed (raise --fuel to allow more work)",
            backtrace,
            what="fuel exhausted",
        )


class MemoryLimitExceeded(WasmTrap):
    """The module needed more linear memory than the sandbox grants."""

    exit_code = 121

    def __init__(self, limit_pages: int, detail: str, backtrace: list[str] | None = None) -> None:
        self.limit_pages = limit_pages
        super().__init__(
            f"limit of {limit_pages} pages ({limit_pages * 64} KiB) reached: {detail}",
            backtrace,
            what="memory limit exceeded",
        )


class WasmTimeout(WasmTrap):
    """The module ran longer than the wall-clock limit and was interrupted."""

    exit_code = 124  # as timeout(1)

    def __init__(self, seconds: float, backtrace: list[str] | None = None) -> None:
        self.seconds = seconds
        super().__init__(
            f"interrupted after {seconds:g}s of wall-clock time (raise --timeout to allow more)",
            backtrace,
            what="timeout",
        )


class WasmExit(WasmError):
    """A WASI program called ``proc_exit`` with a non-zero status; the CLI exits with it."""

    def __init__(self, code: int, stdout: bytes = b"", stderr: bytes = b"") -> None:
        self.code = code
        self.exit_code = code
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"module exited with status {code}")

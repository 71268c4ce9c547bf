"""WebAssembly: build C and Rust to wasm, inspect and run modules sandboxed, package them for npm.

See ``docs/wasm.md``.
"""

// --- tuskops memory ABI runtime (shared by the Node ESM, Node CommonJS and browser entries) ---
// Numbers pass directly (i64 as BigInt). A string (UTF-8) or byte array argument is copied into
// the module's memory: ptr = alloc(len), then (ptr, len) are passed and dealloc(ptr, len) is
// called after the call returns. An empty value is (0, 0) with no alloc. A string or bytes result
// is one i64, (ptr << 32) | len; the bytes are copied out, then dealloc(ptr, len) is called.
// This is the convention of tuskops.wasm.abi (docs/wasm.md, "The memory ABI").

/** What each export takes and returns: {"fn": [["i32", "str"], "str"], ...}; see README. */
const SIGNATURES = /*{{signatures}}*/;
const WASM_FILE = /*{{wasm_file}}*/;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });

/** A minimal WASI preview 1 for reactors: stdout/stderr, clocks, randomness; nothing else. */
function wasiImports(getMemory) {
  const ENOSYS = 52;
  const EBADF = 8;
  const pending = { 1: "", 2: "" };
  const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
  const view = () => new DataView(getMemory().buffer);
  const bytes = () => new Uint8Array(getMemory().buffer);
  const write = (fd, chunk) => {
    pending[fd] += decoders[fd].decode(chunk, { stream: true });
    let nl;
    while ((nl = pending[fd].indexOf("\n")) >= 0) {
      const line = pending[fd].slice(0, nl);
      pending[fd] = pending[fd].slice(nl + 1);
      (fd === 1 ? console.log : console.error)(line);
    }
  };
  const wasi = {
    fd_write(fd, iovs, iovsLen, nwritten) {
      if (fd !== 1 && fd !== 2) return EBADF;
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view().getUint32(iovs + i * 8, true);
        const len = view().getUint32(iovs + i * 8 + 4, true);
        write(fd, bytes().slice(ptr, ptr + len));
        total += len;
      }
      view().setUint32(nwritten, total, true);
      return 0;
    },
    random_get(ptr, len) {
      for (let off = 0; off < len; off += 65536) {
        globalThis.crypto.getRandomValues(bytes().subarray(ptr + off, ptr + Math.min(len, off + 65536)));
      }
      return 0;
    },
    clock_time_get(id, _precision, out) {
      const ns = id === 0
        ? BigInt(Date.now()) * 1000000n
        : BigInt(Math.round(globalThis.performance.now() * 1e6));
      view().setBigUint64(out, ns, true);
      return 0;
    },
    clock_res_get(_id, out) {
      view().setBigUint64(out, 1000n, true);
      return 0;
    },
    args_sizes_get(argc, size) { view().setUint32(argc, 0, true); view().setUint32(size, 0, true); return 0; },
    args_get() { return 0; },
    environ_sizes_get(count, size) { view().setUint32(count, 0, true); view().setUint32(size, 0, true); return 0; },
    environ_get() { return 0; },
    fd_close() { return EBADF; },
    fd_seek() { return EBADF; },
    fd_fdstat_get() { return EBADF; },
    fd_prestat_get() { return EBADF; },
    proc_exit(code) { throw new WasiExit(code); },
    sched_yield() { return 0; },
  };
  return new Proxy(wasi, {
    get(target, name) {
      return name in target ? target[name] : () => ENOSYS;
    },
  });
}

/** Thrown when the module calls WASI proc_exit. */
class WasiExit extends Error {
  constructor(code) {
    super(`wasm module exited with status ${code}`);
    this.name = "WasiExit";
    this.code = code;
  }
}

/** The import object: WASI preview 1 when the module asks for it (the pack step refused any other). */
function importObject(state) {
  const getMemory = () => state.exports.memory;
  const wasi = wasiImports(getMemory);
  return { wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
}

function writeArg(exports, kind, value, owned, index, fn) {
  let data;
  if (kind === "str") {
    if (typeof value !== "string") throw new TypeError(`${fn}: argument ${index + 1} must be a string`);
    data = ENCODER.encode(value);
  } else {
    if (!ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
      throw new TypeError(`${fn}: argument ${index + 1} must be a Uint8Array`);
    }
    data = value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (data.length === 0) return [0, 0];
  const ptr = exports.alloc(data.length) >>> 0;
  if (ptr === 0 || ptr + data.length > exports.memory.buffer.byteLength) {
    throw new RangeError(`${fn}: alloc(${data.length}) returned ${ptr}, outside the module's memory`);
  }
  owned.push([ptr, data.length]);
  new Uint8Array(exports.memory.buffer, ptr, data.length).set(data);
  return [ptr, data.length];
}

function readResult(exports, kind, packed, fn) {
  const value = BigInt.asUintN(64, BigInt(packed));
  const ptr = Number(value >> 32n);
  const len = Number(value & 0xffffffffn);
  if (len === 0) return kind === "str" ? "" : new Uint8Array(0);
  if (ptr + len > exports.memory.buffer.byteLength) {
    throw new RangeError(`${fn}: the result (ptr=${ptr}, len=${len}) lies outside the module's memory`);
  }
  const copy = new Uint8Array(exports.memory.buffer, ptr, len).slice();
  if (exports.dealloc) exports.dealloc(ptr, len);
  return kind === "str" ? DECODER.decode(copy) : copy;
}

/** JavaScript functions for the module's exports, by SIGNATURES. */
function bindExports(instance) {
  const exports = instance.exports;
  if (typeof exports._initialize === "function") exports._initialize();
  const api = {};
  for (const [name, [params, result]] of Object.entries(SIGNATURES)) {
    const raw = exports[name];
    const plain = params.every((p) => p !== "str" && p !== "bytes") && result !== "str" && result !== "bytes";
    if (plain) {
      api[name] = (...args) => raw(...args);
      continue;
    }
    api[name] = (...args) => {
      if (args.length !== params.length) {
        throw new TypeError(`${name}: expected ${params.length} argument(s), got ${args.length}`);
      }
      const owned = [];
      try {
        const wasmArgs = [];
        params.forEach((kind, i) => {
          if (kind === "str" || kind === "bytes") wasmArgs.push(...writeArg(exports, kind, args[i], owned, i, name));
          else wasmArgs.push(args[i]);
        });
        const out = raw(...wasmArgs);
        return result === "str" || result === "bytes" ? readResult(exports, result, out, name) : out;
      } finally {
        if (exports.dealloc) for (const [ptr, len] of owned) exports.dealloc(ptr, len);
      }
    };
  }
  return api;
}
// --- end of runtime ---

// Instantiation and module state. init() is memoized; a failed init can be retried.
import wasmBytes from "../../build/simdnorm.wasm";
import { warmUp, warmBytes, type Kernels } from "./kernel-table";
import { Heap } from "./heap";
import { forgetPlain } from "./typed";
import { onlyKnown } from "./option-names";

/** @internal */
export interface Runtime {
  kernels: Kernels;
  heap: Heap;
  module: WebAssembly.Module;
}

export interface InitOptions {
  /**
   * Override the embedded wasm: bytes, a compiled WebAssembly.Module, or a URL/string to fetch.
   * The module must be a simdnorm build (same exports).
   */
  wasm?: BufferSource | WebAssembly.Module | URL | string;
  /**
   * Use this memory instead of the module's own (shared-memory threads build; advanced).
   * Only valid with a module that imports its memory.
   */
  memory?: WebAssembly.Memory;
  /**
   * Allocate only inside [start, end) of `memory` (advanced: a worker sharing a memory that
   * another thread owns and allocates; see js/workers). Default: everything above static data.
   */
  arena?: { start: number; end: number };
  /**
   * Warm the kernels up so that the first LARGE call already runs optimized code. V8 compiles
   * wasm with its baseline compiler first and switches a function to optimized code only after
   * it has done enough work — never in the middle of a running call — so without this the very
   * first call on a big tensor can be many times slower than the next. `true` runs 65,536 values
   * through every kernel at init (a few ms; figures in docs/performance.md); a number sets the
   * values per kernel. Default: none, for the fastest cold start (each kernel is compiled on its
   * first call; a small warm-up would not make the first large call faster either).
   */
  warmup?: boolean | number;
}

let current: Runtime | null = null;
let pending: Promise<Runtime> | null = null;

// Smallest module using a v128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

export const SIMD_REQUIREMENT = "needs Node ≥ 16.4, Chrome 91, Firefox 89, Safari 16.4";

export function simdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * Whether v is a WebAssembly.Module / an ArrayBuffer of any realm: a sandbox
 * (Next.js's edge runtime, a Node `vm` context, an iframe) hands over objects built by the host's
 * constructors, which `instanceof` against the sandbox's own does not recognize. Each test asks
 * the engine about the object itself (a look-alike with a forged Symbol.toStringTag fails it).
 */
function isModule(v: unknown): boolean {
  try {
    WebAssembly.Module.exports(v as WebAssembly.Module);
    return true;
  } catch {
    return false;
  }
}
const bufferLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get!;
function isBuffer(v: unknown): boolean {
  try {
    bufferLength.call(v);
    return true;
  } catch {
    return false; // not an ArrayBuffer (a SharedArrayBuffer is not a BufferSource either)
  }
}

async function resolveSource(src: InitOptions["wasm"]): Promise<BufferSource | WebAssembly.Module> {
  if (src === undefined) src = await wasmBytes();
  if (isModule(src)) return src as WebAssembly.Module;
  if (typeof src === "string" || src instanceof URL) {
    const res = await fetch(src);
    if (!res.ok) throw new Error(`init: fetching wasm from ${String(src)} failed with HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  if (ArrayBuffer.isView(src) || isBuffer(src)) return src as BufferSource;
  throw new Error(`init: wasm must be bytes, a WebAssembly.Module or a URL, got ${typeof src}`);
}

/**
 * Compile synchronously when the engine allows it (Node; browsers for small modules): the
 * async path costs an event-loop round trip, a few ms of cold start for a ~15 KB module.
 */
async function compile(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (e instanceof WebAssembly.CompileError) throw e;
    return WebAssembly.compile(bytes); // e.g. a RangeError from a main-thread size limit
  }
}

async function load(opts: InitOptions): Promise<Runtime> {
  if (typeof WebAssembly !== "object") throw new Error("WebAssembly is not available in this environment: simdnorm " + SIMD_REQUIREMENT);
  if (!simdSupported()) throw new Error(`WebAssembly SIMD is not supported here: simdnorm ${SIMD_REQUIREMENT}`);
  const src = await resolveSource(opts.wasm);
  const module = isModule(src) ? (src as WebAssembly.Module) : await compile(src as BufferSource);
  let memory = opts.memory;
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = { env: { abort: abortImport(() => memory) } };
  if (opts.memory) imports.env.memory = opts.memory;
  // Synchronous instantiation of an already compiled (small) module: the async path waits on
  // the event loop and background compile jobs, costing up to tens of ms of cold start.
  // Kernels are called through the instance's own exports.
  const instance = new WebAssembly.Instance(module, imports);
  const raw = instance.exports as unknown as Kernels;
  memory = raw.memory || opts.memory;
  if (!memory) throw new Error("init: the module neither exports nor was given a memory");
  // (raw.memory, when exported, is this memory: the spread last keeps one map for the object.)
  const kernels = { memory, ...(raw as object) } as Kernels;
  const heap = opts.arena ? new Heap(memory, opts.arena.start, opts.arena.end) : new Heap(memory, kernels.heap_base());
  const rt: Runtime = { kernels, heap, module };
  const values = opts.warmup === true ? 65536 : typeof opts.warmup === "number" ? opts.warmup : 0;
  if (values > 0) warm(rt, values);
  return rt;
}

/**
 * env.abort for builds compiled with assertions (the release builds import nothing): message and
 * file are AssemblyScript strings in the module's memory (UTF-16, byte length in the 4 bytes
 * before), so an abort becomes an Error with its message and position, not a bare trap.
 */
function abortImport(memory: () => WebAssembly.Memory | undefined) {
  const str = (ptr: number): string => {
    const m = memory();
    if (!m || !ptr) return "?";
    const units = new Uint16Array(m.buffer, ptr >>> 0, new DataView(m.buffer).getUint32((ptr - 4) >>> 0, true) >>> 1);
    let s = "";
    for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode(...units.subarray(i, i + 4096));
    return s;
  };
  return (msg: number, file: number, line: number, col: number): never => {
    throw new Error(`abort: ${str(msg)} at ${str(file)}:${line}:${col}`);
  };
}

/** Every kernel of the table called on zeros (js/core/kernel-table.ts warmUp). */
function warm(rt: Runtime, values: number): void {
  const bytes = warmBytes(values);
  const p = rt.heap.alloc(bytes);
  rt.heap.F32.fill(0, p >>> 2, (p >>> 2) + Math.ceil(bytes / 4));
  warmUp(rt.kernels, p, values);
  rt.heap.release(p);
}

/**
 * Load the kernels. Memoized: every call after the first returns the same promise; after a
 * failure the next call tries again. Rejects when WebAssembly SIMD is missing, saying which
 * engines are needed, and on options that are not an object or hold a name it does not read.
 */
export function init(opts: InitOptions = {}): Promise<void> {
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== "object") return Promise.reject(new Error(`init options must be an object, got ${typeof opts}`));
  const o: InitOptions = { wasm: opts.wasm, memory: opts.memory, arena: opts.arena, warmup: opts.warmup };
  try { onlyKnown(opts, o, "init options"); } catch (e) { return Promise.reject(e); }
  if (current) return Promise.resolve();
  if (!pending) {
    pending = load(o).then(
      (rt) => { current = rt; forgetPlain(); },
      (e) => { pending = null; throw e; },
    ) as unknown as Promise<Runtime>;
  }
  return pending as unknown as Promise<void>;
}

/** @internal The loaded runtime; throws a clear error before init(). */
export function rt(): Runtime {
  if (!current) throw new Error("simdnorm is not initialized: call `await init()` first");
  return current;
}

export function isInitialized(): boolean {
  return current !== null;
}

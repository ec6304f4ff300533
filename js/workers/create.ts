// createPool(): picks the transport, makes this thread's runtime the threads build when memory
// is shared, compiles the module the workers instantiate, and starts the pool.
import { optionsObject, fmt, checkInteger, checkFinite } from "../core/errors";
import plainWasm from "../../build/simdnorm.wasm";
import { init, rt, isInitialized } from "../core/runtime";
import { isNode, workersAvailable, poolAssets } from "./host";
import { WorkerPool, type WorkerPoolOptions } from "./pool";
import type { TransportName } from "./protocol";

/** The threads build declares its memory with at most 16384 pages (1 GiB). */
const SHARED_MAX_PAGES = 16384;

function canShare(threadsWasm: () => Uint8Array): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try { return WebAssembly.validate(threadsWasm() as Uint8Array<ArrayBuffer>); } catch { return false; }
}

function runtimeIsShared(): boolean {
  return typeof SharedArrayBuffer !== "undefined" && rt().heap.buffer instanceof SharedArrayBuffer;
}

async function defaultWorkers(): Promise<number> {
  let n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 0;
  if (!n && isNode()) {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ ["node", "os"].join(":"))) as { availableParallelism?: () => number; cpus(): unknown[] };
    n = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  }
  return Math.max(1, Math.min(16, n || 2));
}

/**
 * Start a pool of worker threads. With the shared transport (the default where possible) the
 * simdnorm runtime of this thread becomes the threads build on a shared memory — create the pool
 * before calling init(), or the pool falls back to message passing ("auto") or throws
 * ("shared"). Rejects when workers are unavailable or a worker cannot start.
 * @example
 * const pool = await createPool({ workers: 2 });
 * const { ys } = await pool.syncBatchNormTrain([{ x: a, shape: [4, 8, 16, 16] }, { x: b, shape: [3, 8, 16, 16] }],
 *   { layout: "NCHW", gamma, beta, runningMean, runningVar });
 * await pool.close();
 */
export async function createPool(o: WorkerPoolOptions = {}): Promise<WorkerPool> {
  const r = optionsObject(o, "createPool options");
  o = { workers: r.workers, transport: r.transport, timeout: r.timeout, minSplit: r.minSplit } as WorkerPoolOptions;
  const want = o.transport ?? "auto";
  if (!(want === "auto" || want === "shared" || want === "message")) throw new Error(`transport must be "auto", "shared" or "message", got ${fmt(want)}`);
  if (o.workers !== undefined) checkInteger("workers", o.workers, 1);
  if (o.timeout !== undefined && !(checkFinite("timeout", o.timeout, 0) > 0)) throw new Error(`timeout must be a positive number of milliseconds, got ${o.timeout}`);
  if (o.minSplit !== undefined) checkFinite("minSplit", o.minSplit, 0);
  if (!workersAvailable()) throw new Error("this environment has no workers: the pool needs Node worker_threads or Web Workers");
  const { threadsWasm } = await poolAssets();
  let transport: TransportName = "message";
  if (want !== "message") {
    if (!isInitialized() && canShare(threadsWasm)) {
      const module = await WebAssembly.compile(threadsWasm() as Uint8Array<ArrayBuffer>);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true } as WebAssembly.MemoryDescriptor);
      await init({ wasm: module, memory });
    } else await init();
    if (runtimeIsShared()) transport = "shared";
    else if (want === "shared") {
      throw new Error(canShare(threadsWasm)
        ? "transport \"shared\" needs the shared-memory runtime, but simdnorm was already initialized with its own memory: create the pool before calling init()"
        : "transport \"shared\" needs SharedArrayBuffer and wasm threads: in browsers the page must be cross-origin isolated (COOP same-origin + COEP require-corp)");
    }
  } else await init();
  // Message-passing workers have memories of their own: they need the plain build, even when
  // this thread runs the threads build (a shared pool may exist too).
  const own = rt().module;
  const importsMemory = WebAssembly.Module.imports(own).some((i) => i.kind === "memory");
  const module = transport === "message" && importsMemory ? await WebAssembly.compile((await plainWasm()) as Uint8Array<ArrayBuffer>) : own;
  const pool = new WorkerPool(transport, o.workers ?? (await defaultWorkers()), o, module);
  return pool.start();
}

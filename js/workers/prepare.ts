// What createPool does once the pool's module is loaded: picks the transport, makes the calling
// thread's runtime (`L`, js/workers/link.ts) the threads build when memory is shared, and compiles
// the module the workers instantiate.
import { threadsWasm } from "./assets";
import { isNode } from "./env";
import type { PoolLink } from "./link";
import type { WorkerPoolOptions } from "./pool";
import type { TransportName } from "./protocol";

/** The threads build declares its memory with at most 16384 pages (1 GiB). */
const SHARED_MAX_PAGES = 16384;

function canShare(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try { return WebAssembly.validate(threadsWasm() as Uint8Array<ArrayBuffer>); } catch { return false; }
}

async function defaultWorkers(): Promise<number> {
  let n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 0;
  if (!n && isNode()) {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ ["node", "os"].join(":"))) as { availableParallelism?: () => number; cpus(): unknown[] };
    n = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  }
  return Math.max(1, Math.min(16, n || 2));
}

/** The transport, the worker count and the module for a new pool (`o` checked by createPool). */
export async function preparePool(L: PoolLink, o: WorkerPoolOptions): Promise<{ transport: TransportName; workers: number; module: WebAssembly.Module }> {
  const want = o.transport ?? "auto";
  let transport: TransportName = "message";
  if (want !== "message") {
    if (!L.isInitialized() && canShare()) {
      const module = await WebAssembly.compile(threadsWasm() as Uint8Array<ArrayBuffer>);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true } as WebAssembly.MemoryDescriptor);
      await L.init({ wasm: module, memory });
    } else await L.init();
    if (typeof SharedArrayBuffer !== "undefined" && L.rt().heap.buffer instanceof SharedArrayBuffer) transport = "shared";
    else if (want === "shared") {
      throw new Error(canShare()
        ? "transport \"shared\" needs the shared-memory runtime, but simdnorm was already initialized with its own memory: create the pool before calling init()"
        : "transport \"shared\" needs SharedArrayBuffer and wasm threads: in browsers the page must be cross-origin isolated (COOP same-origin + COEP require-corp)");
    }
  } else await L.init();
  // Message-passing workers have memories of their own: they need the plain build, even when
  // this thread runs the threads build (a shared pool may exist too).
  const own = L.rt().module;
  const importsMemory = WebAssembly.Module.imports(own).some((i) => i.kind === "memory");
  const module = transport === "message" && importsMemory ? await WebAssembly.compile((await L.plainWasm()) as Uint8Array<ArrayBuffer>) : own;
  return { transport, workers: o.workers ?? (await defaultWorkers()), module };
}

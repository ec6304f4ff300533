// Entry for edge runtimes without wasm compilation from bytes and without threads: Cloudflare
// Workers / workerd (export conditions `workerd`, `worker`) and Vercel Edge (`edge-light`).
// Same API as js/index.ts. build.mjs turns the runtime's `../build/simdnorm.wasm` import into an
// import of the .wasm file shipped next to the bundle (`./simdnorm.wasm`, or
// `./simdnorm.wasm?module` for edge-light), which these runtimes hand over as a WebAssembly.Module
// they compiled themselves: workerd refuses `new WebAssembly.Module(bytes)` ("Wasm code generation
// disallowed by embedder"). `init({ wasm })` still takes a Module (or bytes where allowed).
import type { WorkerPool, WorkerPoolOptions } from "./workers/pool";

export * from "./index";

const NO_THREADS_MESSAGE =
  "createPool: this runtime has no threads (Cloudflare Workers / workerd and Vercel Edge offer neither worker_threads nor Web Workers), " +
  "so the worker pool cannot run here. Call the ops directly: they run on this thread with the same results.";

/**
 * Edge runtimes have no threads: always rejects with an Error saying so.
 * The ops themselves (batchNormTrain, groupNorm, …) work as everywhere else.
 */
export async function createPool(_o?: WorkerPoolOptions): Promise<WorkerPool> {
  throw new Error(NO_THREADS_MESSAGE);
}

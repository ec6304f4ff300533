// The pool's payloads: the threads build and the worker script (part of the pool's module,
// js/workers/chunk.ts).
export { default as threadsWasm } from "../../build/simdnorm-threads.wasm";
export { default as workerSource } from "../../build/simdnorm-worker.txt";

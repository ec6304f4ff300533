// What only the worker pool needs: the threads build and the worker script. build.mjs emits this
// module alone as dist/simdnorm-pool.js, which the bundles import the first time a pool starts
// (host.ts poolAssets), so an import of simdnorm does not parse ~95 KB it rarely uses.
export { default as threadsWasm } from "../../build/simdnorm-threads.wasm";
export { default as workerSource } from "../../build/simdnorm-worker.txt";

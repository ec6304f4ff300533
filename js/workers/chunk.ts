// The pool's module: everything only a worker pool needs — its implementation, the threads build
// and the worker script. build.mjs emits it alone as dist/simdnorm-pool.js, which the bundles
// import (js/workers/load.ts) the first time createPool runs, so an import of simdnorm parses none
// of it. It imports nothing of the runtime: a pool gets the runtime of the bundle that made it
// (js/workers/link.ts), so the ESM, CommonJS and browser bundles share this one module.
export { PoolImpl } from "./impl";
export { preparePool } from "./prepare";

// Loading the pool's module: its implementation, the threads build and the worker script
// (js/workers/chunk.ts), a module of its own in the published bundles (dist/simdnorm-pool.js,
// imported next to the bundle), so an import of simdnorm parses none of it. createPool loads it.
import type * as Chunk from "./chunk";

/** @internal */
export type PoolModule = typeof Chunk;

let loading: Promise<PoolModule> | null = null;
let loaded: PoolModule | null = null;

/** The pool's module, loaded once on first use. A failed load is tried again next time. */
export function poolModule(): Promise<PoolModule> {
  return (loading ??= import("./chunk").then(
    (m) => (loaded = m),
    (e) => {
      loading = null;
      throw new Error(`the worker pool's module (simdnorm-pool.js, next to the simdnorm bundle) could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    },
  ));
}

/** The pool's module once createPool has loaded it (a WorkerPool is made by createPool). */
export function loadedPoolModule(): PoolModule {
  if (!loaded) throw new Error("new WorkerPool(): create pools with createPool(), which loads the pool's module (simdnorm-pool.js) first");
  return loaded;
}

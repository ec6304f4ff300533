// createPool(): checks the options, loads the pool's module (dist/simdnorm-pool.js: the
// implementation, the threads build, the worker script), which picks the transport and readies
// this thread's runtime, and starts the pool.
import { readOptions, fmt, checkInteger, checkFinite } from "../core/errors";
import { workersAvailable } from "./env";
import { poolModule } from "./load";
import { link } from "./link";
import { WorkerPool, type WorkerPoolOptions } from "./pool";

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
  o = readOptions<WorkerPoolOptions>(o, ["workers", "transport", "timeout", "minSplit"], "createPool options");
  const want = o.transport ?? "auto";
  if (!(want === "auto" || want === "shared" || want === "message")) throw new Error(`transport must be "auto", "shared" or "message", got ${fmt(want)}`);
  if (o.workers !== undefined) checkInteger("workers", o.workers, 1);
  if (o.timeout !== undefined && !(checkFinite("timeout", o.timeout, 0) > 0)) throw new Error(`timeout must be a positive number of milliseconds, got ${o.timeout}`);
  if (o.minSplit !== undefined) checkFinite("minSplit", o.minSplit, 0);
  if (!workersAvailable()) throw new Error("this environment has no workers: the pool needs Node worker_threads or Web Workers");
  const p = await (await poolModule()).preparePool(link, o);
  return new WorkerPool(p.transport, p.workers, o, p.module).start();
}

// Starting a worker thread from the embedded worker script: Node worker_threads (eval) or a
// browser Web Worker (Blob URL). Nothing to host, no path to configure, works from a CDN import.
import type * as Assets from "./assets";

export interface HostEvents {
  message(data: unknown): void;
  /** An error escaped the worker's code (Node: the worker then exits; browsers: it goes on). */
  error(err: Error): void;
  /** The thread ended (Node only; a browser worker that closes itself is noticed by timeout). */
  exit(code: number): void;
}

export interface HostWorker {
  post(msg: unknown, transfer?: Transferable[]): void;
  /** Ends the thread; resolves once it has stopped (Node) or at once (browsers). */
  terminate(): Promise<void>;
}

interface NodeWorker {
  on(ev: string, fn: (a: never) => void): void;
  postMessage(m: unknown, t?: unknown[]): void;
  terminate(): Promise<number>;
  unref(): void;
}
type NodeWorkerCtor = new (src: string, o: { eval: true; name?: string }) => NodeWorker;

declare const process: { versions?: { node?: string } } | undefined;

export function isNode(): boolean {
  return typeof process === "object" && !!process && !!process.versions && !!process.versions.node;
}

/** True when this environment can start workers. */
export function workersAvailable(): boolean {
  return isNode() || typeof Worker === "function";
}

let NodeWorkerClass: NodeWorkerCtor | null = null;
let blobURL: string | null = null;

let assets: Promise<typeof Assets> | null = null;

/**
 * The pool's payloads (threads build, worker script), loaded once on first use: a module of its
 * own in the published bundles (dist/simdnorm-pool.js). A failed load is tried again next time.
 */
export function poolAssets(): Promise<typeof Assets> {
  return (assets ??= import("./assets").catch((e) => {
    assets = null;
    throw new Error(`the worker pool's module (simdnorm-pool.js, next to the simdnorm bundle) could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }));
}

// A computed specifier: bundlers of the browser build must not try to resolve it.
const NODE_WORKER_THREADS = ["node", "worker_threads"].join(":");

export async function spawn(name: string, ev: HostEvents): Promise<HostWorker> {
  const { workerSource } = await poolAssets();
  if (isNode()) {
    if (!NodeWorkerClass) NodeWorkerClass = ((await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WORKER_THREADS)) as { Worker: NodeWorkerCtor }).Worker;
    const w = new NodeWorkerClass(workerSource, { eval: true, name });
    w.on("message", (d: never) => ev.message(d));
    w.on("error", (e: never) => ev.error(e as Error));
    w.on("messageerror", () => ev.error(new Error("a message from the worker could not be deserialized")));
    w.on("exit", (code: never) => ev.exit(code as number));
    // Idle workers do not keep the process alive; an op in flight holds a timer that does.
    // (After the listeners: adding a "message" listener refs the worker's port again.)
    w.unref();
    return { post: (m, t) => w.postMessage(m, t as unknown[]), terminate: async () => { await w.terminate(); } };
  }
  if (typeof Worker !== "function") throw new Error("this environment has no Worker: the pool needs Node worker_threads or Web Workers");
  if (!blobURL) blobURL = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  const w = new Worker(blobURL, { name });
  w.onmessage = (e) => ev.message(e.data);
  w.onerror = (e) => {
    e.preventDefault();
    ev.error(new Error(e.message || "uncaught error in the worker"));
  };
  w.onmessageerror = () => ev.error(new Error("a message from the worker could not be deserialized"));
  return { post: (m, t) => w.postMessage(m, t ?? []), terminate: async () => { w.terminate(); } };
}

// Starting a worker thread from the worker script: Node worker_threads (eval) or a browser Web
// Worker (Blob URL). Part of the pool's module (js/workers/chunk.ts).
import { workerSource } from "./assets";
import { isNode } from "./env";

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

let NodeWorkerClass: NodeWorkerCtor | null = null;
let blobURL: string | null = null;

// A computed specifier: bundlers of the browser build must not try to resolve it.
const NODE_WORKER_THREADS = ["node", "worker_threads"].join(":");

export async function spawn(name: string, ev: HostEvents): Promise<HostWorker> {
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

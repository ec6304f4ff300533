// Which kind of thread host this is: Node (worker_threads) or one with Web Workers.

declare const process: { versions?: { node?: string } } | undefined;

export function isNode(): boolean {
  return typeof process === "object" && !!process && !!process.versions && !!process.versions.node;
}

/** True when this environment can start workers. */
export function workersAvailable(): boolean {
  return isNode() || typeof Worker === "function";
}

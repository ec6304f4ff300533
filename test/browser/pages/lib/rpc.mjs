// Request/reply over postMessage with a module Web Worker that answers { id, ok, ... }
// (see ../worker-smoke.js). Every call has a timeout, so a dead worker fails a test, not the page.

/**
 * @param {string | URL} url  module worker URL
 * @returns {{ worker: Worker, call: (cmd: string, data?: object, transfer?: Transferable[], timeoutMs?: number) => Promise<object>, terminate: () => void }}
 */
export function startWorker(url) {
  const worker = new Worker(url, { type: 'module' });
  const pending = new Map();
  let nextId = 1;
  let broken = null;
  const failAll = (err) => {
    broken = err;
    for (const { reject } of pending.values()) reject(err);
    pending.clear();
  };
  worker.onmessage = (ev) => {
    const p = pending.get(ev.data?.id);
    if (!p) return;
    pending.delete(ev.data.id);
    if (ev.data.ok) p.resolve(ev.data);
    else p.reject(new Error(`worker: ${ev.data.error}`));
  };
  worker.onerror = (ev) => {
    ev.preventDefault?.();
    failAll(new Error(`worker error: ${ev.message || 'failed to load or threw at top level'}`));
  };
  worker.onmessageerror = () => failAll(new Error('a message from the worker could not be deserialized'));

  function call(cmd, data = {}, transfer = [], timeoutMs = 5000) {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker did not answer "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      try {
        worker.postMessage({ id, cmd, ...data }, transfer);
      } catch (err) {
        clearTimeout(timer);
        pending.delete(id);
        reject(err); // e.g. DataCloneError: SharedArrayBuffer without cross-origin isolation
      }
    });
  }
  return { worker, call, terminate: () => worker.terminate() };
}

// A tiny test runner for browser pages and Web Workers (no dependencies; ES module).
//
// In a page:
//   import { test, assert, run, includeWorker } from './lib/page-test.mjs';
//   test('adds', () => assert.equal(1 + 1, 2));
//   includeWorker(new URL('./my-worker.mjs', import.meta.url), { name: 'worker' });
//   run();                 // runs everything, sets window.__result = { passed, failed, failures }
//
// In a module worker (new Worker(url, { type: 'module' })):
//   import { test, assert, serveWorker } from './lib/page-test.mjs';
//   test('adds in a worker', () => assert.equal(1 + 1, 2));
//   serveWorker();         // waits for { cmd: 'run' } from includeWorker, posts the result back
//
// window.__result is the contract with harness.mjs: { passed, failed, failures: [{ name, message,
// stack }] }, or { error } when the page could not run its tests at all (see fatal()).

const isWindow = typeof window !== 'undefined' && typeof document !== 'undefined';
const entries = [];

/**
 * Registers a test. fn may be async; it fails by throwing (or rejecting).
 * @param {string} name
 * @param {() => unknown} fn
 * @param {{ timeoutMs?: number }} [opts]  per-test budget (default 10 s)
 */
export function test(name, fn, { timeoutMs = 10_000 } = {}) {
  entries.push({ kind: 'test', name, fn, timeoutMs });
}

/**
 * Runs the tests a module worker registers (with serveWorker()) as part of this page's run;
 * their names are prefixed with `${name}: `. A worker that fails to start, throws at top level
 * or does not answer within timeoutMs counts as one failure.
 * @param {string | URL} url  worker module URL (resolve it with new URL(..., import.meta.url))
 * @param {{ name?: string, timeoutMs?: number, data?: unknown, transfer?: Transferable[] }} [opts]
 *        data is passed to the worker (available to its tests as workerData())
 */
export function includeWorker(url, { name = 'worker', timeoutMs = 30_000, data, transfer = [] } = {}) {
  entries.push({ kind: 'worker', name, url, timeoutMs, data, transfer });
}

let receivedData;
/** In a worker: the `data` given to includeWorker (undefined elsewhere). */
export function workerData() {
  return receivedData;
}

/** Assertions; each throws an Error with a message that says what differed. */
export const assert = {
  ok(value, message = 'expected a truthy value') {
    if (!value) throw new Error(`${message} (got ${fmt(value)})`);
  },
  equal(actual, expected, message = 'values differ') {
    if (!Object.is(actual, expected)) throw new Error(`${message}: expected ${fmt(expected)}, got ${fmt(actual)}`);
  },
  deepEqual(actual, expected, message = 'values differ') {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
  },
  /** |got − expected| ≤ atol + rtol·|expected| elementwise; NaN matches NaN only. */
  close(got, expected, { atol = 1e-6, rtol = 1e-6 } = {}, label = 'array') {
    const bad = firstMismatch(got, expected, { atol, rtol });
    if (bad) throw new Error(`${label}: ${bad}`);
  },
  /** fn() must throw (or reject); if re is given the message must match it. Returns the error. */
  async throws(fn, re, message = 'expected an error') {
    let err;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    if (!err) throw new Error(`${message}, nothing was thrown`);
    if (re && !re.test(String(err && err.message !== undefined ? err.message : err))) {
      throw new Error(`${message} matching ${re}, got: ${err && err.message !== undefined ? err.message : err}`);
    }
    return err;
  },
};

/**
 * Describes the first element where got and expected differ beyond atol + rtol·|expected|
 * (NaN matched by NaN only; lengths must agree), or returns null when they match.
 */
export function firstMismatch(got, expected, { atol = 1e-6, rtol = 1e-6 } = {}) {
  if (got == null || typeof got.length !== 'number') return `expected an array, got ${fmt(got)}`;
  if (got.length !== expected.length) return `length ${got.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const g = got[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(g)) {
      if (Number.isNaN(e) && Number.isNaN(g)) continue;
      return `index ${i}: got ${g}, expected ${e}`;
    }
    if (!(Math.abs(g - e) <= atol + rtol * Math.abs(e))) {
      return `index ${i}: got ${g}, expected ${e} (|diff| ${Math.abs(g - e)} > atol ${atol} + rtol ${rtol}·|e|)`;
    }
  }
  return null;
}

function fmt(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v && typeof v === 'object' && typeof v.length === 'number' && v.length > 8) {
    return `${v.constructor?.name ?? 'array'}(${v.length})`;
  }
  try {
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function errorInfo(err) {
  if (err instanceof Error) return { message: `${err.name === 'Error' ? '' : err.name + ': '}${err.message}`, stack: err.stack };
  return { message: String(err) };
}

async function runWorkerEntry(entry, result) {
  let worker;
  try {
    const remote = await withTimeout(
      new Promise((resolve, reject) => {
        worker = new Worker(entry.url, { type: 'module', name: entry.name });
        worker.onmessage = (ev) => {
          if (ev.data && ev.data.type === 'page-test:result') resolve(ev.data.result);
        };
        worker.onerror = (ev) => {
          ev.preventDefault?.();
          reject(new Error(`worker error: ${ev.message || 'failed to load or threw at top level'} (${entry.url})`));
        };
        worker.onmessageerror = () => reject(new Error('worker message could not be deserialized'));
        worker.postMessage({ cmd: 'page-test:run', data: entry.data }, entry.transfer);
      }),
      entry.timeoutMs,
      `worker ${entry.name}`,
    );
    if (remote.error !== undefined) throw new Error(`worker could not run its tests: ${remote.error}`);
    result.passed += remote.passed;
    result.failed += remote.failed;
    for (const f of remote.failures) result.failures.push({ ...f, name: `${entry.name}: ${f.name}` });
  } catch (err) {
    result.failed++;
    result.failures.push({ name: `${entry.name}`, ...errorInfo(err) });
  } finally {
    worker?.terminate();
  }
}

/** Runs the registered entries in order; resolves to { passed, failed, failures }. Never rejects. */
export async function runAll() {
  const result = { passed: 0, failed: 0, failures: [] };
  for (const entry of entries) {
    if (entry.kind === 'worker') {
      await runWorkerEntry(entry, result);
      continue;
    }
    try {
      await withTimeout(Promise.resolve().then(entry.fn), entry.timeoutMs, `test "${entry.name}"`);
      result.passed++;
    } catch (err) {
      result.failed++;
      const info = errorInfo(err);
      result.failures.push({ name: entry.name, ...info });
      console.error(`FAIL ${entry.name}: ${info.message}`);
    }
  }
  return result;
}

/** In a page: runs everything and sets window.__result (also returns it). */
export async function run() {
  const result = await runAll();
  if (isWindow) {
    setResult(result);
    const el = document.getElementById('result');
    if (el) el.textContent = `${result.passed} passed, ${result.failed} failed`;
  }
  return result;
}

/** Reports that the page could not run at all: sets window.__result = { error }. */
export function fatal(err) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (isWindow) setResult({ error: message });
  else self.postMessage({ type: 'page-test:result', result: { error: message } });
}

// Report mode (`?report=<id>` on the page URL; firefox-plain.mjs, which drives no browser
// automation): the result, or the first uncaught error, is also POSTed to `<prefix>/__report`.
const reportId = isWindow ? new URLSearchParams(location.search).get('report') : null;
let reported = false;
function setResult(result) {
  if (reported) return;
  window.__result = result;
  if (reportId === null) return;
  reported = true;
  const prefix = location.pathname.startsWith('/isolated/') ? '/isolated' : '/plain';
  fetch(`${prefix}/__report`, { method: 'POST', body: JSON.stringify({ id: reportId, result: window.__result }) }).catch(() => {});
}
if (reportId !== null) {
  const uncaught = (what) => setResult({ error: `uncaught error in the page: ${what}` });
  window.addEventListener('error', (ev) => uncaught(`${ev.message}\n${ev.error?.stack ?? ''}`));
  window.addEventListener('unhandledrejection', (ev) => uncaught(`${ev.reason?.message ?? ev.reason}\n${ev.reason?.stack ?? ''}`));
}

// In a worker, listen from import time on: a module worker with top-level await can receive
// messages before its evaluation finishes, so a listener added later could miss the run request.
const isWorker = !isWindow && typeof self !== 'undefined' && typeof self.postMessage === 'function';
let pendingRun = null;
let serving = false;
if (isWorker) {
  self.addEventListener('message', (ev) => {
    if (!ev.data || ev.data.cmd !== 'page-test:run') return;
    pendingRun = ev.data;
    if (serving) answerRun();
  });
}

async function answerRun() {
  const req = pendingRun;
  pendingRun = null;
  receivedData = req.data;
  const result = await runAll();
  self.postMessage({ type: 'page-test:result', result });
}

/**
 * In a module worker: answers includeWorker's run request with this worker's results. Call it
 * once every test is registered (after any top-level await); a request that came earlier waits.
 */
export function serveWorker() {
  serving = true;
  if (pendingRun) answerRun();
}

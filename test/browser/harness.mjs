// Drives headless Chromium (Debian's `chromium`, through playwright-core) for the browser tests.
//
//   chromiumPath()                          -> path of a Chromium binary, or null
//   withBrowser(async (browser) => ..., opts) launches it, always closes it
//   runPage(browser, url, { timeoutMs })    -> { passed, failed, failures, console, pageErrors, ms }
//
// The page contract: a page reports by setting `window.__result = { passed, failed, failures }`
// (failures: [{ name, message, stack? }]) or `window.__result = { error: 'message' }` when it
// could not run at all. pages/lib/page-test.mjs does that for you.

import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './server.mjs';

// Flags: a fresh profile (playwright makes a temp user-data-dir per launch) and nothing that
// phones home. Without --disable-background-networking & co. Chromium keeps trying to reach
// Google services and the log fills with refused connections (the network here is npm + Debian).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function isExecutable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Path of the Chromium to drive, or null when there is none.
 * - SIMDNORM_NO_BROWSER=1 forces null (to exercise the "skipped" path).
 * - CHROMIUM_PATH, when set, is the only candidate (null if it is not an executable file).
 * - otherwise /usr/bin/chromium (Debian's package), /usr/bin/chromium-browser, then
 *   `chromium` / `chromium-browser` on PATH.
 */
export function chromiumPath(env = process.env) {
  if (env.SIMDNORM_NO_BROWSER && env.SIMDNORM_NO_BROWSER !== '0') return null;
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  for (const p of CANDIDATES) if (isExecutable(p)) return p;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser']) {
      const p = path.join(dir, name);
      if (isExecutable(p)) return p;
    }
  }
  return null;
}

/**
 * Launches headless Chromium, runs fn(browser), closes the browser whatever happens.
 * @template T
 * @param {(browser: import('playwright-core').Browser) => Promise<T>} fn
 * @param {{ executablePath?: string, args?: string[], launchTimeoutMs?: number }} [opts]
 * @returns {Promise<T>}
 * @throws when no Chromium is found or it fails to launch (message says which binary and why)
 */
export async function withBrowser(fn, { executablePath = chromiumPath(), args = [], launchTimeoutMs = 60_000 } = {}) {
  if (!executablePath) throw new Error('Chromium not found (install it: apt-get install chromium, or set CHROMIUM_PATH)');
  const { chromium } = await import('playwright-core');
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...args],
      timeout: launchTimeoutMs,
    });
  } catch (err) {
    // playwright's message carries the whole command line and browser log: keep the gist.
    const lines = String(err.message)
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .map((l) => l.replace(/^\s*-\s*/, '').trim());
    const errLines = [...new Set(lines.filter((l) => /\[err\]/.test(l)))];
    const gist = [lines[0], ...errLines]
      .slice(0, 6)
      .map((l) => (l.length > 300 ? l.slice(0, 300) + '…' : l))
      .join('\n  ');
    throw new Error(`could not launch Chromium at ${executablePath}: ${gist}`);
  }
  try {
    return await fn(browser);
  } finally {
    await bounded(browser.close(), 10_000);
  }
}

/**
 * Opens url in a fresh browser context, waits until the page sets window.__result, returns it.
 * Never hangs: after timeoutMs it throws an Error naming the page, with the console output,
 * uncaught errors and failed requests seen so far (also on err.console / err.pageErrors /
 * err.failedRequests).
 *
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {object} [opts]
 * @param {number} [opts.timeoutMs=30000]  whole page budget: load + run
 * @param {boolean} [opts.failOnPageError=true] an uncaught error (or unhandled rejection) in the
 *        page before __result is set fails the page at once instead of waiting for the timeout
 * @param {boolean} [opts.failOnScriptError=true] a script/module answered with HTTP >= 400 before
 *        the load event fails the page at once (a static import that 404s never runs its code)
 * @param {(line: string) => void} [opts.onConsole] live console lines ("[type] text")
 * @returns {Promise<{ passed: number, failed: number, failures: {name: string, message: string, stack?: string}[],
 *                     console: string[], pageErrors: string[], failedRequests: string[], ms: number }>}
 */
export async function runPage(browser, url, { timeoutMs = 30_000, failOnPageError = true, failOnScriptError = true, onConsole } = {}) {
  const t0 = performance.now();
  const consoleLines = [];
  const pageErrors = [];
  const failedRequests = [];
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms without window.__result`)), timeoutMs);
  });
  timeout.catch(() => {});
  let context;
  try {
    context = await Promise.race([browser.newContext(), timeout]);
  } catch (err) {
    clearTimeout(timer);
    throw new Error(`${url}: could not open a browser context: ${err.message}`);
  }
  try {
    const page = await context.newPage();
    let rejectEarly;
    const early = new Promise((_, reject) => (rejectEarly = reject));
    early.catch(() => {});

    let loaded = false;
    page.on('load', () => (loaded = true));
    page.on('console', (msg) => {
      const line = `[${msg.type()}] ${msg.text()}`;
      consoleLines.push(line);
      onConsole?.(line);
    });
    page.on('pageerror', (err) => {
      const text = err.stack || String(err);
      pageErrors.push(text);
      if (failOnPageError) rejectEarly(new Error(`uncaught error in the page: ${firstLines(text, 4)}`));
    });
    page.on('crash', () => rejectEarly(new Error('the page crashed (renderer process died)')));
    page.on('requestfailed', (req) => failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.status() < 400) return;
      const req = res.request();
      failedRequests.push(`${req.method()} ${res.url()}: HTTP ${res.status()}`);
      // A module of the page that fails to load raises no pageerror: the page would just sit until
      // the timeout. Only before 'load': later script requests are dynamic imports or worker
      // scripts, whose failure the page's own code sees (rejection, worker.onerror) and reports.
      if (failOnScriptError && !loaded && req.resourceType() === 'script') {
        rejectEarly(new Error(`script ${res.url()} failed to load: HTTP ${res.status()}`));
      }
    });

    const work = (async () => {
      const resp = await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
      if (resp && resp.status() >= 400) throw new Error(`HTTP ${resp.status()} for the page itself`);
      const handle = await page.waitForFunction(() => window.__result !== undefined && window.__result, null, {
        timeout: 0, // the race below owns the timeout
        polling: 50,
      });
      return handle.jsonValue();
    })();
    work.catch(() => {});

    let result;
    try {
      result = await Promise.race([work, early, timeout]);
    } catch (err) {
      throw decorate(new Error(`${url}: ${err.message}${diagnostics(consoleLines, pageErrors, failedRequests)}`));
    }
    return {
      ...pageCounts(url, result, (m, diag) => decorate(new Error(`${m}${diag ? diagnostics(consoleLines, pageErrors, failedRequests) : ''}`))),
      console: consoleLines,
      pageErrors,
      failedRequests,
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    clearTimeout(timer);
    await bounded(context.close(), 5000);
  }

  function decorate(err) {
    err.console = consoleLines;
    err.pageErrors = pageErrors;
    err.failedRequests = failedRequests;
    err.ms = Math.round(performance.now() - t0);
    return err;
  }
}

/** Awaits p for at most ms (closing must never be what hangs a run); swallows its errors. */
function bounded(p, ms) {
  let timer;
  return Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * A page's window.__result as counts { passed, failed, failures, skipped? }; a reported error or a
 * malformed result throws fail(message, withDiagnostics) (each driver adds its own context).
 */
export function pageCounts(url, result, fail) {
  if (result && typeof result === 'object' && 'error' in result && result.error !== undefined) {
    throw fail(`${url}: the page reported an error: ${result.error}`, true);
  }
  if (!result || typeof result !== 'object' || !Number.isInteger(result.passed) || !Number.isInteger(result.failed)) {
    throw fail(`${url}: window.__result must be { passed, failed, failures } or { error }, got ${JSON.stringify(result)}`, false);
  }
  return {
    passed: result.passed,
    failed: result.failed,
    failures: Array.isArray(result.failures) ? result.failures : [],
    ...(result.skipped !== undefined ? { skipped: result.skipped } : {}),
  };
}

/**
 * Run each page with run(page) → its counts, logging every outcome; a page whose `requires`
 * files are missing fails (or, with skipMissing, is skipped), a page that throws fails.
 */
export async function runPages(pages, run, { log, verbose = false, skipMissing = false }) {
  let passed = 0, failed = 0;
  for (const page of pages) {
    const missing = (page.requires ?? []).filter((f) => !fs.existsSync(path.join(PROJECT_ROOT, f)));
    if (missing.length) {
      if (!skipMissing) failed++;
      log(`${skipMissing ? 'skip' : 'FAIL'} ${page.name}: missing ${missing.join(', ')} (build first: npm run build)`);
      continue;
    }
    try {
      const r = await run(page);
      passed += r.passed;
      failed += reportPage(log, page.name, r, verbose);
    } catch (err) {
      failed++;
      log(`FAIL ${page.name}: ${err.message.replace(/\n/g, '\n     ')}`);
    }
  }
  return { passed, failed };
}

/**
 * Log one page's outcome (counts, failures, and its console when it failed or `verbose`); returns
 * what it adds to the run's failures: its failed tests, or 1 when it ran none (proves nothing).
 */
export function reportPage(log, name, r, verbose) {
  const none = !r.failed && !r.passed;
  log(`${r.failed || none ? 'FAIL' : 'ok  '} ${name}: ${r.passed} passed, ${r.failed} failed (${r.ms} ms)${none ? ' — the page ran no tests' : ''}`);
  for (const f of r.failures) log(`     ✗ ${f.name}: ${f.message}`);
  if (verbose || r.failed) {
    for (const line of r.console) log(`     console ${line}`);
    for (const e of r.pageErrors) log(`     uncaught ${e.split('\n')[0]}`);
  }
  return r.failed + (none ? 1 : 0);
}

function diagnostics(consoleLines, pageErrors, failedRequests) {
  let s = '';
  if (pageErrors.length) s += `\n  uncaught errors:\n${indent(pageErrors.slice(-5).map((e) => firstLines(e, 4)))}`;
  if (failedRequests.length) s += `\n  failed requests:\n${indent(failedRequests.slice(-10))}`;
  if (consoleLines.length) s += `\n  console (last ${Math.min(20, consoleLines.length)} of ${consoleLines.length}):\n${indent(consoleLines.slice(-20))}`;
  else s += '\n  console: (nothing)';
  return s;
}

function indent(lines) {
  return lines.map((l) => '    ' + String(l).replace(/\n/g, '\n    ')).join('\n');
}

function firstLines(s, n) {
  return String(s).split('\n').slice(0, n).join('\n');
}

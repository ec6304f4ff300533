// Headless Firefox (Debian's firefox-esr) driven through WebDriver BiDi by puppeteer-core: the
// same page contract as harness.mjs (window.__result), for run-firefox.mjs. Playwright cannot
// drive a stock Firefox (it needs its own patched build, which cannot be downloaded here).
import fs from 'node:fs';
import { pageCounts } from './harness.mjs';

/** FIREFOX_PATH, /usr/bin/firefox-esr or /usr/bin/firefox; null when none (or SIMDNORM_NO_BROWSER=1). */
export function firefoxPath(env = process.env) {
  if (env.SIMDNORM_NO_BROWSER === '1') return null;
  for (const p of [env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox']) if (p && fs.existsSync(p)) return p;
  return null;
}

/** Launches headless Firefox over WebDriver BiDi, runs fn(browser), always closes it. */
export async function withFirefox(fn, { executablePath = firefoxPath(), launchTimeoutMs = 90_000 } = {}) {
  if (!executablePath) throw new Error('Firefox not found (install it: apt-get install firefox-esr, or set FIREFOX_PATH)');
  const { default: puppeteer } = await import('puppeteer-core');
  let browser;
  try {
    browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true, timeout: launchTimeoutMs, protocolTimeout: 300_000 });
  } catch (err) {
    throw new Error(`could not launch Firefox at ${executablePath}: ${String(err.message).split('\n').slice(0, 4).join(' | ')}`);
  }
  try {
    return await fn(browser);
  } finally {
    await bounded(browser.close(), 15_000);
  }
}

/**
 * Opens url in a fresh browser context, waits for window.__result, returns
 * { passed, failed, failures, console, pageErrors, ms }; throws on timeout, an uncaught error,
 * or a page-reported { error } (with the console lines seen so far).
 */
export async function runPageFirefox(browser, url, { timeoutMs = 60_000 } = {}) {
  const t0 = performance.now();
  const consoleLines = [], pageErrors = [];
  let timer, rejectEarly;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms without window.__result`)), timeoutMs); });
  const early = new Promise((_, reject) => (rejectEarly = reject));
  timeout.catch(() => {}); early.catch(() => {});
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => { const t = String(err && (err.stack || err.message) || err); pageErrors.push(t); rejectEarly(new Error(`uncaught error in the page: ${t.split('\n').slice(0, 4).join(' | ')}`)); });
    const work = (async () => {
      const resp = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
      if (resp && resp.status() >= 400) throw new Error(`HTTP ${resp.status()} for the page itself`);
      const handle = await page.waitForFunction(() => window.__result !== undefined && window.__result, { timeout: 0, polling: 50 });
      return handle.jsonValue();
    })();
    work.catch(() => {});
    let result;
    try {
      result = await Promise.race([work, early, timeout]);
    } catch (err) {
      throw new Error(`${url}: ${err.message}${tail(consoleLines)}`);
    }
    const counts = pageCounts(url, result, (m, diag) => new Error(`${m}${diag ? tail(consoleLines) : ''}`));
    return { ...counts, console: consoleLines, pageErrors, ms: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
    await bounded(context.close(), 5000);
  }
}

const tail = (lines) => (lines.length ? `\n  console (last 15):\n    ${lines.slice(-15).join('\n    ')}` : '');

function bounded(p, ms) {
  let timer;
  return Promise.race([Promise.resolve(p).catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

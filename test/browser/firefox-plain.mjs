// Firefox without browser automation, for the pages whose worker starts nested workers (PAGES
// entries with `firefox: 'plain'`): under WebDriver BiDi (puppeteer, firefox.mjs) Firefox ESR 153
// can block such a worker forever in `new Worker()` once it has ended one of its nested workers
// (test/browser/README.md, Firefox). Here a plain `firefox-esr --headless` process with a fresh
// profile opens the page with `?report=<id>`; page-test.mjs POSTs window.__result (or the first
// uncaught error) to the server's `<prefix>/__report`. No console lines come back this way.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pageCounts } from './harness.mjs';

// A fresh profile that does not try to reach the network on start (only npm and Debian are reachable).
const PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'dom.max_script_run_time': 0,
};

/** A report channel for startServer({ onReport }): `expect(id)` resolves with that page's result. */
export function reportChannel() {
  const waiting = new Map();
  return {
    onReport: (r) => waiting.get(r && r.id)?.(r.result),
    expect: (id) => new Promise((resolve) => waiting.set(id, resolve)),
    forget: (id) => waiting.delete(id),
  };
}

let nextId = 0;

/**
 * Opens url (a page using page-test.mjs) in its own headless Firefox process and waits for its
 * report; returns { passed, failed, failures, console: [], pageErrors: [], ms }. Throws on timeout,
 * on the browser exiting first, or on a page-reported { error }.
 */
export async function runPagePlainFirefox(exe, channel, url, { timeoutMs = 60_000 } = {}) {
  const t0 = performance.now();
  const id = `${process.pid}-${++nextId}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnorm-firefox-'));
  fs.writeFileSync(path.join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  const full = `${url}${url.includes('?') ? '&' : '?'}report=${id}`;
  const child = spawn(exe, ['--headless', '--no-remote', '--profile', profile, full], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
  let timer;
  try {
    const result = await Promise.race([
      channel.expect(id),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`Firefox exited (code ${code}) before the page reported`)))),
      new Promise((_, reject) => child.once('error', (e) => reject(new Error(`could not start Firefox at ${exe}: ${e.message}`)))),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms without a report`)), timeoutMs); }),
    ]).catch((err) => { throw new Error(`${url}: ${err.message}${stderr ? `\n  firefox stderr (tail): ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`); });
    const counts = pageCounts(url, result, (m) => new Error(m));
    return { ...counts, console: [], pageErrors: [], ms: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
    channel.forget(id);
    await stop(child);
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

#!/usr/bin/env node
// The browser test pages (PAGES of run.mjs) in headless Firefox ESR (firefox.mjs: puppeteer-core
// over WebDriver BiDi). Prints one line per page and `firefox: N passed, N failed`. No Firefox:
// a "skipped" line and exit 0 — or a failure when CI=true (.ci/install-firefox.sh installs it).
//   node test/browser/run-firefox.mjs [words…] [-v]
import { startServer } from './server.mjs';
import { PAGES } from './run.mjs';
import { firefoxPath, withFirefox, runPageFirefox } from './firefox.mjs';
import { runPages } from './harness.mjs';

const args = process.argv.slice(2);
const verbose = args.includes('-v');
const filter = args.filter((a) => !a.startsWith('-'));
const ci = process.env.CI === 'true';
const log = console.log;
let passed = 0, failed = 0;

const exe = firefoxPath();
if (!exe) {
  if (ci) { failed++; log('firefox tests FAILED: Firefox not found — CI=true requires them (run .ci/install-firefox.sh)'); }
  else log('firefox tests skipped: Firefox not found (install it: apt-get install firefox-esr)');
} else {
  // The pool tests inside a module Web Worker hang in Firefox (test/browser/README.md, Firefox):
  // the sync pages run their page half only here.
  const pages = PAGES.map((p) => (p.path.includes('/sync.html') ? { ...p, name: `${p.name.replace('page + worker', 'page only')}`, path: `${p.path}?page-only` } : p));
  const selected = filter.length ? pages.filter((p) => filter.some((f) => p.name.includes(f))) : pages;
  const server = await startServer();
  try {
    const t = performance.now();
    await withFirefox(async (browser) => {
      log(`firefox: ${await browser.version()} (${exe}), launched in ${Math.round(performance.now() - t)} ms; serving ${server.url}`);
      const n = await runPages(selected, (page) => runPageFirefox(browser, server.url + page.path, { timeoutMs: Number(process.env.BROWSER_PAGE_TIMEOUT_MS) || (page.timeoutMs ?? 60_000) }), { log, verbose });
      passed += n.passed; failed += n.failed;
    });
  } catch (err) {
    failed++;
    log(`FAIL firefox: ${err.message}`);
  } finally {
    await server.close();
  }
}
log(`firefox: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

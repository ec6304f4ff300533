#!/usr/bin/env node
// The browser test pages (PAGES of run.mjs) in headless Firefox ESR (firefox.mjs: puppeteer-core
// over WebDriver BiDi). Prints one line per page and `firefox: N passed, N failed`. No Firefox:
// a "skipped" line and exit 0 — or a failure when CI=true (.ci/install-firefox.sh installs it).
//   node test/browser/run-firefox.mjs [words…] [-v]
import { startServer } from './server.mjs';
import { PAGES } from './run.mjs';
import { firefoxPath, withFirefox, runPageFirefox } from './firefox.mjs';
import { reportChannel, runPagePlainFirefox } from './firefox-plain.mjs';
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
  const selected = filter.length ? PAGES.filter((p) => filter.some((f) => p.name.includes(f))) : PAGES;
  // Pages whose worker starts nested workers run in a Firefox without WebDriver (firefox-plain.mjs;
  // test/browser/README.md, Firefox); the rest through puppeteer-core.
  const plain = selected.filter((p) => p.firefox === 'plain'), driven = selected.filter((p) => p.firefox !== 'plain');
  const timeout = (page) => Number(process.env.BROWSER_PAGE_TIMEOUT_MS) || (page.timeoutMs ?? 60_000);
  const channel = reportChannel();
  const server = await startServer({ onReport: channel.onReport });
  try {
    const t = performance.now();
    if (driven.length) {
      await withFirefox(async (browser) => {
        log(`firefox: ${await browser.version()} (${exe}), launched in ${Math.round(performance.now() - t)} ms; serving ${server.url}`);
        const n = await runPages(driven, (page) => runPageFirefox(browser, server.url + page.path, { timeoutMs: timeout(page) }), { log, verbose });
        passed += n.passed; failed += n.failed;
      });
    }
    if (plain.length) {
      log(`firefox without automation (${exe}): ${plain.length} page(s)`);
      const n = await runPages(plain, (page) => runPagePlainFirefox(exe, channel, server.url + page.path, { timeoutMs: timeout(page) }), { log, verbose });
      passed += n.passed; failed += n.failed;
    }
  } catch (err) {
    failed++;
    log(`FAIL firefox: ${err.message}`);
  } finally {
    await server.close();
  }
}
log(`firefox: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

#!/usr/bin/env node
// Browser test runner: serves the project (server.mjs), drives headless Chromium (harness.mjs)
// over every page in PAGES, prints one line per page and a final `browser: N passed, N failed`
// (N = tests summed over pages; a page that cannot run — timeout, uncaught error, 404 — counts
// as one failed test). Exit code 0 when nothing failed, 1 otherwise.
//
//   node test/browser/run.mjs              all pages
//   node test/browser/run.mjs smoke golden pages whose name contains one of the words
//   -v / --verbose                         also print each page's console output
//
// No Chromium (see harness.chromiumPath: CHROMIUM_PATH, /usr/bin/chromium, PATH;
// SIMDNORM_NO_BROWSER=1 forces "none"): prints a "skipped" line and exits 0 — or 1 when CI=true,
// where the browser tests must run. Install: .ci/install-chromium.sh
//
// Env: BROWSER_PAGE_TIMEOUT_MS (default 60000) per page.

import { pathToFileURL } from 'node:url';
import { startServer } from './server.mjs';
import { withBrowser, runPage, chromiumPath, runPages } from './harness.mjs';

/**
 * The pages. path is served by server.mjs: /plain/<file> (not isolated) or /isolated/<file>
 * (COOP/COEP, crossOriginIsolated). Optional: timeoutMs; requires: files (relative to the
 * project root) that must exist — the page is skipped with a note when they do not (and fails
 * under CI=true), e.g. the dist/ bundle before `npm run build`.
 * `firefox: 'plain'`: run-firefox.mjs opens the page in a Firefox without automation
 * (firefox-plain.mjs; the page must report through page-test.mjs), because its worker starts
 * nested workers (README.md, Firefox).
 * @type {{ name: string, path: string, timeoutMs?: number, requires?: string[], firefox?: 'plain' }[]}
 */
export const PAGES = [
  { name: 'smoke (plain)', path: '/plain/test/browser/pages/smoke.html' },
  { name: 'smoke (isolated)', path: '/isolated/test/browser/pages/isolated.html' },
  { name: 'golden plumbing (page + worker)', path: '/plain/test/browser/pages/golden-plumbing.html' },
  { name: 'dist bundle import (plain)', path: '/plain/test/browser/pages/dist-import.html', requires: ['dist/browser.js'] },
  { name: 'dist bundle import (isolated)', path: '/isolated/test/browser/pages/dist-import.html', requires: ['dist/browser.js'] },
  { name: 'golden cases (page + worker)', path: '/plain/test/browser/pages/golden-api.html', requires: ['dist/browser.js'] },
  { name: 'sync BN over shared memory (isolated, page + worker)', path: '/isolated/test/browser/pages/sync.html', requires: ['dist/browser.js'], timeoutMs: 180_000, firefox: 'plain' },
  { name: 'sync BN over messages (plain, page + worker)', path: '/plain/test/browser/pages/sync.html', requires: ['dist/browser.js'], timeoutMs: 180_000, firefox: 'plain' },
  { name: 'browser example (examples/browser)', path: '/plain/test/browser/pages/example.html', requires: ['dist/browser.js'] },
];

const SKIP_MESSAGE = 'browser tests skipped: Chromium not found (install it: apt-get install chromium)';

/**
 * Runs pages in one browser, sequentially, each in a fresh context.
 * @returns {Promise<{ passed: number, failed: number, skipped: boolean, exitCode: number }>}
 *          skipped: no Chromium (nothing ran)
 */
export async function runBrowserTests({
  pages = PAGES,
  filter = [],
  verbose = false,
  ci = process.env.CI === 'true',
  log = console.log,
  pageTimeoutMs = Number(process.env.BROWSER_PAGE_TIMEOUT_MS) || 60_000,
} = {}) {
  const exe = chromiumPath();
  if (!exe) {
    if (ci) {
      log(`${SKIP_MESSAGE.replace('skipped', 'FAILED')} — CI=true requires them (run .ci/install-chromium.sh)`);
      return { passed: 0, failed: 1, skipped: true, exitCode: 1 };
    }
    log(SKIP_MESSAGE);
    return { passed: 0, failed: 0, skipped: true, exitCode: 0 };
  }

  const selected = filter.length ? pages.filter((p) => filter.some((f) => p.name.includes(f))) : pages;
  if (filter.length && !selected.length) {
    log(`no browser test page matches ${filter.join(', ')} (pages: ${pages.map((p) => p.name).join('; ')})`);
    log('browser: 0 passed, 1 failed');
    return { passed: 0, failed: 1, skipped: false, exitCode: 1 };
  }

  let passed = 0;
  let failed = 0;
  const server = await startServer();
  try {
    const tLaunch = performance.now();
    await withBrowser(async (browser) => {
      log(`browser: Chromium ${browser.version()} (${exe}), launched in ${Math.round(performance.now() - tLaunch)} ms; serving ${server.url}`);
      const n = await runPages(selected, (page) => runPage(browser, server.url + page.path, { timeoutMs: page.timeoutMs ?? pageTimeoutMs }), { log, verbose, skipMissing: !ci });
      passed += n.passed; failed += n.failed;
    });
  } catch (err) {
    failed++;
    log(`FAIL browser: ${err.message}`);
  } finally {
    await server.close();
  }
  log(`browser: ${passed} passed, ${failed} failed`);
  return { passed, failed, skipped: false, exitCode: failed ? 1 : 0 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const verbose = args.includes('-v') || args.includes('--verbose');
  const filter = args.filter((a) => !a.startsWith('-'));
  const { exitCode } = await runBrowserTests({ filter, verbose });
  process.exitCode = exitCode;
}

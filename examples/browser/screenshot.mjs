// Renders the example in headless Chromium and saves docs/browser-example.png (for the README).
//   node build.mjs && node examples/browser/screenshot.mjs [out.png]
import { fileURLToPath } from "node:url";
import { startServer } from "../../test/browser/server.mjs";
import { withBrowser } from "../../test/browser/harness.mjs";

const out = process.argv[2] ?? fileURLToPath(new URL("../../docs/browser-example.png", import.meta.url));
const server = await startServer();
try {
  await withBrowser(async (browser) => {
    const page = await browser.newPage({ viewport: { width: 1380, height: 520 }, deviceScaleFactor: 1 });
    await page.goto(`${server.url}/plain/examples/browser/index.html`);
    await page.waitForFunction(() => window.__example, null, { timeout: 30_000 });
    const r = await page.evaluate(() => ({ ...window.__example, x: undefined }));
    if (r.error) throw new Error(`the example failed: ${r.error}`);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`${out}: ${r.width}×${r.height} image, means ${r.mean.map((m) => m.toFixed(1)).join(", ")}, channelStats ${r.ms.toFixed(3)} ms`);
  });
} finally {
  await server.close();
}

// Static, read-only HTTP server for the browser tests. node:http only, no dependencies.
//
// URL scheme (every file is reachable under both prefixes):
//   /plain/<path>     the file at <project root>/<path>, no isolation headers
//   /isolated/<path>  the same file with COOP same-origin + COEP require-corp + CORP same-origin,
//                     so a page loaded from here is crossOriginIsolated (SharedArrayBuffer can be
//                     posted to workers). Keep every sub-resource of an isolated page under
//                     /isolated/ too (relative URLs do that): a dedicated worker script must carry
//                     COEP itself, or Chromium refuses to start it from an isolated page.
//   /<path>           same as /plain/<path>
//   <prefix>/golden-index.json   generated: { base, files } listing test/golden/*.json
//
// Only the directories in `dirs` are served (default: dist, test, examples, bench); GET and HEAD
// only — except `POST <prefix>/__report` when the caller passes onReport (a page's results, sent
// by page-test.mjs in report mode for firefox-plain.mjs); paths that escape the root (.., symlinks pointing outside) are refused. Responses are
// `Cache-Control: no-store` so a rebuilt dist/ is always what the page gets.
//
// Standalone, for poking at pages by hand:  node test/browser/server.mjs [port]

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEFAULT_DIRS = ['dist', 'test', 'examples', 'bench'];

export const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const GOLDEN_DIR = 'test/golden';

/** Splits a request path into its mode and the path relative to the project root. */
export function parseRequestPath(pathname) {
  for (const mode of ['isolated', 'plain']) {
    const prefix = `/${mode}/`;
    if (pathname.startsWith(prefix)) return { mode, rel: pathname.slice(prefix.length) };
    if (pathname === `/${mode}`) return { mode, rel: '' };
  }
  return { mode: 'plain', rel: pathname.replace(/^\/+/, '') };
}

async function goldenIndex(root) {
  const dir = path.join(root, GOLDEN_DIR);
  let files = [];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  return { base: `${GOLDEN_DIR}/`, files };
}

/**
 * Starts the server on 127.0.0.1 and a free port.
 * @param {object} [opts]
 * @param {string} [opts.root]   directory served (default: the project root)
 * @param {string[]} [opts.dirs] top-level directories of root that may be served
 * @param {number} [opts.port]   0 (default) = any free port
 * @param {(entry: {method: string, url: string, status: number, mode: string}) => void} [opts.onRequest]
 * @param {(report: unknown) => void} [opts.onReport] receives the JSON body of each
 *        `POST <prefix>/__report` (≤ 4 MB); without it a POST gets 405 like any other
 * @returns {Promise<{ url: string, port: number, root: string, close: () => Promise<void> }>}
 *          url has no trailing slash, e.g. http://127.0.0.1:41234
 */
export async function startServer({ root = PROJECT_ROOT, dirs = DEFAULT_DIRS, port = 0, onRequest, onReport } = {}) {
  const rootReal = await fs.realpath(root);

  const server = http.createServer(async (req, res) => {
    let status = 500;
    let mode = 'plain';
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      let pathname;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        status = send(res, req, 400, 'bad URL encoding\n');
        return;
      }
      const parsed = parseRequestPath(pathname);
      mode = parsed.mode;
      const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
      if (mode === 'isolated') Object.assign(headers, ISOLATION_HEADERS);

      if (req.method === 'POST' && onReport && parsed.rel === '__report') {
        status = await receiveReport(req, res, headers, onReport);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        status = send(res, req, 405, 'read-only server: GET and HEAD only\n', { ...headers, Allow: 'GET, HEAD' });
        return;
      }
      if (pathname === '/favicon.ico') {
        status = send(res, req, 204, '', headers);
        return;
      }
      if (parsed.rel === 'golden-index.json') {
        const body = JSON.stringify(await goldenIndex(rootReal), null, 1) + '\n';
        status = send(res, req, 200, body, { ...headers, 'Content-Type': MIME['.json'] });
        return;
      }

      const rel = path.posix.normalize(parsed.rel);
      const top = rel.split('/')[0];
      if (rel.startsWith('..') || path.posix.isAbsolute(rel) || rel.includes('\0') || !dirs.includes(top)) {
        status = send(res, req, 404, `not served: /${parsed.rel} (served directories: ${dirs.join(', ')})\n`, headers);
        return;
      }
      let file = path.join(rootReal, rel);
      let real;
      try {
        real = await fs.realpath(file);
        if ((await fs.stat(real)).isDirectory()) real = await fs.realpath(path.join(real, 'index.html'));
      } catch {
        status = send(res, req, 404, `not found: /${rel}\n`, headers);
        return;
      }
      if (real !== rootReal && !real.startsWith(rootReal + path.sep)) {
        status = send(res, req, 404, `not served (outside the root): /${rel}\n`, headers);
        return;
      }
      const body = await fs.readFile(real);
      const type = MIME[path.extname(real).toLowerCase()] ?? 'application/octet-stream';
      status = send(res, req, 200, body, { ...headers, 'Content-Type': type });
    } catch (err) {
      status = send(res, req, 500, `server error: ${err && err.message}\n`);
    } finally {
      if (onRequest) onRequest({ method: req.method, url: req.url, status, mode });
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    root: rootReal,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.(); // keep-alive sockets from the browser would hold close() open
      }),
  };
}

async function receiveReport(req, res, headers, onReport) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 4 << 20) return send(res, req, 413, 'report larger than 4 MB\n', headers);
    chunks.push(c);
  }
  let report;
  try {
    report = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(res, req, 400, 'report is not JSON\n', headers);
  }
  onReport(report);
  return send(res, req, 204, '', headers);
}

function send(res, req, status, body, headers = {}) {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const h = { ...headers, 'Content-Length': buf.length };
  if (typeof body === 'string' && !h['Content-Type'] && status !== 204) h['Content-Type'] = MIME['.txt'];
  if (status === 204) delete h['Content-Length'];
  res.writeHead(status, h);
  res.end(req.method === 'HEAD' || status === 204 ? undefined : buf);
  return status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const srv = await startServer({
    port,
    onRequest: (e) => console.log(`${e.status} ${e.method} ${e.url}`),
  });
  console.log(`serving ${srv.root} (read-only) at ${srv.url}`);
  console.log(`  ${srv.url}/plain/test/browser/pages/smoke.html`);
  console.log(`  ${srv.url}/isolated/test/browser/pages/isolated.html`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

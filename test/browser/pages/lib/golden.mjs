// Loads the golden cases (test/golden/*.json, format in test/golden/FORMAT.md) in a page or a
// module Web Worker. The server generates the list: <prefix>/golden-index.json = { base, files }.
// Every URL stays under the prefix the caller was loaded from (/plain/ or /isolated/), so the
// same code works in isolated pages (where COEP needs every sub-resource to carry headers).
//
//   const { files } = await loadGoldenIndex();
//   const c = await loadGoldenCase(files[0]);        // c.inputs.x, c.expected.y: Float32Array
//   const bad = firstMismatch(got, c.expected.y, c.tolerance.y);   // from ./page-test.mjs

/** '/plain/' or '/isolated/' (from the page's or the worker's own URL). */
export function servedPrefix(loc = globalThis.location) {
  const m = /^\/(plain|isolated)\//.exec(loc.pathname);
  return m ? `/${m[1]}/` : '/';
}

function urlFor(rel) {
  return new URL(servedPrefix() + rel, globalThis.location.href);
}

async function getJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/** { base: 'test/golden/', files: ['bn_infer_NC_16x12.json', ...] } */
export async function loadGoldenIndex() {
  return getJSON(urlFor('golden-index.json'));
}

/** base64 of little-endian float32 → Float32Array (independent of the platform's byte order). */
export function decodeF32(b64) {
  const bin = atob(b64);
  if (bin.length % 4) throw new Error(`base64 holds ${bin.length} bytes, not a multiple of 4`);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Copy of the case with every base64 string in inputs/expected decoded to a Float32Array. */
export function decodeCase(c) {
  const decodeAll = (o) =>
    o && Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? decodeF32(v) : v]));
  return { ...c, inputs: decodeAll(c.inputs), expected: decodeAll(c.expected) };
}

/**
 * Fetches and decodes one case.
 * @param {string} file  a name from loadGoldenIndex().files, e.g. 'bn_train_NHWC_3x7x9x8.json'
 * @param {{ base?: string }} [opts]  base defaults to 'test/golden/'
 */
export async function loadGoldenCase(file, { base = 'test/golden/' } = {}) {
  return decodeCase(await getJSON(urlFor(base + file)));
}

/** All cases (decoded) whose file name passes filter (a RegExp or a predicate). */
export async function loadGoldenCases(filter = () => true) {
  const { base, files } = await loadGoldenIndex();
  const keep = filter instanceof RegExp ? (f) => filter.test(f) : filter;
  return Promise.all(files.filter(keep).map((f) => loadGoldenCase(f, { base })));
}

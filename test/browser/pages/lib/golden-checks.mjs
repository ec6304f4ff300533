// API-independent checks on the golden cases, shared by golden-plumbing.html and
// golden-worker.mjs. They prove the loading path (index → fetch → base64 → Float32Array) works in
// a page and in a module worker. The real golden tests replace `checkCase` with: run the op with
// simdnorm, then firstMismatch(got[k], c.expected[k], c.tolerance[k]) for every expected k.
import { test, assert } from './page-test.mjs';
import { loadGoldenIndex, loadGoldenCase } from './golden.mjs';

function checkCase(c) {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const main = c.inputs.x ?? c.inputs.weight;
  assert.ok(main instanceof Float32Array, `${c.name}: main input decoded`);
  if (c.expect_error !== undefined) return; // error cases may be inconsistent on purpose
  assert.equal(main.length, size, `${c.name}: main input length vs shape ${c.shape.join('x')}`);
  for (const [k, v] of Object.entries(c.expected)) {
    assert.ok(v instanceof Float32Array, `${c.name}: expected.${k} decoded`);
    assert.ok(c.tolerance && c.tolerance[k], `${c.name}: tolerance for ${k}`);
  }
}

export function registerGoldenChecks() {
  test('golden-index.json lists test/golden/*.json', async () => {
    const idx = await loadGoldenIndex();
    assert.equal(idx.base, 'test/golden/', 'base');
    assert.ok(idx.files.length > 0, 'at least one case');
    assert.ok(idx.files.every((f) => f.endsWith('.json')), 'only .json files');
  });

  test('every golden case fetches and decodes', async () => {
    const { files } = await loadGoldenIndex();
    const cases = await Promise.all(files.map((f) => loadGoldenCase(f)));
    cases.forEach(checkCase);
    console.log(`decoded ${cases.length} golden cases in ${typeof window === 'undefined' ? 'a worker' : 'the page'}`);
  });
}

// Module worker for golden-plumbing.html: the same checks, inside a Web Worker.
// (The top-level await stands in for the real worker's async setup, e.g. loading the bundle.)
import { serveWorker } from './lib/page-test.mjs';
import { registerGoldenChecks } from './lib/golden-checks.mjs';
import { loadGoldenIndex } from './lib/golden.mjs';

const { files } = await loadGoldenIndex();
console.log(`worker: ${files.length} golden files listed before serving`);
registerGoldenChecks();
serveWorker();

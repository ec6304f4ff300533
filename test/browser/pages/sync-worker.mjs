// Module worker for sync.html: the worker-pool tests inside a Web Worker (its pool's workers are
// nested workers; shared memory when the page is cross-origin isolated).
import * as api from '../../../dist/browser.js';
import { serveWorker } from './lib/page-test.mjs';
import { registerSyncTests } from './lib/api-checks.mjs';

await registerSyncTests(api);
serveWorker();

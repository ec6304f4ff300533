// Module worker for golden-api.html: the golden cases inside a Web Worker.
import * as api from '../../../dist/browser.js';
import { serveWorker } from './lib/page-test.mjs';
import { registerGoldenTests } from './lib/api-checks.mjs';

await registerGoldenTests(api);
serveWorker();

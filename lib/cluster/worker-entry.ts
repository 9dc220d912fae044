// The script node:cluster forks for each worker: everything lives in worker.ts.

import { runWorker } from './worker.js';

await runWorker();

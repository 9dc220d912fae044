// fuzz() on a worker thread: coverage is taken from the worker's own isolate, whose heap holds the
// fuzzer and the parser only, so each take stays cheap however much the calling process has loaded
// (a test runner's); the main thread's event loop stays free meanwhile.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fuzz, type FuzzOptions, type FuzzStats } from './fuzzer.js';

/** The options that cross the thread boundary: no callbacks. */
export type WorkerFuzzOptions = Pick<FuzzOptions, 'seed' | 'seeds' | 'maxExecs' | 'maxMillis' | 'limits' | 'slowMillis' | 'maxCrashes'>;

export function fuzzInWorker(options: WorkerFuzzOptions): Promise<FuzzStats> {
  return new Promise((resolve, reject) => {
    // No inherited --import hooks (a test runner's loaders): their modules would crowd the worker's heap.
    const worker = new Worker(new URL(import.meta.url), { workerData: options, execArgv: [] });
    let stats: FuzzStats | null = null;
    worker.once('message', (message: FuzzStats) => {
      // Structured cloning turns Buffers into Uint8Arrays.
      for (const crash of message.crashes) crash.input = Buffer.from(crash.input);
      stats = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (stats !== null) resolve(stats);
      else reject(new Error(`the fuzz worker exited with code ${code} and no result`));
    });
  });
}

if (!isMainThread && parentPort !== null) {
  const options = workerData as WorkerFuzzOptions;
  parentPort.postMessage(fuzz({ ...options, seeds: options.seeds.map((s) => Buffer.from(s)) }));
}

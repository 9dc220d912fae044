// The seed corpus on disk (test/fixtures/fuzz-corpus/*.http, raw request bytes) and the paths the
// fuzz scripts write to; resolved from this file so tests and the long run find the same files.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root: this file runs from dist/benchmarks/fuzz/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SEED_DIR = path.join(REPO_ROOT, 'test/fixtures/fuzz-corpus');

export interface CorpusFile {
  name: string;
  data: Buffer;
}

/** Every file of `dir` in name order (the order is part of a seeded run's determinism). */
export function loadCorpus(dir: string = SEED_DIR): CorpusFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((name) => ({ name, data: readFileSync(path.join(dir, name)) }));
}

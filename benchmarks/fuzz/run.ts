// The long fuzz run: `node dist/benchmarks/fuzz/run.js --seconds 600 [--seed N] [--out fuzz-out]`.
// Starts from the seed corpus plus what earlier runs saved, writes every new corpus entry and every
// crash (input + message) to files, and prints executions, exec/s, corpus size and blocks covered.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCorpus, REPO_ROOT } from './corpus.js';
import { fuzz, type FuzzStats } from './fuzzer.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string' },
    execs: { type: 'string' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'fuzz-out') },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const corpusDir = path.join(values.out!, 'corpus');
const crashDir = path.join(values.out!, 'crashes');
mkdirSync(corpusDir, { recursive: true });
mkdirSync(crashDir, { recursive: true });

const seeds = [...loadCorpus(), ...loadCorpus(corpusDir)];
const sha = (b: Buffer): string => createHash('sha1').update(b).digest('hex').slice(0, 16);

function line(s: FuzzStats): string {
  return `execs ${s.execs}  exec/s ${s.execsPerSecond.toFixed(0)}  corpus ${s.corpusSize}  blocks ${s.blocksCovered}/${s.blocksSeen}  crashes ${s.crashes.length}`;
}

console.log(`fuzz: seed ${seed}, ${seeds.length} starting inputs, ${values.seconds} s, output in ${values.out}`);
const stats = fuzz({
  seed,
  seeds: seeds.map((f) => f.data),
  maxMillis: Number(values.seconds) * 1000,
  maxExecs: values.execs !== undefined ? Number(values.execs) : Infinity,
  onNewEntry: (input) => writeFileSync(path.join(corpusDir, `${sha(input)}.http`), input),
  onCrash: (crash) => {
    const name = `${crash.kind}-${sha(crash.input)}`;
    writeFileSync(path.join(crashDir, `${name}.http`), crash.input);
    writeFileSync(path.join(crashDir, `${name}.txt`), `seed ${seed} exec ${crash.exec}\n${crash.message}\n`);
    console.log(`crash (${crash.kind}) at exec ${crash.exec}: ${crash.message.split('\n')[0]} -> ${name}.http`);
  },
  onProgress: (s) => console.log(line(s)),
});
console.log(`done in ${(stats.millis / 1000).toFixed(1)} s: ${line(stats)}, parser runs ${stats.runs}, new entries ${stats.newEntries}`);
console.log(`functions reached ${stats.functionsReached}; blocks never reached: ${stats.uncovered.length}`);
const sources = new Map<string, string>();
for (const [url, start, end] of stats.uncovered) {
  if (!sources.has(url)) sources.set(url, readFileSync(fileURLToPath(url), 'utf8'));
  const text = sources.get(url)!;
  const lineNo = text.slice(0, start).split('\n').length;
  console.log(`  ${path.basename(url)}:${lineNo}  ${JSON.stringify(text.slice(start, Math.min(end, start + 70)))}`);
}
process.exitCode = stats.crashes.length > 0 ? 1 : 0;

// CI run of the coverage-guided fuzzer over the request parser and body decoders: a fixed seed and
// execution count make it reproducible (FUZZ_SEED / FUZZ_EXECS override), a wall-time cap bounds it.

import t from 'tap';
import { loadCorpus } from '../../benchmarks/fuzz/corpus.js';
import { fuzz } from '../../benchmarks/fuzz/fuzzer.js';

const seed = Number(process.env.FUZZ_SEED ?? 0x6c696e67) >>> 0;
// Under tap 800-1,050 exec/s were measured on a loaded 2-core machine (2,500/s standalone), and less
// beside other test files: 25,000 take 25-35 s.
// The cap keeps a slower box inside tap's timeout; the executions before it are the same for a seed.
const maxExecs = Number(process.env.FUZZ_EXECS ?? 25_000);
const maxMillis = 40_000;

t.test('coverage-guided fuzzing finds no crash and no invariant violation', async (t) => {
  const seeds = loadCorpus();
  t.ok(seeds.length >= 50, 'the seed corpus is there');
  t.comment(`fuzz seed ${seed} (reproduce: FUZZ_SEED=${seed} FUZZ_EXECS=${maxExecs})`);
  const stats = fuzz({ seed, seeds: seeds.map((f) => f.data), maxExecs, maxMillis });
  t.comment(
    `execs ${stats.execs} in ${(stats.millis / 1000).toFixed(1)} s (${stats.execsPerSecond.toFixed(0)}/s), ` +
      `${stats.runs} parser runs, corpus ${stats.corpusSize}, blocks ${stats.blocksCovered}/${stats.blocksSeen}`,
  );
  if (stats.execs < maxExecs && stats.crashes.length === 0) t.comment(`stopped by the ${maxMillis / 1000} s cap after ${stats.execs} executions`);
  for (const c of stats.crashes) {
    t.fail(`${c.kind} at exec ${c.exec}: ${c.message.split('\n')[0]}`, { input: JSON.stringify(c.input.toString('latin1')) });
  }
  t.equal(stats.crashes.length, 0, 'no crash');
  t.ok(stats.execs >= Math.min(maxExecs, 10_000), 'enough executions ran to mean something');
  t.ok(stats.newEntries > 0, 'mutation reached parser code the seeds did not');
});

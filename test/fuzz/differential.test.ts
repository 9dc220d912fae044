// CI differential run: the seed corpus plus seeded mutations of it, each sent to node:http and to
// linger over loopback; any difference not explained by the allow-list fails (FUZZ_SEED overrides).

import t from 'tap';
import { loadCorpus } from '../../benchmarks/fuzz/corpus.js';
import { differential, generateInputs } from '../../benchmarks/fuzz/differential.js';

const seed = Number(process.env.FUZZ_SEED ?? 0x6c696e67) >>> 0;
/** Inputs in all: every seed once, the rest mutated. 2,000 take about 2 s on loopback, cheap enough to
 * run more than the ~300 first planned. */
const TOTAL = 2000;

t.test('linger and node:http serve the same requests, or the difference is documented', async (t) => {
  const seeds = loadCorpus().map((f) => f.data);
  const inputs = generateInputs(seeds, Math.max(0, TOTAL - seeds.length), seed);
  t.comment(`differential seed ${seed} (reproduce: FUZZ_SEED=${seed}), ${inputs.length} inputs`);
  const verdicts = await differential(inputs);
  const byEntry = new Map<string, number>();
  let agree = 0;
  for (const v of verdicts) {
    if (v.result === 'agree') agree++;
    else if (v.result === 'allowed') byEntry.set(v.allowedBy!.id, (byEntry.get(v.allowedBy!.id) ?? 0) + 1);
    else t.fail(v.detail, { input: JSON.stringify(v.input.toString('latin1')), node: v.node, linger: v.linger, predicted: v.predicted });
  }
  t.comment(`${agree} agree, ${verdicts.length - agree} documented differences: ${[...byEntry].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.equal(verdicts.filter((v) => v.result === 'disagree').length, 0, 'no undocumented disagreement');
  t.ok(agree > verdicts.length / 2, 'most inputs agree (the oracle is really comparing)');
  t.ok(verdicts.some((v) => v.node.served.length > 1), 'pipelined inputs are in the run');
});

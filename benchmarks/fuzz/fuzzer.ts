// The coverage-guided loop: pick a corpus entry, mutate it, run it whole and split through the
// harness, keep it when it reached parser code no earlier input reached, record crashes. Bounded
// by an execution count (reproducible: the same seed and count run the same inputs on any machine)
// or by wall time (the long run).

import { createHash } from 'node:crypto';
import { CoverageTracker, PARSER_SCRIPTS, type CoverageFigures } from './coverage.js';
import { checkInput, cutsFor, FUZZ_LIMITS, InvariantError, type HarnessLimits } from './harness.js';
import { mutate, Rng } from './mutator.js';

export interface Crash {
  kind: 'invariant' | 'exception' | 'slow';
  message: string;
  input: Buffer;
  /** Execution number at which it was found: with the seed, enough to reproduce it. */
  exec: number;
}

export interface FuzzOptions {
  seed: number;
  seeds: readonly Buffer[];
  maxExecs?: number;
  maxMillis?: number;
  limits?: HarnessLimits;
  /** One input taking longer than this is a hang for a byte-scanning parser (inputs are <= 2 KiB).
   * Default 1000; Infinity turns the check off where a result must not depend on the machine's speed. */
  slowMillis?: number;
  /** Stop after this many distinct crashes. */
  maxCrashes?: number;
  onNewEntry?: (input: Buffer) => void;
  onCrash?: (crash: Crash) => void;
  /** Called every `progressEvery` ms with the running figures. */
  onProgress?: (stats: FuzzStats) => void;
  progressEvery?: number;
}

export interface FuzzStats extends CoverageFigures {
  seed: number;
  execs: number;
  /** Parser runs: each execution runs the input whole and under two or more splits. */
  runs: number;
  millis: number;
  execsPerSecond: number;
  corpusSize: number;
  seedsKept: number;
  newEntries: number;
  /** How the executions ended, whole input: the harness's end kind, or `CODE STATUS` for a rejection. */
  endings: Map<string, number>;
  crashes: Crash[];
  /** Source offsets of the blocks never reached, per script. */
  uncovered: Array<[string, number, number]>;
}

/** Crashes with the same message (numbers blanked) are one bug. */
function crashKey(c: Crash): string {
  return `${c.kind}:${c.message.split('\n')[0]!.replace(/[0-9]+/g, 'N').slice(0, 120)}`;
}

/** The error's message, with the stack of a second run made with stack traces on. */
function describe(err: unknown, again: () => unknown): string {
  const first = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  try {
    again();
    return `${first}\n(not reproduced on a second run)`;
  } catch (second) {
    return `${first}\n${second instanceof Error ? (second.stack ?? '') : String(second)}`;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function fuzz(options: FuzzOptions): FuzzStats {
  const rng = new Rng(options.seed);
  const limits = options.limits ?? FUZZ_LIMITS;
  const maxExecs = options.maxExecs ?? Infinity;
  const maxMillis = options.maxMillis ?? Infinity;
  const slowMillis = options.slowMillis ?? 1000;
  const maxCrashes = options.maxCrashes ?? 20;
  const progressEvery = options.progressEvery ?? 10_000;
  const tracker = new CoverageTracker(PARSER_SCRIPTS);
  const corpus: Buffer[] = [];
  const known = new Set<string>();
  const crashKeys = new Set<string>();
  const crashes: Crash[] = [];
  let execs = 0;
  let runs = 0;
  let newEntries = 0;
  let seedsKept = 0;
  const endings = new Map<string, number>();
  const started = performance.now();
  let nextProgress = started + progressEvery;

  const stats = (): FuzzStats => {
    const millis = performance.now() - started;
    return {
      seed: options.seed,
      execs,
      runs,
      millis,
      execsPerSecond: execs / (millis / 1000),
      corpusSize: corpus.length,
      seedsKept,
      newEntries,
      endings,
      crashes,
      uncovered: tracker.uncovered(),
      ...tracker.figures(),
    };
  };

  /** Runs one input; returns whether it reached new code. */
  const exec = (input: Buffer): boolean => {
    execs++;
    const cutSets = [cutsFor(input.length, () => rng.next(), false), cutsFor(input.length, () => rng.next(), false)];
    // Byte by byte is the harshest split; short inputs get it every eighth execution.
    if (input.length <= 256 && (execs & 7) === 0) cutSets.push(cutsFor(input.length, () => rng.next(), true));
    runs += 1 + cutSets.length;
    const t0 = performance.now();
    let crash: Crash | null = null;
    try {
      const end = checkInput(input, cutSets, limits).end;
      const ending = end.kind === 'error' ? `${end.code} ${end.statusCode}` : end.kind;
      endings.set(ending, (endings.get(ending) ?? 0) + 1);
    } catch (err) {
      const kind = err instanceof InvariantError ? 'invariant' : 'exception';
      crash = { kind, message: describe(err, () => checkInput(input, cutSets, limits)), input, exec: execs };
    }
    const took = performance.now() - t0;
    if (crash === null && took > slowMillis) {
      crash = { kind: 'slow', message: `one input took ${took.toFixed(0)} ms`, input, exec: execs };
    }
    const fresh = tracker.collect();
    if (crash !== null) {
      const key = crashKey(crash);
      if (!crashKeys.has(key)) {
        crashKeys.add(key);
        crashes.push(crash);
        options.onCrash?.(crash);
      }
      return false;
    }
    return fresh > 0;
  };

  const add = (input: Buffer): boolean => {
    const id = createHash('sha1').update(input).digest('hex');
    if (known.has(id)) return false;
    known.add(id);
    corpus.push(input);
    return true;
  };

  // Every rejected input builds a ProtocolError; capturing its stack (source-mapped under tap) would
  // cost more than parsing. Crashes are run again with stacks on to describe them.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    tracker.collect(); // drop what ran before the first input
    // Every seed joins: they are the grammar's landmarks, and splicing needs them even when their code is covered.
    for (const seed of options.seeds) {
      if (execs >= maxExecs) break;
      if (exec(seed)) seedsKept++;
      add(seed);
    }
    if (corpus.length === 0) add(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'));
    while (execs < maxExecs && crashes.length < maxCrashes) {
      const now = performance.now();
      if (now - started >= maxMillis) break;
      if (now >= nextProgress) {
        nextProgress = now + progressEvery;
        options.onProgress?.(stats());
      }
      // Newer entries were found by reaching something new: favour them a little.
      const parent = rng.below(4) === 0 ? corpus[corpus.length - 1 - rng.below(Math.min(16, corpus.length))]! : rng.pick(corpus);
      const input = mutate(parent, rng.pick(corpus), rng);
      if (exec(input) && add(input)) {
        newEntries++;
        options.onNewEntry?.(input);
      }
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    tracker.stop();
  }
  return stats();
}

// Block coverage of the code under test, read from V8 through node:inspector after every input:
// Profiler.startPreciseCoverage in binary block mode, so each take reports (and resets) only what
// the last input executed. New covered source bytes are what makes an input join the corpus.

import { Session } from 'node:inspector';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface ScriptCoverage {
  url: string;
  functions: Array<{ functionName: string; ranges: Range[] }>;
}

interface Tracked {
  /** 1 for each source byte of the script executed by some input so far. */
  covered: Uint8Array;
  /** Every range boundary V8 has reported: the block structure seen so far. */
  boundaries: Set<number>;
  /** 1 for each source byte inside a function that has run (the rest is top-level code and gaps). */
  inFunction: Uint8Array;
}

export interface CoverageFigures {
  /** Blocks (spans between two reported range boundaries) executed by some input. */
  blocksCovered: number;
  /** Blocks in the functions reached so far; V8 reveals a function's blocks only once it runs. */
  blocksSeen: number;
  functionsReached: number;
  /** The tracked scripts (PARSER_SCRIPTS suffixes) that ran at all. */
  scriptsReached: string[];
}

/** dist/ paths of the parser and the body decoders: the code the fuzzer steers towards. */
export const PARSER_SCRIPTS = [
  '/lib/http1/request-parser.js',
  '/lib/http1/head-fields.js',
  '/lib/http1/request-line.js',
  '/lib/http1/body-decoder.js',
];

export class CoverageTracker {
  private readonly session = new Session();
  private readonly scripts = new Map<string, Tracked>();
  private readonly functions = new Set<string>();
  private scratch = new Uint8Array(1 << 16);

  constructor(private readonly suffixes: readonly string[] = PARSER_SCRIPTS) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  /** The main-thread session answers synchronously: the callback has run when post() returns. */
  private post(method: string, params?: object): unknown {
    let result: unknown;
    let error: Error | null = null;
    this.session.post(method, params, (err, res) => {
      error = err;
      result = res;
    });
    if (error !== null) throw error;
    return result;
  }

  /** Coverage since the last call; returns how many source bytes no earlier input had reached. */
  collect(): number {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = 0;
    for (const script of result) {
      if (!this.suffixes.some((s) => script.url.endsWith(s))) continue;
      let tracked = this.scripts.get(script.url);
      if (tracked === undefined) {
        tracked = { covered: new Uint8Array(0), boundaries: new Set(), inFunction: new Uint8Array(0) };
        this.scripts.set(script.url, tracked);
      }
      for (const fn of script.functions) fresh += this.paint(tracked, script.url, fn.ranges);
    }
    return fresh;
  }

  /** Ranges come outer before inner (sorted by start, longer first), so painting in order leaves each
   * byte with the count of its innermost range, which is what V8 means by a nested range. */
  private paint(tracked: Tracked, url: string, ranges: Range[]): number {
    const outer = ranges[0]!;
    if (outer.count === 0) return 0;
    this.functions.add(`${url}:${outer.startOffset}`);
    const s = outer.startOffset;
    const e = outer.endOffset;
    if (tracked.covered.length < e) {
      const grown = new Uint8Array(Math.max(e, tracked.covered.length * 2));
      grown.set(tracked.covered);
      tracked.covered = grown;
      const inFunction = new Uint8Array(grown.length);
      inFunction.set(tracked.inFunction);
      tracked.inFunction = inFunction;
    }
    tracked.inFunction.fill(1, s, e);
    if (this.scratch.length < e - s) this.scratch = new Uint8Array(e - s);
    const scratch = this.scratch;
    for (const r of ranges) {
      tracked.boundaries.add(r.startOffset);
      tracked.boundaries.add(r.endOffset);
      scratch.fill(r.count > 0 ? 1 : 0, r.startOffset - s, r.endOffset - s);
    }
    const covered = tracked.covered;
    let fresh = 0;
    for (let i = s; i < e; i++) {
      if (scratch[i - s] === 1 && covered[i] === 0) {
        covered[i] = 1;
        fresh++;
      }
    }
    return fresh;
  }

  figures(): CoverageFigures {
    let blocksCovered = 0;
    let blocksSeen = 0;
    for (const tracked of this.scripts.values()) {
      const b = [...tracked.boundaries].sort((x, y) => x - y);
      for (let k = 1; k < b.length; k++) {
        if (b[k]! === b[k - 1]! || tracked.inFunction[b[k - 1]!] !== 1) continue;
        blocksSeen++;
        if (tracked.covered[b[k - 1]!] === 1) blocksCovered++;
      }
    }
    const scriptsReached = this.suffixes.filter((suffix) => [...this.scripts.keys()].some((url) => url.endsWith(suffix)));
    return { blocksCovered, blocksSeen, functionsReached: this.functions.size, scriptsReached };
  }

  /** The blocks no input has reached: [url, start, end] in the script's source offsets. */
  uncovered(): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const [url, tracked] of this.scripts) {
      const b = [...tracked.boundaries].sort((x, y) => x - y);
      for (let k = 1; k < b.length; k++) {
        const at = b[k - 1]!;
        if (b[k]! !== at && tracked.inFunction[at] === 1 && tracked.covered[at] !== 1) out.push([url, at, b[k]!]);
      }
    }
    return out;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }
}

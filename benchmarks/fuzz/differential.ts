// Differential check against Node's llhttp: the same bytes go to a node:http server and to a linger
// server over raw loopback sockets; both report what they served (method, target, body length), and
// the lists must match, or the difference must be a documented strictness in allow-list.ts.

import http from 'node:http';
import net from 'node:net';
import { Server } from '../../lib/index.js';
import { DEFAULT_PARSER_LIMITS } from '../../lib/http1/request-parser.js';
import { runStream, type HarnessLimits, type Outcome } from './harness.js';
import { ALLOW_LIST, type AllowEntry } from './allow-list.js';
import { mutate, Rng } from './mutator.js';

/** What one server served, in order: a 2xx response carrying the x-m/x-u/x-n report. */
export interface Served {
  method: string;
  url: string;
  bodyLength: number;
}

export interface Observed {
  served: Served[];
  /** Statuses of all final responses, in order (e.g. [200, 400]). */
  statuses: number[];
  timedOut: boolean;
  /** node only: the llhttp error code of a clientError on this connection. */
  errorCode: string | null;
}

export interface Verdict {
  input: Buffer;
  node: Observed;
  linger: Observed;
  /** linger's served list as predicted from the pure parser run (the engine must match it). */
  predicted: Served[];
  /** How the parser run ended: an error code, or closed:<reason>, idle, partial-head, partial-body. */
  lingerEnd: string;
  result: 'agree' | 'allowed' | 'disagree';
  allowedBy: AllowEntry | null;
  detail: string;
}

/** linger's defaults, as the Connection hands them to the parser and the chunked decoder. */
export const SERVER_LIMITS: Readonly<HarnessLimits> = Object.freeze({
  ...DEFAULT_PARSER_LIMITS,
  maxTrailerSize: DEFAULT_PARSER_LIMITS.maxHeaderSize,
  maxChunkLineLength: 4096,
});

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const unhex = (s: string): string => Buffer.from(s, 'hex').toString('latin1');

/** Status node's default clientError handler answers with for an llhttp error code. */
function nodeErrorStatus(code: string): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  return 400;
}

export interface ServerPair {
  nodePort: number;
  lingerPort: number;
  close(): Promise<void>;
  /** llhttp error codes by the client's local port. */
  nodeErrors: Map<number, string>;
}

export async function startServers(): Promise<ServerPair> {
  const nodeErrors = new Map<number, string>();
  // Defaults throughout: insecureHTTPParser false, default maxHeaderSize (16 KiB).
  const nodeServer = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('error', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'x-m': hex(req.method ?? ''), 'x-u': hex(req.url ?? ''), 'x-n': String(n), 'content-length': '0' });
      res.end();
    });
  });
  // A listener replaces node's default handler, which answers at once and destroys the socket, losing
  // the responses of earlier pipelined requests still being handled. That is node's error handling, not
  // its parser: this one lets them go out first, then answers like the default, and records the llhttp code.
  nodeServer.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const code = err.code ?? 'UNKNOWN';
    if (socket.remotePort !== undefined) nodeErrors.set(socket.remotePort, code);
    setTimeout(() => {
      if (socket.writable && code !== 'ECONNRESET') {
        socket.end(`HTTP/1.1 ${nodeErrorStatus(code)} Bad Request\r\nConnection: close\r\n\r\n`);
      } else socket.destroy();
    }, 30);
  });
  await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));

  const linger = new Server(undefined, (req, res) => {
    req.buffer().then(
      (body) => {
        res.setHeader('x-m', hex(req.method));
        res.setHeader('x-u', hex(req.url));
        res.setHeader('x-n', String(body.length));
        res.end();
      },
      () => {}, // the engine answers a failed body itself
    );
  });
  const lingerAddress = await linger.listen({ port: 0, host: '127.0.0.1' });
  return {
    nodePort: (nodeServer.address() as net.AddressInfo).port,
    lingerPort: lingerAddress.port,
    nodeErrors,
    async close() {
      nodeServer.closeAllConnections();
      await new Promise<void>((resolve) => nodeServer.close(() => resolve()));
      await linger.close({ timeout: 1000 });
    },
  };
}

/** Writes `input`, half-closes, and reads until the server closes (or `timeoutMs`). */
export function exchange(port: number, input: Buffer, timeoutMs = 3000): Promise<{ bytes: Buffer; timedOut: boolean; localPort: number }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let timedOut = false;
    let localPort = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      socket.end(input);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // a reset ends the exchange like a close
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), timedOut, localPort });
    });
  });
}

/** A small response parser, independent of lib/: status, headers, then a Content-Length, chunked or to-EOF body. */
export function parseResponses(bytes: Buffer): { statuses: number[]; served: Served[] } {
  const statuses: number[] = [];
  const served: Served[] = [];
  let p = 0;
  while (p < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', p, 'latin1');
    if (headEnd < 0) break;
    const lines = bytes.toString('latin1', p, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    p = headEnd + 4;
    if (status >= 100 && status < 200) continue; // 100 Continue: interim
    statuses.push(status);
    const cl = headers.get('content-length');
    if (cl !== undefined) p += Number(cl);
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      for (let guard = 0; guard < 10_000; guard++) {
        const eol = bytes.indexOf('\r\n', p, 'latin1');
        if (eol < 0) break;
        const size = parseInt(bytes.toString('latin1', p, eol), 16);
        p = eol + 2 + (size > 0 ? size + 2 : 2);
        if (!(size > 0)) break;
      }
    } else if (status !== 204 && status !== 304) p = bytes.length;
    if (status >= 200 && status < 300 && headers.has('x-m')) {
      served.push({ method: unhex(headers.get('x-m')!), url: unhex(headers.get('x-u')!), bodyLength: Number(headers.get('x-n')) });
    }
  }
  return { statuses, served };
}

/** What the connection would serve, from the pure parser run with the server's limits. */
export function predict(outcome: Outcome): Served[] {
  const out: Served[] = [];
  const last = outcome.messages.length - 1;
  const bodyFailed = outcome.end.kind === 'error' && outcome.end.inBody;
  for (let k = 0; k <= last; k++) {
    const m = outcome.messages[k]!;
    // CONNECT is answered 501; a body that is unfinished or broken is never served.
    if (m.method === 'CONNECT' || m.bodyLength < 0 || (k === last && bodyFailed)) break;
    out.push({ method: m.method, url: m.target, bodyLength: m.bodyLength });
  }
  return out;
}

function endOf(outcome: Outcome): string {
  const e = outcome.end;
  if (e.kind === 'error') return e.code;
  if (e.kind === 'closed') return `closed:${e.reason}`;
  return e.kind;
}

const same = (a: Served, b: Served): boolean => a.method === b.method && a.url === b.url && a.bodyLength === b.bodyLength;

export async function compare(pair: ServerPair, input: Buffer): Promise<Verdict> {
  const [n, l] = await Promise.all([exchange(pair.nodePort, input), exchange(pair.lingerPort, input)]);
  // The server may record the clientError after the client saw the close: give it a turn.
  await new Promise((r) => setImmediate(r));
  const nodeParsed = parseResponses(n.bytes);
  const lingerParsed = parseResponses(l.bytes);
  const node: Observed = { ...nodeParsed, timedOut: n.timedOut, errorCode: pair.nodeErrors.get(n.localPort) ?? null };
  const linger: Observed = { ...lingerParsed, timedOut: l.timedOut, errorCode: null };
  pair.nodeErrors.delete(n.localPort);
  const outcome = runStream(input, [], SERVER_LIMITS);
  const predicted = predict(outcome);
  const lingerEnd = endOf(outcome);
  const verdict: Verdict = { input, node, linger, predicted, lingerEnd, result: 'agree', allowedBy: null, detail: '' };
  const fail = (detail: string): Verdict => ({ ...verdict, result: 'disagree', detail });

  if (n.timedOut || l.timedOut) return fail(`timed out (node ${n.timedOut}, linger ${l.timedOut})`);
  const pl = predicted.length === linger.served.length && predicted.every((s, i) => same(s, linger.served[i]!));
  if (!pl) return fail(`linger served ${JSON.stringify(linger.served)} but its parser predicts ${JSON.stringify(predicted)}`);
  const a = node.served;
  const b = linger.served;
  let i = 0;
  while (i < a.length && i < b.length && same(a[i]!, b[i]!)) i++;
  if (i === a.length && i === b.length) return verdict;
  if (i < a.length && i < b.length) {
    // Both served a request here but not the same one: the two parsers frame the stream differently.
    return fail(`message ${i}: node ${JSON.stringify(a[i])}, linger ${JSON.stringify(b[i])}`);
  }
  const direction = i === b.length ? 'linger-rejects' : 'node-rejects';
  const entry = ALLOW_LIST.find((e) => e.direction === direction && e.matches({ input, lingerEnd, nodeCode: node.errorCode, nodeStatuses: node.statuses, at: i, outcome }));
  const detail = `${direction} at message ${i}: node served ${a.length} (error ${node.errorCode ?? 'none'}), linger ${b.length} (${lingerEnd})`;
  if (entry === undefined) return fail(detail);
  return { ...verdict, result: 'allowed', allowedBy: entry, detail };
}

/** Runs `inputs` through both servers, `concurrency` at a time. */
export async function differential(inputs: readonly Buffer[], concurrency = 8): Promise<Verdict[]> {
  const pair = await startServers();
  const verdicts: Verdict[] = new Array(inputs.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < inputs.length) {
          const k = next++;
          verdicts[k] = await compare(pair, inputs[k]!);
        }
      }),
    );
  } finally {
    await pair.close();
  }
  return verdicts;
}

/** The seed corpus followed by `count` seeded mutations of it: the differential run's inputs. */
export function generateInputs(seeds: readonly Buffer[], count: number, seed: number): Buffer[] {
  const rng = new Rng(seed);
  const out = [...seeds];
  for (let i = 0; i < count; i++) {
    // One or two rounds of stacked mutations: one keeps most inputs near the grammar, two strays further.
    let input = mutate(rng.pick(seeds), rng.pick(seeds), rng);
    if (rng.below(2) === 0) input = mutate(input, rng.pick(seeds), rng);
    out.push(input);
  }
  return out;
}

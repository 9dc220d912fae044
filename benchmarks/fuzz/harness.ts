// The fuzz target: a byte stream driven through RequestParser and the body decoders exactly as a
// Connection drives them (pipelining, re-presented partial lines, stop after close/upgrade/CONNECT),
// with every invariant the parser promises checked on the way. Pure: no sockets, no timers.

import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from '../../lib/http1/body-decoder.js';
import { FIELD_VALUE, TARGET, TOKEN } from '../../lib/http1/header-validation.js';
import { ProtocolError } from '../../lib/http1/protocol-error.js';
import { RequestParser, type ParserLimits } from '../../lib/http1/request-parser.js';

export interface HarnessLimits extends ParserLimits {
  maxTrailerSize: number;
  maxChunkLineLength: number;
}

/** Small limits so a few hundred fuzzed bytes reach every limit check; the connection's defaults are 16 KiB / 100 / 8 KiB. */
export const FUZZ_LIMITS: Readonly<HarnessLimits> = Object.freeze({
  maxHeaderSize: 512,
  maxHeaderCount: 12,
  maxUriLength: 96,
  maxTrailerSize: 512,
  maxChunkLineLength: 64,
});

export interface Message {
  /** Offset of the message's first byte (a leading empty line included) in the input. */
  start: number;
  method: string;
  target: string;
  versionMinor: number;
  rawHeaders: string[];
  host: string | null;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
  upgrade: string | null;
  headBytes: number;
  /** Body bytes delivered; -1 while the body is incomplete. */
  bodyLength: number;
  /** FNV-1a of the body bytes, so split runs must deliver the same bytes, not just as many. */
  bodyHash: number;
  trailers: string[];
}

export type End =
  | { kind: 'error'; code: string; statusCode: number; inBody: boolean }
  /** Everything consumed at a message boundary. */
  | { kind: 'idle' }
  /** Out of bytes inside a head (pending = bytes of it seen) or a body. */
  | { kind: 'partial-head'; pending: number }
  | { kind: 'partial-body'; received: number }
  /** The connection stops reading requests: Connection: close, HTTP/1.0 default, upgrade, CONNECT. */
  | { kind: 'closed'; reason: 'close' | 'upgrade' | 'connect'; discarded: number };

export interface Outcome {
  messages: Message[];
  end: End;
  /** Offset of the first byte of the message the stream ended in (or of the unconsumed rest). */
  lastStart: number;
}

/** An invariant broken: what the fuzzer reports as a crash. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

const STATUSES = new Set([400, 414, 417, 431, 501, 505]);

function fnv(hash: number, buf: Buffer, s: number, e: number): number {
  for (let i = s; i < e; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193) >>> 0;
  return hash;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new InvariantError(message);
}

function checkError(err: unknown, where: string): ProtocolError {
  if (!(err instanceof ProtocolError)) throw new InvariantError(`${where}: error is not a ProtocolError: ${String(err)}`);
  check(/^ERR_[A-Z0-9_]+$/.test(err.code), `${where}: malformed code ${err.code}`);
  check(STATUSES.has(err.statusCode), `${where}: unexpected status ${err.statusCode} for ${err.code}`);
  return err;
}

const CRLF = Buffer.from('\r\n', 'latin1');

/** A naive re-reading of an accepted head's bytes (split at CRLF, SP and the first colon): the parser's
 * values must be what these bytes say, or the parser and any other reader disagree about the message. */
function checkHeadAgainstBytes(msg: Message, raw: Buffer, limits: ParserLimits): void {
  check(raw.length === msg.headBytes, `headBytes ${msg.headBytes} but the head spans ${raw.length} bytes`);
  check(msg.headBytes <= limits.maxHeaderSize, `head of ${msg.headBytes} bytes accepted over maxHeaderSize`);
  const lines: string[] = [];
  let p = 0;
  let seenRequestLine = false;
  for (;;) {
    const q = raw.indexOf(CRLF, p);
    check(q >= 0, 'accepted head does not end in CRLF');
    const line = raw.toString('latin1', p, q);
    lines.push(line);
    p = q + 2;
    if (line !== '') seenRequestLine = true;
    else if (seenRequestLine) break;
  }
  check(p === raw.length, 'accepted head has bytes after its empty line');
  let k = 0;
  while (lines[k] === '') k++;
  check(k <= 4, `${k} leading empty lines accepted`);
  const rl = lines[k]!.split(' ');
  check(rl.length === 3, `request line "${lines[k]}" is not three SP-separated parts`);
  check(rl[0] === msg.method && rl[1] === msg.target, 'method/target differ from the request line bytes');
  check(rl[2] === `HTTP/1.${msg.versionMinor}`, `version ${rl[2]} vs minor ${msg.versionMinor}`);
  for (const c of Buffer.from(msg.method, 'latin1')) check(TOKEN[c] === 1, 'method with a non-token byte');
  for (const c of Buffer.from(msg.target, 'latin1')) check(TARGET[c] === 1, 'target with a non-visible byte');
  check(msg.target.length > 0 && msg.target.length <= limits.maxUriLength, 'target length outside (0, maxUriLength]');
  const fields = lines.slice(k + 1, -1);
  check(fields.length * 2 === msg.rawHeaders.length, 'field count differs from the field lines');
  check(fields.length <= limits.maxHeaderCount, 'more fields than maxHeaderCount accepted');
  let hosts = 0;
  fields.forEach((line, j) => {
    const colon = line.indexOf(':');
    check(colon > 0, `field line without a name: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    check(name === msg.rawHeaders[2 * j] && value === msg.rawHeaders[2 * j + 1], `field ${j} differs from its bytes`);
    for (let i = 0; i < name.length; i++) check(TOKEN[name.charCodeAt(i)] === 1, 'field name with a non-token byte');
    for (let i = 0; i < value.length; i++) check(FIELD_VALUE[value.charCodeAt(i)] === 1, 'field value with a CTL');
    if (name.toLowerCase() === 'host') hosts++;
  });
  check(hosts <= 1, 'two Host fields accepted');
  check(msg.versionMinor === 0 || hosts === 1, 'HTTP/1.1 head without Host accepted');
  check((msg.host !== null) === (hosts === 1), 'host set without a Host field, or missing with one');
  check(!(msg.chunked && msg.contentLength >= 0), 'chunked and Content-Length both accepted');
  check(Number.isSafeInteger(msg.contentLength) && msg.contentLength >= -1, `contentLength ${msg.contentLength}`);
  const te = fields.some((l) => l.slice(0, l.indexOf(':')).toLowerCase() === 'transfer-encoding');
  check(te === msg.chunked, 'Transfer-Encoding present but not chunked framing, or chunked without it');
  const cl = fields.some((l) => l.slice(0, l.indexOf(':')).toLowerCase() === 'content-length');
  check(cl === msg.contentLength >= 0, 'Content-Length present but no length, or a length without it');
}

/** A lenient re-reading of a complete chunked body's bytes: the data it yields must be what the decoder delivered. */
function checkChunkedAgainstBytes(raw: Buffer, bodyLength: number, bodyHash: number): void {
  let p = 0;
  let total = 0;
  let hash = 0x811c9dc5;
  for (let guard = 0; guard <= raw.length; guard++) {
    const eol = raw.indexOf(CRLF, p);
    check(eol >= 0, 'chunk size line without CRLF');
    const m = /^([0-9a-fA-F]+)/.exec(raw.toString('latin1', p, eol));
    check(m !== null, 'chunk size line without hex digits');
    const size = parseInt(m![1]!, 16);
    p = eol + 2;
    if (size === 0) {
      // Trailer lines, then the empty line that ends the body, which must be the last bytes.
      for (;;) {
        const t = raw.indexOf(CRLF, p);
        check(t >= 0, 'trailer section without its final CRLF');
        const empty = t === p;
        p = t + 2;
        if (empty) break;
      }
      check(p === raw.length, `chunked body ends at ${p} of ${raw.length} bytes`);
      check(total === bodyLength && hash === bodyHash, 'chunk data differs from what the decoder delivered');
      return;
    }
    check(p + size + 2 <= raw.length, 'chunk data runs past the body');
    hash = fnv(hash, raw, p, p + size);
    total += size;
    p += size;
    check(raw[p] === 13 && raw[p + 1] === 10, 'chunk data not followed by CRLF');
    p += 2;
  }
  check(false, 'chunked re-reading did not terminate');
}

interface Sink {
  messages: Message[];
  end: End;
  lastStart: number;
}

/**
 * Runs `input` cut at `cuts` (ascending offsets) through a fresh parser, the way a Connection reads:
 * each piece appended to the unconsumed bytes of the last. Throws InvariantError when an invariant breaks;
 * any other exception escaping is a crash of the code under test.
 */
export function runStream(input: Buffer, cuts: readonly number[] = [], limits: HarnessLimits = FUZZ_LIMITS): Outcome {
  const parser = new RequestParser(limits);
  const messages: Message[] = [];
  let decoder: BodyDecoder | null = null;
  let current: Message | null = null;
  let bodyStart = 0; // absolute offset of the current body
  let stopAfterBody: End | null = null;
  let pending: Buffer = Buffer.alloc(0);
  let pendingAt = 0; // absolute offset of pending[0]
  let headStart = 0; // absolute offset where the current head began
  const sink: Sink = { messages, end: { kind: 'idle' }, lastStart: 0 };
  // Bounded work: every step must consume a byte or finish something; more steps than this is a hang.
  let budget = 4 * input.length + 64;

  const bounds = [0, ...cuts.filter((c) => c > 0 && c < input.length), input.length];
  for (let b = 1; b < bounds.length; b++) {
    const piece = input.subarray(bounds[b - 1]!, bounds[b]!);
    const buf = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
    const base = pendingAt;
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      check(--budget > 0, 'no progress: more parser steps than 4 per input byte');
      if (decoder !== null) {
        const before = pos;
        pos = decoder.next(buf, pos, end);
        check(pos >= before && pos <= end, `decoder moved from ${before} to ${pos} in [0, ${end}]`);
        if (decoder.error !== null) {
          const e = checkError(decoder.error, 'body');
          check(decoder.next(buf, pos, end) === pos && decoder.error === e, 'a failed decoder did not stay failed');
          sink.end = { kind: 'error', code: e.code, statusCode: e.statusCode, inBody: true };
          return finish(sink);
        }
        const ds = decoder.dataStart;
        const de = decoder.dataEnd;
        check(de >= ds && (de === ds || (ds >= before && de <= pos)), `data [${ds}, ${de}) outside the step [${before}, ${pos})`);
        check(pos > before || decoder.done, 'decoder made no progress');
        current!.bodyHash = fnv(current!.bodyHash, buf, ds, de);
        current!.bodyLength += de - ds;
        check(decoder.received === current!.bodyLength, `decoder.received ${decoder.received} != delivered ${current!.bodyLength}`);
        if (!(decoder instanceof ChunkedDecoder)) {
          check(current!.bodyLength <= current!.contentLength, 'more body bytes than Content-Length');
        }
        if (decoder.done) {
          const again = decoder.next(buf, pos, end);
          check(again === pos && decoder.dataEnd === decoder.dataStart && decoder.received === current!.bodyLength, 'a finished decoder consumed more');
          const bodyEnd = base + pos;
          if (decoder instanceof ChunkedDecoder) {
            current!.trailers = [...decoder.trailers];
            checkChunkedAgainstBytes(input.subarray(bodyStart, bodyEnd), current!.bodyLength, current!.bodyHash);
          } else {
            check(current!.bodyLength === current!.contentLength, `body of ${current!.bodyLength} bytes for Content-Length ${current!.contentLength}`);
            check(bodyEnd - bodyStart === current!.contentLength, 'length body spans other than Content-Length bytes');
          }
          decoder = null;
          current = null;
          headStart = sink.lastStart = bodyEnd;
          if (stopAfterBody !== null) {
            sink.end = withDiscard(stopAfterBody, input.length - bodyEnd);
            return finish(sink);
          }
        }
        continue;
      }
      const consumed = parser.execute(buf, pos, end);
      if (consumed < 0) {
        check(parser.error !== null && parser.head === null, 'execute returned -1 without an error');
        const e = checkError(parser.error, 'head');
        sink.end = { kind: 'error', code: e.code, statusCode: e.statusCode, inBody: false };
        check(parser.execute(buf, pos, end) === -1 && parser.error === e, 'a failed parser did not stay failed');
        return finish(sink);
      }
      check(parser.error === null, 'error set but execute returned a count');
      check(consumed <= end - pos, `consumed ${consumed} of ${end - pos} bytes`);
      check(parser.pendingBytes >= 0 && parser.pendingBytes <= limits.maxHeaderSize, `pendingBytes ${parser.pendingBytes}`);
      if (parser.head === null) {
        pos += consumed;
        break; // keep buf[pos, end) and wait for the next piece
      }
      const head = parser.head;
      check(parser.execute(buf, pos + consumed, end) === 0 && parser.head === head, 'a parser holding a head consumed more before reset()');
      pos += consumed;
      const headEnd = base + pos;
      parser.reset();
      check(headEnd - headStart === head.headBytes, `headBytes ${head.headBytes} but the head spans ${headEnd - headStart} bytes`);
      check(parser.pendingBytes === 0 && parser.head === null, 'reset() left state');
      const msg: Message = {
        start: headStart,
        method: head.method,
        target: head.target,
        versionMinor: head.versionMinor,
        rawHeaders: [...head.rawHeaders],
        host: head.host,
        contentLength: head.contentLength,
        chunked: head.chunked,
        keepAlive: head.keepAlive,
        expectContinue: head.expectContinue,
        upgrade: head.upgrade,
        headBytes: head.headBytes,
        bodyLength: 0,
        bodyHash: 0x811c9dc5,
        trailers: [],
      };
      checkHeadAgainstBytes(msg, input.subarray(headStart, headEnd), limits);
      messages.push(msg);
      sink.lastStart = headStart;
      headStart = headEnd;
      // The order of Connection.startRequest: the body is read even when the connection will stop after it.
      let stop: End | null = null;
      if (head.upgrade !== null) stop = { kind: 'closed', reason: 'upgrade', discarded: 0 };
      else if (head.method === 'CONNECT') stop = { kind: 'closed', reason: 'connect', discarded: 0 };
      else if (!head.keepAlive) stop = { kind: 'closed', reason: 'close', discarded: 0 };
      if (head.chunked || head.contentLength > 0) {
        decoder = head.chunked
          ? new ChunkedDecoder({ maxTrailerSize: limits.maxTrailerSize, maxChunkLineLength: limits.maxChunkLineLength })
          : new LengthDecoder(head.contentLength);
        current = msg;
        msg.bodyLength = 0;
        bodyStart = headEnd;
        // As in Connection.processInput, a body is read before the stop takes effect, even for an
        // upgrade (the bytes after the body are held) and CONNECT (answered 501 without the body).
        stopAfterBody = stop;
      } else if (stop !== null) {
        sink.end = withDiscard(stop, input.length - headEnd);
        return finish(sink);
      }
      if (decoder === null) sink.lastStart = headEnd;
    }
    pending = buf.subarray(pos);
    pendingAt = base + pos;
  }
  if (decoder !== null) {
    sink.end = { kind: 'partial-body', received: current!.bodyLength };
    current!.bodyLength = -1;
  } else if (pending.length > 0 || parser.pendingBytes > 0) {
    check(parser.pendingBytes === input.length - headStart, `pendingBytes ${parser.pendingBytes} vs ${input.length - headStart} unconsumed`);
    sink.end = { kind: 'partial-head', pending: parser.pendingBytes };
  }
  return finish(sink);
}

function withDiscard(end: End, discarded: number): End {
  return end.kind === 'closed' ? { ...end, discarded } : end;
}

function finish(sink: Sink): Outcome {
  return { messages: sink.messages, end: sink.end, lastStart: sink.lastStart };
}

/** Stable text of an outcome, for comparing runs of differently split input. */
export function outcomeKey(o: Outcome): string {
  return JSON.stringify(o);
}

/** Random cut points for one split run: 1 to 4 cuts, or every byte when `bytewise`. */
export function cutsFor(length: number, rand: () => number, bytewise: boolean): number[] {
  if (length < 2) return [];
  if (bytewise) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const n = 1 + Math.floor(rand() * 4);
  const cuts = new Set<number>();
  for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(rand() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/**
 * The fuzzer's unit of work: the input whole and under each cut set; any difference between the outcomes
 * is an InvariantError (the parser is incremental, so where TCP splits the bytes must not matter).
 */
export function checkInput(input: Buffer, cutSets: readonly (readonly number[])[], limits: HarnessLimits = FUZZ_LIMITS): Outcome {
  const whole = runStream(input, [], limits);
  const key = outcomeKey(whole);
  for (const cuts of cutSets) {
    const split = runStream(input, cuts, limits);
    const k = outcomeKey(split);
    if (k !== key) throw new InvariantError(`split at [${cuts.join(',')}] gives ${k}, whole gives ${key}`);
  }
  return whole;
}

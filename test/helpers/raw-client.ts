// A test client over a raw socket: writes literal bytes, parses responses with its own small parser
// (independent of lib/, so the server is never judged by its own code), records EOF and resets.

import net from 'node:net';
import tls from 'node:tls';

export interface ParsedResponse {
  status: number;
  reason: string;
  version: string;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  rawHead: string;
  body: Buffer;
  trailers: Record<string, string>;
}

export interface ClientOptions {
  /** Start paused: the kernel buffers what arrives until resume(). */
  paused?: boolean;
  /** Keep our side open after the server's FIN (default false: answer EOF with FIN, as real clients do). */
  allowHalfOpen?: boolean;
}

export class RawClient {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  ended = false;
  error: NodeJS.ErrnoException | null = null;
  closed = false;
  /** HEAD requests in order, so their responses are parsed without a body. */
  private readonly noBodyQueue: boolean[] = [];
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, options: ClientOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
      socket.setNoDelay(true);
      const client = new RawClient(socket);
      if (options.paused) socket.pause();
      socket.once('connect', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** Over TLS: resolves once the handshake is done (then pauses when asked, so the handshake is not held up). */
  static connectTls(port: number, tlsOptions: tls.ConnectionOptions, options: ClientOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...tlsOptions, ...({ allowHalfOpen: options.allowHalfOpen ?? false } as tls.ConnectionOptions) });
      socket.setNoDelay(true);
      const client = new RawClient(socket);
      socket.once('secureConnect', () => {
        if (options.paused) socket.pause();
        resolve(client);
      });
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Declares that the next request written is a HEAD (its response has no body). */
  expectNoBody(): void {
    this.noBodyQueue.push(true);
  }

  resume(): void {
    this.socket.resume();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Next complete response; rejects on timeout or when the connection ends first. */
  async response(timeoutMs = 5000): Promise<ParsedResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = tryParse(this.buffer, this.noBodyQueue[0] === true, this.ended);
      if (parsed !== null) {
        this.buffer = this.buffer.subarray(parsed.consumed);
        if (this.noBodyQueue.length > 0) this.noBodyQueue.shift();
        return parsed.response;
      }
      if (this.error !== null) throw this.error;
      if (this.ended) throw new Error(`connection ended with ${this.buffer.length} unparsed bytes: ${JSON.stringify(this.buffer.subarray(0, 200).toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.wait(left))) throw new Error(`timed out waiting for a response; have ${JSON.stringify(this.buffer.subarray(0, 200).toString('latin1'))}`);
    }
  }

  async responses(count: number, timeoutMs = 5000): Promise<ParsedResponse[]> {
    const list: ParsedResponse[] = [];
    for (let i = 0; i < count; i++) list.push(await this.response(timeoutMs));
    return list;
  }

  /** How the connection ended: 'eof' (clean FIN), 'reset' (ECONNRESET/EPIPE) or 'timeout'. */
  async waitEnd(timeoutMs = 5000): Promise<'eof' | 'reset' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.error !== null) return 'reset';
      if (this.ended) return 'eof';
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.wait(left))) return 'timeout';
    }
  }

  /** Resolves true once `text` appears in the unparsed bytes (a head or a chunk still arriving), false after the timeout. */
  async waitForText(text: string, timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffer.toString('latin1').includes(text)) return true;
      const left = deadline - Date.now();
      if (left <= 0 || this.ended || this.error !== null || !(await this.wait(left))) return this.buffer.toString('latin1').includes(text);
    }
  }

  /** Bytes received that were not part of a parsed response. */
  get unparsed(): Buffer {
    return this.buffer;
  }

  destroy(): void {
    this.socket.destroy();
  }

  end(): void {
    this.socket.end();
  }
}

export interface ParseResult {
  response: ParsedResponse;
  consumed: number;
}

/** One complete response at the start of `buf`, or null while incomplete. */
export function tryParse(buf: Buffer, noBody: boolean, ended: boolean): ParseResult | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const rawHead = buf.subarray(0, headEnd).toString('latin1');
  const lines = rawHead.split('\r\n');
  const m = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(lines[0]!);
  if (m === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(m[2]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let pos = headEnd + 4;
  const base = { status, reason: m[3]!, version: m[1]!, headers, rawHead };
  if (status < 200 || status === 204 || status === 304 || noBody) {
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim responses are returned like any other so tests can assert on 100 Continue.
    }
    return { response: { ...base, body: Buffer.alloc(0), trailers: {} }, consumed: pos };
  }
  if (headers['transfer-encoding'] !== undefined) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!, 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      pos = lineEnd + 2;
      if (size === 0) {
        const trailers: Record<string, string> = {};
        for (;;) {
          const end = buf.indexOf('\r\n', pos);
          if (end === -1) return null;
          if (end === pos) {
            return { response: { ...base, body: Buffer.concat(parts), trailers }, consumed: end + 2 };
          }
          const line = buf.subarray(pos, end).toString('latin1');
          const colon = line.indexOf(':');
          trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
          pos = end + 2;
        }
      }
      if (buf.length < pos + size + 2) return null;
      parts.push(buf.subarray(pos, pos + size));
      if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new Error('missing CRLF after chunk');
      pos += size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buf.length < pos + length) return null;
    return { response: { ...base, body: buf.subarray(pos, pos + length), trailers: {} }, consumed: pos + length };
  }
  // Close-delimited (HTTP/1.0 streaming): complete only at EOF.
  if (!ended) return null;
  return { response: { ...base, body: buf.subarray(pos), trailers: {} }, consumed: buf.length };
}

export function get(path: string, extra = '', version = '1.1'): string {
  return `GET ${path} HTTP/${version}\r\nHost: test\r\n${extra}\r\n`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls a condition (bounded) for state that settles asynchronously, such as server stats after a close. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

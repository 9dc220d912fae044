// A deterministic stand-in for a connection's socket and clock: the test decides when bytes
// arrive, when the kernel takes output (drain), when the FIN completes and what time it is, so the
// lifecycle can be driven step by step in process, with no real timers or loopback.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { createServer, type App, type AppOptions } from '../../lib/index.js';
import { tryParse, type ParsedResponse } from './raw-client.js';

export class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  /** Every write the engine made, in order, as it was handed over. */
  readonly writes: Buffer[] = [];
  /** Bytes the engine wrote that the "kernel" has not taken (counted in writableLength). */
  private queued: Buffer[] = [];
  writableLength = 0;
  /** While false, writes stay queued and return false until drain() (a peer that stopped reading). */
  accepting = true;
  paused = false;
  /** The engine called end(): its FIN is queued behind its output. */
  ended = false;
  destroyed = false;
  private unread = Buffer.alloc(0);
  private readonly noBody: boolean[] = [];

  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    if (this.destroyed) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : Buffer.from(data);
    this.writes.push(bytes);
    if (this.accepting) {
      this.unread = Buffer.concat([this.unread, bytes]);
      return true;
    }
    this.queued.push(bytes);
    this.writableLength += bytes.length;
    return false;
  }

  /** The kernel takes `bytes` of the queued output (all by default); 'drain' once nothing is left. */
  drain(bytes = Infinity): void {
    while (this.queued.length > 0 && bytes > 0) {
      const first = this.queued[0]!;
      const n = Math.min(first.length, bytes);
      this.unread = Buffer.concat([this.unread, first.subarray(0, n)]);
      this.writableLength -= n;
      bytes -= n;
      if (n === first.length) this.queued.shift();
      else this.queued[0] = first.subarray(n);
    }
    if (this.queued.length === 0) {
      this.accepting = true;
      this.emit('drain');
      if (this.ended) this.emit('finish');
    }
  }

  setNoDelay(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }

  end(data?: string | Buffer, encoding?: BufferEncoding): this {
    if (data !== undefined) this.write(data, encoding);
    this.ended = true;
    // The FIN leaves once the output before it has.
    if (this.queued.length === 0) process.nextTick(() => this.emit('finish'));
    return this;
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      process.nextTick(() => this.emit('close', false));
    }
    return this;
  }

  /** The peer sends bytes. */
  send(data: string | Buffer): void {
    this.emit('data', typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The peer half-closes (FIN). */
  peerEnd(): void {
    this.emit('end');
  }

  /** Declares that the next request sent is a HEAD (its response has no body). */
  expectNoBody(): void {
    this.noBody.push(true);
  }

  /** Complete responses received so far that were not taken before, in order. */
  responses(): ParsedResponse[] {
    const out: ParsedResponse[] = [];
    for (;;) {
      const parsed = tryParse(this.unread, this.noBody[0] === true, this.destroyed);
      if (parsed === null) return out;
      this.unread = this.unread.subarray(parsed.consumed);
      if (this.noBody.length > 0) this.noBody.shift();
      out.push(parsed.response);
    }
  }

  /** Bytes received that are not (yet) part of a complete response. */
  get pendingText(): string {
    return this.unread.toString('latin1');
  }
}

/** A fake clock a server's connections read their time from; tick() fires what is due. */
export class FakeClock {
  now = 1_000_000;
  private readonly app: App;

  constructor(app: App) {
    this.app = app;
    app.sweeper.clock = () => this.now;
    app.sweeper.runDue();
  }

  /** Moves time on and fires every deadline due, then lets the turn's deferred work run. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    this.app.sweeper.runDue();
    await settle();
  }
}

/** Lets process.nextTick and setImmediate work queued by the engine run (flushes, deferred closes). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** An app with a fake clock, and a way to open fake connections to it. */
export function fakeApp(options: AppOptions, setup: (app: App) => void): { app: App; clock: FakeClock; connect(): FakeSocket } {
  const app = createServer(options);
  setup(app);
  const clock = new FakeClock(app);
  return {
    app,
    clock,
    connect(): FakeSocket {
      const socket = new FakeSocket();
      app.accept(socket as unknown as Socket);
      return socket;
    },
  };
}

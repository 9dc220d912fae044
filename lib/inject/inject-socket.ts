// The in-memory socket inject() hands to the engine: it takes what the engine writes as a kernel
// would (highWaterMark, 'drain', half-close), and delivers the client's bytes in socket-sized reads.

import { EventEmitter } from 'node:events';

/** net.Socket's default writableHighWaterMark. */
const HIGH_WATER_MARK = 16_384;

/** Bytes handed to the engine per 'data' event, like a socket read of a large request. */
const READ_SIZE = 65_536;

/**
 * An in-memory socket: what the engine writes is kept for the client, what the client sends is
 * delivered as 'data' while the engine is not paused. The kernel "takes" every write at once.
 */
export class InjectSocket extends EventEmitter {
  remoteAddress: string;
  remotePort = 0;
  readonly remoteFamily = 'IPv4';
  /** Bytes written in this turn: the "kernel" takes them all on the next tick, then 'drain' if a write said false. */
  writableLength = 0;
  private needDrain = false;
  private drainScheduled = false;
  destroyed = false;
  /** Output from the engine, not yet consumed by the client. */
  output: Buffer[] = [];
  outputBytes = 0;
  serverEnded = false;
  clientEnded = false;
  private paused = false;
  private readonly input: Buffer[] = [];
  private clientEndPending = false;
  private delivering = false;
  private finished = false;
  private closeEmitted = false;
  /** Called after every write and at the server's FIN or destroy. */
  onOutput: (() => void) | null = null;

  constructor(remoteAddress: string) {
    super();
    this.remoteAddress = remoteAddress;
  }

  // --- the engine's side ---

  write(data: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (this.destroyed || this.serverEnded) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // A copy: the engine may reuse its buffers once a write returns.
    this.output.push(Buffer.from(bytes));
    this.outputBytes += bytes.length;
    this.writableLength += bytes.length;
    const callback = typeof encoding === 'function' ? encoding : cb;
    if (callback !== undefined) process.nextTick(callback);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      process.nextTick(() => this.drain());
    }
    this.onOutput?.();
    // What a net.Socket answers past its highWaterMark: the engine's slicing and drain path run as over TCP.
    if (this.writableLength >= HIGH_WATER_MARK) this.needDrain = true;
    return !this.needDrain;
  }

  private drain(): void {
    this.drainScheduled = false;
    this.writableLength = 0;
    if (this.needDrain && !this.destroyed) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  end(data?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void)): this {
    if (data !== undefined && typeof data !== 'function') this.write(data, typeof encoding === 'string' ? encoding : undefined);
    if (this.serverEnded || this.destroyed) return this;
    this.serverEnded = true;
    process.nextTick(() => {
      this.finished = true;
      this.emit('finish');
      this.onOutput?.();
      this.maybeClose();
    });
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.onOutput?.();
    process.nextTick(() => this.emitClose());
    return this;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      this.scheduleDelivery();
    }
    return this;
  }

  // --- the client's side ---

  /** The client sends bytes; delivered in reads of at most READ_SIZE while the engine reads. */
  send(data: Buffer): void {
    for (let at = 0; at < data.length; at += READ_SIZE) this.input.push(data.subarray(at, at + READ_SIZE));
    this.scheduleDelivery();
  }

  /** The client half-closes once everything it sent was read. */
  clientEnd(): void {
    if (this.clientEnded || this.clientEndPending) return;
    this.clientEndPending = true;
    this.scheduleDelivery();
  }

  /** Takes the engine's output so far. */
  takeOutput(): Buffer {
    const all = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output, this.outputBytes);
    this.output = [];
    this.outputBytes = 0;
    return all;
  }

  private scheduleDelivery(): void {
    if (this.delivering) return;
    this.delivering = true;
    // Delivered on a later turn, as a socket's reads are: never inside the caller's own stack.
    setImmediate(() => {
      this.delivering = false;
      this.deliver();
    });
  }

  private deliver(): void {
    while (!this.paused && !this.destroyed && this.input.length > 0) {
      this.emit('data', this.input.shift()!);
    }
    if (this.input.length > 0 || this.paused || this.destroyed) return;
    if (this.clientEndPending && !this.clientEnded) {
      this.clientEndPending = false;
      this.clientEnded = true;
      this.emit('end');
      this.maybeClose();
    }
  }

  private maybeClose(): void {
    // A socket closes once both sides have ended and the server's FIN is out (allowHalfOpen).
    if (this.finished && this.clientEnded) this.destroy();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', false);
    this.onOutput?.();
  }

  get closed(): boolean {
    return this.closeEmitted;
  }
}

// The socket's output side: what one read batch produced leaves in one write (one string for whole
// text responses, else one buffer or a corked writev), large buffers leave in slices so a slow
// reader's progress stays visible, and the bytes still owed are counted for backpressure.

import type { Socket } from 'node:net';
import type { LifecycleStats } from './lifecycle-stats.js';

/** Copying small buffers into one beats a writev of many (one syscall, no per-chunk bookkeeping). */
const CONCAT_LIMIT = 65_536;
/**
 * The largest single socket write. Node lowers writableLength only when a whole write request
 * completes, so an 8 MiB buffer written at once shows no progress until its last byte is taken:
 * in slices, each one taken is progress. At the default 60 s send timeout this asks a reader for
 * at least 1 KiB/s; a slice is the same 64 KiB as the queued-output bound.
 */
export const WRITE_SLICE = 65_536;

export class OutputWriter {
  /** Bytes queued here for the next write (`out` and `text`), not yet handed to the socket. */
  queuedBytes = 0;
  /** The socket refused more (write returned false): wait for 'drain'. */
  backedUp = false;
  /** When output last moved (a drain, a shrinking socket queue); the send timer runs from here. */
  lastProgressAt = 0;
  private readonly socket: Socket;
  private readonly stats: LifecycleStats;
  private out: Buffer[] = [];
  /**
   * Whole responses with an ASCII head and a string body, queued after everything in `out`: they
   * leave as one string write, which the socket encodes without an intermediate Buffer per response.
   */
  private text = '';
  /** Every character of `text` is ASCII: it is written as latin1, a plain copy of V8's one-byte string. */
  private textAscii = true;
  /** The rest of a sliced buffer and everything queued after it, written as the socket drains. */
  private held: Buffer[] | null = null;
  private heldBytes = 0;
  private lastWritable = 0;
  private roomWaiters: Array<() => void> | null = null;

  constructor(socket: Socket, stats: LifecycleStats) {
    this.socket = socket;
    this.stats = stats;
  }

  /** Output owed to this socket that the kernel has not taken yet. */
  pendingBytes(): number {
    return this.queuedBytes + this.heldBytes + this.socket.writableLength;
  }

  hasQueued(): boolean {
    return this.out.length !== 0 || this.text !== '';
  }

  /** A whole text response; `bytes` is its UTF-8 length, equal to its length when all ASCII. */
  pushText(text: string, bytes: number): void {
    this.text += text;
    if (bytes !== text.length) this.textAscii = false;
    this.queuedBytes += bytes;
  }

  push(data: Buffer): void {
    this.spillText();
    this.out.push(data);
    this.queuedBytes += data.length;
  }

  pushAll(list: readonly Buffer[]): void {
    this.spillText();
    for (let i = 0; i < list.length; i++) {
      this.out.push(list[i]!);
      this.queuedBytes += list[i]!.length;
    }
  }

  /** Text goes behind what `out` holds: a buffer queued after it must first turn it into bytes. */
  private spillText(): void {
    if (this.text !== '') {
      this.out.push(Buffer.from(this.text, this.textAscii ? 'latin1' : 'utf8'));
      this.text = '';
      this.textAscii = true;
    }
  }

  /** Hands everything queued to the socket in one write. Returns true when it just became backed up. */
  flush(now: number): boolean {
    const out = this.out;
    const text = this.text;
    if (out.length === 0 && text === '') return false;
    if (this.held !== null) {
      // Order: everything waits behind the rest of the sliced buffer.
      this.spillText();
      for (const data of this.out) this.held.push(data);
      this.heldBytes += this.queuedBytes;
      this.out = [];
      this.queuedBytes = 0;
      return false;
    }
    const socket = this.socket;
    this.stats.socketWrites++;
    let ok: boolean;
    const encoding = this.textAscii ? 'latin1' : 'utf8';
    if (text !== '') {
      this.text = '';
      this.textAscii = true;
      if (out.length > 0) out.push(Buffer.from(text, encoding));
    }
    if (out.length === 0) {
      ok = socket.write(text, encoding);
    } else if (out.length === 1 && out[0]!.length <= WRITE_SLICE) {
      ok = socket.write(out[0]!);
    } else if (this.queuedBytes <= CONCAT_LIMIT) {
      ok = socket.write(Buffer.concat(out, this.queuedBytes));
    } else {
      ok = this.writeList(out);
    }
    this.out = [];
    this.queuedBytes = 0;
    const queued = socket.writableLength + this.heldBytes;
    if (queued > this.stats.peakQueuedOutput) this.stats.peakQueuedOutput = queued;
    if (!ok && !this.backedUp) {
      this.backedUp = true;
      this.lastProgressAt = now;
      this.lastWritable = socket.writableLength;
      return true;
    }
    return false;
  }

  /** One corked writev; a buffer over the slice size is cut there and the rest held for 'drain'. */
  private writeList(list: Buffer[]): boolean {
    const socket = this.socket;
    let ok = true;
    socket.cork();
    for (let i = 0; i < list.length; i++) {
      const data = list[i]!;
      if (data.length > WRITE_SLICE) {
        ok = socket.write(data.subarray(0, WRITE_SLICE));
        this.hold(data.subarray(WRITE_SLICE), list, i + 1);
        break;
      }
      ok = socket.write(data);
    }
    socket.uncork();
    return ok;
  }

  private hold(rest: Buffer, list: Buffer[], from: number): void {
    const held = [rest];
    let bytes = rest.length;
    for (let i = from; i < list.length; i++) {
      held.push(list[i]!);
      bytes += list[i]!.length;
    }
    this.held = held;
    this.heldBytes = bytes;
  }

  /** The socket took everything it had: output moved. Writes held slices until the socket is full again. */
  onDrain(now: number): void {
    this.backedUp = false;
    this.lastProgressAt = now;
    for (let held = this.held; held !== null; held = this.held) {
      const data = held[0]!;
      let slice = data;
      if (data.length > WRITE_SLICE) {
        slice = data.subarray(0, WRITE_SLICE);
        held[0] = data.subarray(WRITE_SLICE);
      } else {
        held.shift();
        if (held.length === 0) this.held = null;
      }
      this.heldBytes -= slice.length;
      this.stats.socketWrites++;
      if (!this.socket.write(slice)) {
        this.backedUp = true;
        this.lastWritable = this.socket.writableLength;
        return;
      }
    }
  }

  /**
   * The send timer is due: true when the peer took output since the last look (a shorter socket
   * queue), which restarts the timer as nginx's send_timeout does between two writes.
   */
  madeProgress(now: number): boolean {
    const writable = this.socket.writableLength;
    if (writable < this.lastWritable) {
      this.lastWritable = writable;
      this.lastProgressAt = now;
      return true;
    }
    return false;
  }

  /** Before the FIN: the send timer restarts for the last output. */
  startFinalFlush(now: number): void {
    this.lastProgressAt = now;
    this.lastWritable = this.socket.writableLength;
  }

  /** True while bytes wait in user space for 'drain' (a sliced buffer's rest). */
  holding(): boolean {
    return this.held !== null;
  }

  /** Resolves once output owed is back under `limit` (`owed` counts what else is queued, such as parked output). */
  waitForRoom(owed: number, limit: number): Promise<void> {
    if (owed <= limit) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  /** Wakes those waiting for room once `owed` is under `limit`, or all of them when the connection ends. */
  releaseWaiters(owed: number, limit: number): void {
    const waiters = this.roomWaiters;
    if (waiters === null || owed > limit) return;
    this.roomWaiters = null;
    for (const resolve of waiters) resolve();
  }

  hasWaiters(): boolean {
    return this.roomWaiters !== null;
  }

  discard(): void {
    this.out = [];
    this.text = '';
    this.textAscii = true;
    this.queuedBytes = 0;
    this.held = null;
    this.heldBytes = 0;
  }
}

// The response handlers see: the engine's response plus send() for every body type, json() and
// a content type default for each.

import { Readable } from 'node:stream';
import { OutgoingResponse } from '../connection/outgoing-response.js';

export type Body = string | Buffer | Uint8Array | Readable | AsyncIterable<unknown> | object | null | undefined;

export class Response extends OutgoingResponse {
  type(contentType: string): this {
    return this.setHeader('Content-Type', contentType);
  }

  json(value: unknown): void {
    if (!this.hasHeader('Content-Type')) this.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.end(JSON.stringify(value));
  }

  /** string → text/plain, bytes → octet-stream, stream or async iterable → streamed, other objects → JSON. */
  send(body?: Body): void | Promise<void> {
    if (body === undefined || body === null) {
      this.end();
      return;
    }
    if (typeof body === 'string') {
      if (!this.hasHeader('Content-Type')) this.setHeader('Content-Type', 'text/plain; charset=utf-8');
      this.end(body);
      return;
    }
    if (body instanceof Uint8Array) {
      if (!this.hasHeader('Content-Type')) this.setHeader('Content-Type', 'application/octet-stream');
      this.end(body);
      return;
    }
    if (body instanceof Readable || isAsyncIterable(body)) {
      if (!this.hasHeader('Content-Type')) this.setHeader('Content-Type', 'application/octet-stream');
      return this.stream(body as AsyncIterable<unknown>);
    }
    this.json(body);
  }

  /** Streams with backpressure: waits for the connection whenever its output bound is reached. */
  async stream(source: AsyncIterable<unknown>): Promise<void> {
    try {
      for await (const chunk of source) {
        if (this._preempted) break;
        const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : String(chunk);
        if (!this.write(data)) await this.drained();
      }
    } catch (err) {
      if (source instanceof Readable) source.destroy();
      throw err;
    }
    if (!this.finished) this.end();
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

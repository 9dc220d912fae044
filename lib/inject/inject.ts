// In-process requests: an in-memory socket handed to the same accept path as a TCP socket, so the
// real parser, connection lifecycle, hooks and dispatcher run with no port. Owns the two ways a
// client drives that socket: whole responses (inject, injectRaw) and a streamed one (injectStream).

import type { Socket } from 'node:net';
import { UsageError } from '../http1/protocol-error.js';
import { InjectSocket } from './inject-socket.js';
import { parseResponse, type InjectResponse, type Parsed } from './response-parser.js';

export { requestBytes, type InjectOptions } from './request-bytes.js';
export type { InjectResponse } from './response-parser.js';

export interface InjectRawOptions {
  remoteAddress?: string;
  /**
   * Complete responses to wait for before the client ends its side (FIN); default 1. The result
   * also ends when the server closes the connection first.
   */
  responses?: number;
  /** Send the FIN right after the bytes instead of after the responses (a client that half-closes). */
  endAfterWrite?: boolean;
}

export interface InjectRawResult {
  /** Everything the server wrote, in order. */
  raw: Buffer;
  /** The complete responses in `raw`, in order (HEAD requests' responses are read as having no body only when parsed by inject()). */
  responses: InjectResponse[];
  /** True when the server closed the connection before the client ended its side. */
  closedByServer: boolean;
}

/** The engine side of a server that an in-memory socket is handed to. */
export interface InjectTarget {
  accept(socket: Socket): void;
}

/**
 * Sends `bytes` on a new in-memory connection and collects what the server writes until
 * `responses` complete responses arrived (then the client ends its side) or the server closed the
 * connection; resolves once the connection is gone, so nothing of it outlives the call.
 */
export function injectBytes(target: InjectTarget, bytes: Buffer, options: InjectRawOptions & { noBody?: boolean }): Promise<InjectRawResult> {
  const wanted = options.responses ?? 1;
  const socket = new InjectSocket(options.remoteAddress ?? '127.0.0.1');
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let all: Buffer[] = [];
    let parsedUpTo = 0;
    const responses: InjectResponse[] = [];
    let closedByServer = false;
    let settled = false;
    socket.onOutput = () => {
      if (settled) return;
      if (socket.outputBytes > 0) {
        const chunk = socket.takeOutput();
        all.push(chunk);
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      }
      const serverDone = socket.serverEnded || socket.destroyed;
      try {
        for (;;) {
          const parsed = parseResponse(received.subarray(parsedUpTo), options.noBody === true && responses.length === 0, serverDone);
          if (parsed === null || parsed.consumed === 0) break;
          responses.push(parsed.response);
          parsedUpTo += parsed.consumed;
        }
      } catch (err) {
        settled = true;
        socket.destroy();
        reject(err);
        return;
      }
      if (serverDone && !socket.clientEnded) closedByServer = true;
      // A response that says Connection: close is followed by the server's FIN: wait for it.
      const last = responses[responses.length - 1];
      const closing = last !== undefined && /\bclose\b/i.test(String(last.headers.connection ?? ''));
      if ((responses.length >= wanted && !closing) || serverDone) socket.clientEnd();
      if (socket.closed) {
        settled = true;
        resolve({ raw: Buffer.concat(all), responses, closedByServer });
        all = [];
      }
    };
    try {
      target.accept(socket as unknown as Socket);
    } catch (err) {
      reject(err);
      return;
    }
    socket.send(bytes);
    if (options.endAfterWrite === true) socket.clientEnd();
  });
}

/** A response read as it streams (server-sent events, long polls): the head, then the body as it comes. */
export interface InjectStream {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  /** Body bytes as they arrive, chunked framing removed; ends with the response. */
  body: AsyncIterableIterator<Buffer>;
  /** The client goes away (a reset, as a closed tab): resolves once the connection is gone. */
  close(): Promise<void>;
}

/**
 * Sends one request and resolves as soon as the response head has arrived; the body is then read
 * as the server writes it. The connection is closed when the response ends or close() is called.
 */
export function injectStreaming(target: InjectTarget, bytes: Buffer, remoteAddress: string | undefined, noBody: boolean): Promise<InjectStream> {
  const socket = new InjectSocket(remoteAddress ?? '127.0.0.1');
  const pieces: Buffer[] = [];
  let wake: (() => void) | null = null;
  let bodyDone = false;
  let pending: Buffer = Buffer.alloc(0);
  let head: Omit<InjectStream, 'body' | 'close'> | null = null;
  let framing: 'chunked' | 'length' | 'close' | 'none' = 'none';
  let remaining = 0;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const finishBody = (): void => {
    if (bodyDone) return;
    bodyDone = true;
    socket.clientEnd();
    notify();
  };
  const decode = (serverDone: boolean): void => {
    if (framing === 'length') {
      const n = Math.min(remaining, pending.length);
      if (n > 0) pieces.push(pending.subarray(0, n));
      remaining -= n;
      pending = pending.subarray(n);
      if (remaining === 0) finishBody();
    } else if (framing === 'chunked') {
      for (;;) {
        const lineEnd = pending.indexOf('\r\n', 0, 'latin1');
        if (lineEnd === -1) break;
        const size = parseInt(pending.toString('latin1', 0, lineEnd), 16);
        if (size === 0) {
          finishBody();
          break;
        }
        if (pending.length < lineEnd + 2 + size + 2) break;
        pieces.push(pending.subarray(lineEnd + 2, lineEnd + 2 + size));
        pending = pending.subarray(lineEnd + 2 + size + 2);
      }
    } else if (framing === 'close') {
      if (pending.length > 0) pieces.push(pending);
      pending = Buffer.alloc(0);
    } else {
      finishBody();
    }
    if (serverDone) finishBody();
    notify();
  };
  return new Promise((resolve, reject) => {
    socket.onOutput = () => {
      if (socket.outputBytes > 0) {
        const chunk = socket.takeOutput();
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      }
      const serverDone = socket.serverEnded || socket.destroyed;
      while (head === null) {
        const headEnd = pending.indexOf('\r\n\r\n', 0, 'latin1');
        if (headEnd === -1) {
          if (serverDone) {
            finishBody();
            reject(new UsageError('ERR_INJECT_NO_RESPONSE', 'the connection closed without a response head'));
          }
          return;
        }
        let parsed: Parsed | null;
        try {
          // The head alone, parsed as a response without a body, is the head of this response.
          parsed = parseResponse(Buffer.concat([pending.subarray(0, headEnd + 4)]), true, false);
        } catch (err) {
          socket.destroy();
          reject(err);
          return;
        }
        pending = pending.subarray(headEnd + 4);
        if (parsed === null) continue; // an interim (1xx) response was skipped: the next head follows
        const r = parsed.response;
        head = { statusCode: r.statusCode, statusMessage: r.statusMessage, headers: r.headers };
        const length = r.headers['content-length'];
        if (noBody || r.statusCode === 204 || r.statusCode === 304) framing = 'none';
        else if (/chunked/i.test(String(r.headers['transfer-encoding'] ?? ''))) framing = 'chunked';
        else if (length !== undefined) {
          framing = 'length';
          remaining = Number(Array.isArray(length) ? length[0] : length);
        } else framing = 'close';
        resolve({
          ...head,
          body: bodyIterator(),
          close: () => {
            socket.destroy();
            return closed;
          },
        });
      }
      decode(serverDone);
    };
    try {
      target.accept(socket as unknown as Socket);
    } catch (err) {
      reject(err);
      return;
    }
    socket.send(bytes);
  });

  async function* bodyIterator(): AsyncIterableIterator<Buffer> {
    for (;;) {
      const piece = pieces.shift();
      if (piece !== undefined) {
        yield piece;
        continue;
      }
      if (bodyDone) {
        await closed;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
}

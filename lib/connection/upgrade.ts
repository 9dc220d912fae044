// The hand-over of a socket to another protocol after an Upgrade request (RFC 9110 7.8): when a
// response may take it, and what its handler receives.

import type { Socket } from 'node:net';
import { UsageError } from '../http1/protocol-error.js';
import { HttpError } from './http-error.js';
import type { OutgoingResponse } from './outgoing-response.js';

/** What a handler gets when it takes a connection over after an Upgrade request. */
export interface TakenSocket {
  socket: Socket;
  /** Bytes the client sent after the request head, already read: the start of the new protocol. */
  head: Buffer;
}

/** A handler's request for the socket: granted once every earlier response is queued on it. */
export class UpgradeHandOver {
  /** The response whose handler asked for the socket: it has answered, so no handler timeout applies to it. */
  response: OutgoingResponse | null = null;
  private resolve: ((taken: TakenSocket) => void) | null = null;
  private reject: ((err: Error) => void) | null = null;

  request(response: OutgoingResponse, open: boolean): Promise<TakenSocket> {
    const refusal = upgradeRefusal(response, this.response !== null, open);
    if (refusal !== null) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      this.response = response;
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The socket can go: `response` is the oldest and no body is being read. Inside a read batch the
   * bytes after the head are not held yet, so the hand-over waits for the batch's end. */
  due(oldest: OutgoingResponse | null, readingBody: boolean, inBatch: boolean): boolean {
    return this.response !== null && this.response === oldest && !readingBody && !inBatch;
  }

  /** Hands the socket over with the bytes already read after the head. */
  grant(socket: Socket, head: Buffer): OutgoingResponse {
    const response = this.response!;
    const resolve = this.resolve!;
    this.clear();
    response.headersSent = response.finished = response._complete = true;
    resolve({ socket, head });
    return response;
  }

  /**
   * The connection closes first: a waiting handler is refused with `error`, or ERR_CLIENT_GONE. That
   * one is built only when a handler waits: every close comes here, and an Error captures a stack.
   */
  fail(error: Error | null): void {
    const reject = this.reject;
    if (reject === null) return;
    this.clear();
    reject(error ?? new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade'));
  }

  private clear(): void {
    this.response = this.resolve = this.reject = null;
  }
}

/** Why a response cannot take its socket over, or null when it can. */
function upgradeRefusal(response: OutgoingResponse, anotherWaiting: boolean, open: boolean): Error | null {
  if (response.request === null || response.request.head.upgrade === null) {
    return new UsageError('ERR_NOT_AN_UPGRADE', 'only a request with Connection: upgrade and an Upgrade header can take the socket over');
  }
  if (response.headersSent || response._complete || anotherWaiting) {
    return new UsageError('ERR_HEADERS_SENT', 'the response was already started; the socket cannot be taken over');
  }
  return open ? null : new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade');
}

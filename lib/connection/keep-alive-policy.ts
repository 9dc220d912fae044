// Whether a connection carries another request, decided in one place: pure functions from the
// facts at one moment (a request head, a response head, a response's end, an empty pipeline, a
// deadline) to reuse, close after this response, or close now — always with the reason.

import type { CloseReason } from './lifecycle-stats.js';

export const REUSE = 0;
/** Say `Connection: close` on this response, read no further request, close once it is sent. */
export const CLOSE_AFTER_RESPONSE = 1;
/** Nothing is in flight that a close would cut: start the lingering close now. */
export const CLOSE_NOW = 2;
export type Verdict = typeof REUSE | typeof CLOSE_AFTER_RESPONSE | typeof CLOSE_NOW;

export interface Decision {
  readonly verdict: Verdict;
  readonly reason: CloseReason | null;
}

/** Decisions are shared constants: deciding allocates nothing on the request path. */
export const KEEP: Decision = Object.freeze({ verdict: REUSE, reason: null });
const afterCache = new Map<CloseReason, Decision>();
const nowCache = new Map<CloseReason, Decision>();
export function closeAfterResponse(reason: CloseReason): Decision {
  let d = afterCache.get(reason);
  if (d === undefined) afterCache.set(reason, (d = Object.freeze({ verdict: CLOSE_AFTER_RESPONSE, reason })));
  return d;
}
export function closeNow(reason: CloseReason): Decision {
  let d = nowCache.get(reason);
  if (d === undefined) nowCache.set(reason, (d = Object.freeze({ verdict: CLOSE_NOW, reason })));
  return d;
}

export interface PolicyLimits {
  readonly maxRequestsPerSocket: number;
  readonly maxConnectionAge: number;
  readonly maxDiscardBody: number;
}

/** What the policy reads of a connection; Connection implements it with plain fields. */
export interface ConnectionFacts {
  readonly acceptedAt: number;
  /** A reason already taken to close once the work in flight is done: the peer's FIN, a body error, a preempted answer. */
  readonly pendingClose: CloseReason | null;
}

/** What the policy reads of a request head. */
export interface HeadFacts {
  readonly method: string;
  readonly keepAlive: boolean;
  readonly upgrade: string | null;
}

/** What the policy reads of a request whose response is being decided. */
export interface RequestFacts {
  readonly head: { readonly expectContinue: boolean; readonly chunked: boolean; readonly contentLength: number };
  readonly _ended: boolean;
  readonly _received: number;
  readonly _demanded: boolean;
}

/** What the policy reads of a response. */
export interface ResponseFacts {
  /** Already decided (a last request, a preempted answer). */
  readonly _closeReason: CloseReason | null;
  /** The handler set `Connection: close`. */
  readonly _userClose: boolean;
  readonly _continueSent: boolean;
}

/**
 * A request head was parsed. Its answer is the connection's last when the request asks for it,
 * leaves HTTP (an Upgrade not taken), is one the engine refuses (CONNECT), uses up the request
 * budget, or arrives during shutdown — each answered with `Connection: close`.
 */
export function atRequestHead(head: HeadFacts, sequence: number, shuttingDown: boolean, o: PolicyLimits): Decision {
  // RFC 9110 7.8: after an Upgrade request the bytes may be another protocol; if the handler answers
  // normally instead of taking the socket, nothing after the head can be parsed as HTTP.
  if (head.upgrade !== null) return closeAfterResponse('upgrade-declined');
  // An origin server is not a tunnel (RFC 9110 9.3.6): the engine answers 501.
  if (head.method === 'CONNECT') return closeAfterResponse('connect-refused');
  if (!head.keepAlive) return closeAfterResponse('client-connection-close');
  if (o.maxRequestsPerSocket > 0 && sequence >= o.maxRequestsPerSocket) return closeAfterResponse('max-requests');
  if (shuttingDown) return closeAfterResponse('shutdown-after-response');
  return KEEP;
}

/**
 * A response head is being written: keep-alive with the advertised limits, or `Connection: close`.
 * `isTail`: no later request is in flight, so closing after it cuts nothing. `bodyBeingRead`: the
 * request's body is still arriving. `closeDelimited`: a streamed body with no framing for the
 * request's HTTP version, which only the close can end (RFC 9112 6.3 item 8).
 */
export function atResponseHead(r: ResponseFacts, request: RequestFacts | null, bodyBeingRead: boolean, isTail: boolean,
  closeDelimited: boolean, c: ConnectionFacts, shuttingDown: boolean, now: number, o: PolicyLimits): Decision {
  if (r._closeReason !== null) return closeAfterResponse(r._closeReason);
  if (r._userClose) return closeAfterResponse('response-connection-close');
  if (closeDelimited) return closeAfterResponse('close-delimited');
  if (isTail) {
    if (c.pendingClose !== null) return closeAfterResponse(c.pendingClose);
    if (shuttingDown) return closeAfterResponse('shutdown-after-response');
    // nginx keepalive_time: rebalances long-lived connections, at a response boundary.
    if (o.maxConnectionAge > 0 && now - c.acceptedAt >= o.maxConnectionAge) return closeAfterResponse('max-age');
  }
  if (request !== null && bodyBeingRead && !request._ended) {
    // RFC 9110 10.1.1: a client that was not sent 100 Continue may never send the body it announced.
    if (request.head.expectContinue && !r._continueSent && request._received === 0) return closeAfterResponse('body-not-read');
    if (!request._demanded && unreadBody(request) > o.maxDiscardBody) return closeAfterResponse('body-not-read');
  }
  return KEEP;
}

/**
 * A response is complete while its request's body is still arriving and nobody reads it: the rest
 * is discarded as it comes, unless so much is left that closing is cheaper than reading it.
 */
export function atResponseEnd(request: RequestFacts, o: PolicyLimits): Decision {
  return unreadBody(request) > o.maxDiscardBody ? closeAfterResponse('body-not-read') : KEEP;
}

/**
 * Nothing is in flight: close now if a reason is pending, or, when no request has started arriving
 * (`inputWaiting` false), if the connection is past its age (nginx keepalive_time); else wait.
 */
export function whenIdle(c: ConnectionFacts, inputWaiting: boolean, now: number, o: PolicyLimits): Decision {
  if (c.pendingClose !== null) return closeNow(c.pendingClose);
  if (!inputWaiting && o.maxConnectionAge > 0 && now - c.acceptedAt >= o.maxConnectionAge) return closeNow('max-age');
  return KEEP;
}

/**
 * The peer sent its FIN. A half-closed client may still read, so responses owed are sent first;
 * with none owed the connection closes now. A reason taken earlier stays the reason. (A body cut
 * short by the FIN is that request's error, 400, decided where the body is read.)
 */
export function atPeerEnd(c: ConnectionFacts, responsesOwed: boolean): Decision {
  const reason = c.pendingClose ?? 'client-close';
  return responsesOwed ? closeAfterResponse(reason) : closeNow(reason);
}

/** Bytes of request body still to come; a chunked body's rest is unknown, so unbounded. */
function unreadBody(request: RequestFacts): number {
  return request.head.chunked ? Infinity : request.head.contentLength - request._received;
}

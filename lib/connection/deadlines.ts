// The one deadline an open connection waits for, with its cause: computed from its clocks and
// state, so the sweeper fires exactly the timer that is due, never one that merely shares it. (The
// close path keeps its own: lingering-close.ts.)

import { OPEN, type Phase } from './connection-host.js';
import type { ResolvedOptions } from './options.js';
import type { OutgoingResponse } from './outgoing-response.js';

export const NO_DEADLINE = 0;
/** An accepted socket never spoke (firstByteTimeout). */
export const FIRST_BYTE = 1;
/** Keep-alive idle time between requests (keepAliveTimeout). */
export const IDLE = 2;
/** Shutdown reaps an idle connection once the reuse guard has passed (idleReapGuard). */
export const SHUTDOWN_IDLE = 3;
/** A request head did not complete in time (headersTimeout, or requestTimeout when shorter). */
export const HEAD = 4;
/** A whole request did not arrive in time (requestTimeout). */
export const REQUEST = 5;
/** A body stalled between two reads (bodyTimeout). */
export const BODY = 6;
/** A handler did not start its response in time (handlerTimeout or the route's timeout). */
export const HANDLER = 7;
/** Output made no progress (sendTimeout). */
export const SEND = 8;
export type DeadlineCause = typeof NO_DEADLINE | typeof FIRST_BYTE | typeof IDLE | typeof SHUTDOWN_IDLE | typeof HEAD
  | typeof REQUEST | typeof BODY | typeof HANDLER | typeof SEND;

/** What the deadline is computed from; Connection implements it, and receives the result. */
export interface DeadlineFacts {
  readonly state: Phase;
  readonly acceptedAt: number;
  readonly idleSince: number;
  /** An idle close is decided and waits for the poll phase: no idle timer meanwhile. */
  readonly idleCloseDecided: boolean;
  readonly input: {
    readonly bodyRequest: object | null;
    readonly lastBodyReadAt: number;
    readonly requestStartedAt: number;
    readonly headStartedAt: number;
    readonly pending: Buffer | null;
    readonly receivedAny: boolean;
  };
  readonly output: { readonly backedUp: boolean; readonly lastProgressAt: number };
  readonly pipeline: { readonly head: OutgoingResponse | null; firstHandlerDeadline(upgrading: OutgoingResponse | null): number };
  readonly upgrading: OutgoingResponse | null;
  deadline: number;
  deadlineCause: DeadlineCause;
}

export function armDeadline(c: DeadlineFacts, o: ResolvedOptions, shuttingDown: boolean, tickMs: number): void {
  let at = Infinity;
  let cause: DeadlineCause = NO_DEADLINE;
  if (c.state === OPEN) {
    const input = c.input;
    if (c.output.backedUp) {
      at = c.output.lastProgressAt + o.sendTimeout;
      cause = SEND;
    }
    let next = Infinity;
    let nextCause: DeadlineCause = NO_DEADLINE;
    if (input.bodyRequest !== null) {
      next = input.lastBodyReadAt + o.bodyTimeout;
      nextCause = BODY;
      if (input.requestStartedAt + o.requestTimeout < next) {
        next = input.requestStartedAt + o.requestTimeout;
        nextCause = REQUEST;
      }
    } else if (input.headStartedAt > 0) {
      next = input.headStartedAt + Math.min(o.headersTimeout, o.requestTimeout);
      nextCause = HEAD;
    } else if (c.pipeline.head === null && input.pending === null && !c.idleCloseDecided) {
      if (shuttingDown) {
        next = c.idleSince + o.idleReapGuard;
        nextCause = SHUTDOWN_IDLE;
      } else if (!input.receivedAny) {
        next = c.acceptedAt + o.firstByteTimeout;
        nextCause = FIRST_BYTE;
      } else {
        // idleSince comes from the cached clock, up to one tick old: one tick more means the idle
        // timeout never fires early, which a proxy ordering its own idle timeout below ours relies on.
        next = c.idleSince + o.keepAliveTimeout + tickMs;
        nextCause = IDLE;
      }
    }
    if (next < at) {
      at = next;
      cause = nextCause;
    }
    if (c.pipeline.head !== null) {
      const handler = c.pipeline.firstHandlerDeadline(c.upgrading);
      if (handler < at) {
        at = handler;
        cause = HANDLER;
      }
    }
  }
  c.deadline = at;
  c.deadlineCause = cause;
}

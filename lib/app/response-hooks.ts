// The hooks around a response, whatever answered it: onSend before its head, onResponse once it is
// complete, onError and the error log for every failure, and the plain error answer. With dispatch.ts
// the only code that calls user code; it names the response by shape, as response.ts calls it.

import type { OutgoingResponse } from '../connection/outgoing-response.js';
import { UsageError } from '../http1/protocol-error.js';
import type { Request } from './request.js';
import type { ErrorLog, ErrorPhase } from './error-log.js';

/** A whole body as onSend hooks see and replace it. */
export type SendBody = string | Buffer | Uint8Array | null;

/**
 * The hooks one response runs (the app's, or its group route's): dispatch.ts's Hooks with `Res` its
 * Response. Generic rather than naming Response, so response.ts can hold and run them without this
 * file importing it.
 */
export interface ResponseHooks<Res> {
  readonly onSend: readonly ((req: Request, res: Res, body: SendBody | undefined) => SendBody | void)[];
  readonly onResponse: readonly ((req: Request, res: Res) => void)[];
  readonly onError: readonly ((error: unknown, req: Request, res: Res) => void)[];
  /** null: logErrors was false. */
  readonly log: ErrorLog | null;
}

/**
 * @internal What the runners need of a response: response.ts's Response, named by shape here rather
 * than imported from it, since it calls runSendHooks (the same split as file-response.ts's FileTarget).
 */
export interface HookedResponse extends Pick<OutgoingResponse,
  'statusCode' | 'statusMessage' | 'headersSent' | 'headerList' | '_preempted' | 'status' | 'setHeader' | 'removeHeader' | 'end'> {
  /** Headers the onRequest hooks had set when the handler started; an error answer keeps them. */
  readonly _hookHeaders: string[] | null;
}

/** @internal What runSendHooks returns when a hook failed: the response was answered 500 in its place. */
export const SEND_FAILED: unique symbol = Symbol('onSend failed');

/**
 * @internal Runs the onSend hooks of a response about to send its head; the body they leave, or
 * SEND_FAILED once a failing hook has been reported and a plain 500 sent instead (without running
 * them again).
 */
export function runSendHooks<Res extends HookedResponse>(hooks: ResponseHooks<Res>, req: Request, res: Res, body: SendBody | undefined): SendBody | undefined | typeof SEND_FAILED {
  const list = hooks.onSend;
  for (let i = 0; i < list.length; i++) {
    let result: unknown;
    try {
      result = list[i]!(req, res, body);
      if (isThenable(result)) throw new UsageError('ERR_INVALID_HOOK', 'onSend hooks are synchronous: the head is being written');
      if (result !== undefined && body !== undefined) {
        if (result !== null && typeof result !== 'string' && !(result instanceof Uint8Array)) {
          throw new UsageError('ERR_INVALID_HOOK', `an onSend hook returned ${typeof result}: a replacement body is a string, Buffer, Uint8Array or null`);
        }
        body = result;
      }
    } catch (err) {
      reportError(hooks, req, res, err, 'hook');
      if (res.headersSent || res._preempted) return SEND_FAILED;
      resetResponse(res);
      defaultErrorResponse(res, null);
      return SEND_FAILED;
    }
  }
  return body;
}

/** @internal Runs the onResponse hooks; called by the app when the engine reports a response complete. */
export function runResponseHooks<Res extends HookedResponse>(hooks: ResponseHooks<Res>, req: Request, res: Res): void {
  for (const hook of hooks.onResponse) {
    try {
      hook(req, res);
    } catch (err) {
      reportError(hooks, req, res, err, 'hook');
    }
  }
}

/** @internal Tells the onError hooks and the error log of an error met in `phase`. */
export function reportError<Res extends HookedResponse>(hooks: ResponseHooks<Res>, req: Request, res: Res, err: unknown, phase: ErrorPhase): void {
  for (const hook of hooks.onError) {
    try {
      hook(err, req, res);
    } catch (hookError) {
      // An observer that fails cannot be reported to itself; the log still hears of it.
      logError(hooks, req, res, hookError, 'hook');
    }
  }
  logError(hooks, req, res, err, phase);
}

/** Client errors (4xx answers) are answers, not failures: only 5xx answers and the other phases are logged. */
function logError<Res extends HookedResponse>(hooks: ResponseHooks<Res>, req: Request, res: Res, err: unknown, phase: ErrorPhase): void {
  const log = hooks.log;
  if (log === null) return;
  const statusCode = phase === 'request' ? statusOf(err) : phase === 'timeout' ? 503 : res.statusCode;
  if (phase === 'request' && statusCode < 500) return;
  try {
    log({ error: err, phase, statusCode, method: req.method, url: req.url, httpVersion: req.httpVersion });
  } catch {
    // A log that fails has nowhere to report to; the response goes on regardless.
  }
}

/** @internal Clears a response for an error answer, keeping only the headers the onRequest hooks had set. */
export function resetResponse(res: HookedResponse): void {
  const kept = res._hookHeaders;
  res.headerList.length = 0;
  if (kept !== null) res.headerList.push(...kept);
  res.removeHeader('Content-Length');
  res.statusMessage = undefined;
}

/** @internal The answer when no error handler gave one: the error's status, or 500. */
export function defaultErrorResponse(res: HookedResponse, err: unknown): void {
  const status = statusOf(err);
  res.status(status).setHeader('Content-Type', 'text/plain; charset=utf-8');
  // Only statuses the error chose are explained; a 500 does not leak internals.
  res.end(status === 500 ? 'Internal Server Error\n' : `${(err as Error).message}\n`);
}

/** @internal An error's own statusCode when it is a 4xx or 5xx, else 500. */
export function statusOf(err: unknown): number {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}

/** @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

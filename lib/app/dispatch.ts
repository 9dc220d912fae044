// Routing and the user code that answers: onRequest hooks, route handlers, the error handler and
// fetch handlers (response-hooks.ts runs the hooks around the response). Return values become
// responses; thrown or rejected errors become the error handler's answer (by default 500, or the
// error's statusCode), and nothing a handler does can reach the engine.

import type { Router } from './router.js';
import type { Request } from './request.js';
import type { Body, Response } from './response.js';
import { sendWebResponse, toWebRequest } from './fetch-adapter.js';
import { OriginalResponse } from './fetch-response.js';
import type { ErrorLog, ErrorPhase } from './error-log.js';
import {
  defaultErrorResponse, isThenable, reportError, resetResponse, statusOf, type ResponseHooks, type SendBody,
} from './response-hooks.js';

export { errorLogOf, logToStderr, type ErrorLog, type ErrorLogEntry, type ErrorPhase } from './error-log.js';
export type { SendBody } from './response-hooks.js';

export type Handler<Params = Record<string, string>> = (req: Request<Params>, res: Response) => Body | void | Promise<Body | void>;

/** Runs after routing, before the handler; answering (or returning a body) ends the request there. */
export type OnRequestHook = (req: Request, res: Response) => Body | void | Promise<Body | void>;
/** Runs once the response is complete and queued on the socket: logging and metrics. */
export type OnResponseHook = (req: Request, res: Response) => void;
/** Sees every error of a handler, a hook or a body stream, before the error handler answers. */
export type OnErrorHook = (error: unknown, req: Request, res: Response) => void;
/**
 * Runs once per response just before its head is written, for every answer (handlers, hooks, the
 * error handler, 404s): set headers, or replace a whole body by returning it. `body` is the whole
 * body about to be sent (a returned object already as its JSON text), or undefined for a streamed
 * response, whose head alone is about to go out (its return value is then ignored). Synchronous.
 */
export type OnSendHook = (req: Request, res: Response, body: SendBody | undefined) => SendBody | void;
/**
 * Answers a failed request; before it runs the response is reset to the error's status (500 or its
 * statusCode) with the headers the onRequest hooks had set (the handler's are dropped).
 */
export type ErrorHandler = (error: unknown, req: Request, res: Response) => Body | void | Promise<Body | void>;

export interface RouteOptions {
  /** Request body limit for this route in bytes (413 beyond it). Default: the app's bodyLimit. */
  bodyLimit?: number;
  /**
   * ms from the request being received until the handler must start its response, else a 503 with
   * Connection: close answers in its place. Default: the server's handlerTimeout; 0 = none.
   */
  timeout?: number;
}

export interface Route {
  readonly pattern: string;
  readonly handler: Handler<any>;
  readonly bodyLimit: number;
  /** null: the server's handlerTimeout applies. */
  readonly timeout: number | null;
  /** The app's hooks, or for a route of a group, its group's (the app's and every enclosing group's, in order). */
  readonly hooks: Hooks;
}

export interface Hooks extends ResponseHooks<Response> {
  readonly onRequest: OnRequestHook[];
  readonly onSend: OnSendHook[];
  readonly onResponse: OnResponseHook[];
  readonly onError: OnErrorHook[];
  errorHandler: ErrorHandler | null;
  bodyLimit: number;
  /** null: logErrors was false. */
  log: ErrorLog | null;
}

export function dispatch(router: Router<Route>, appHooks: Hooks, req: Request, res: Response): void {
  const method = req.method;
  const path = req.path;
  let match = router.find(method, path);
  if (match === null && method === 'HEAD') match = router.find('GET', path);
  let route: Route | null = null;
  let hooks = appHooks;
  if (match !== null) {
    route = match.handler;
    hooks = route.hooks;
    req.params = match.params;
    req.route = route.pattern;
    req.bodyLimit = route.bodyLimit;
  } else {
    req.bodyLimit = hooks.bodyLimit;
  }
  if (hooks !== appHooks) res._hooks = hooks;
  if (hooks.onSend.length > 0) res._sendHooks = hooks;
  if (hooks.onRequest.length === 0) runRoute(router, hooks, route, req, res);
  else runHooks(router, hooks, route, req, res, 0);
}

function runHooks(router: Router<Route>, hooks: Hooks, route: Route | null, req: Request, res: Response, from: number): void {
  const list = hooks.onRequest;
  for (let i = from; i < list.length; i++) {
    let result: unknown;
    try {
      result = list[i]!(req, res);
    } catch (err) {
      keepHookHeaders(res);
      fail(hooks, req, res, err);
      return;
    }
    if (isThenable(result)) {
      result.then((value) => {
        if (!answeredByHook(hooks, req, res, value as Body | void)) runHooks(router, hooks, route, req, res, i + 1);
      }, (err: unknown) => {
        keepHookHeaders(res);
        fail(hooks, req, res, err);
      });
      return;
    }
    if (answeredByHook(hooks, req, res, result as Body | void)) return;
  }
  keepHookHeaders(res);
  runRoute(router, hooks, route, req, res);
}

/**
 * Remembers the headers the onRequest hooks set (CORS, a request id, security headers): an error
 * answer starts from them, while headers the handler set before failing are dropped.
 */
function keepHookHeaders(res: Response): void {
  if (res.headerList.length > 0) res._hookHeaders = res.headerList.slice();
}

function answeredByHook(hooks: Hooks, req: Request, res: Response, value: Body | void): boolean {
  if (value !== undefined) {
    respond(hooks, req, res, value);
    return true;
  }
  return res.headersSent || res.finished;
}

function runRoute(router: Router<Route>, hooks: Hooks, route: Route | null, req: Request, res: Response): void {
  if (route === null) {
    notFound(router, req, res);
    return;
  }
  // The route's own handler timeout, kept by the engine with the server's handlerTimeout (one clock,
  // started once the request is received, so a slow upload is never cut by it).
  if (route.timeout !== null) res._routeTimeout = route.timeout;
  let result: unknown;
  try {
    result = route.handler(req, res);
  } catch (err) {
    fail(hooks, req, res, err);
    return;
  }
  if (isThenable(result)) {
    result.then((value) => respond(hooks, req, res, value as Body | void), (err: unknown) => fail(hooks, req, res, err));
  } else {
    respond(hooks, req, res, result as Body | void);
  }
}

/** A returned value is the body unless the handler already answered. undefined leaves the response to the handler. */
function respond(hooks: Hooks, req: Request, res: Response, value: Body | void): void {
  if (value === undefined || res.headersSent || res.finished) return;
  try {
    const sending = res.send(value);
    if (sending !== undefined) sending.catch((err: unknown) => fail(hooks, req, res, err));
  } catch (err) {
    fail(hooks, req, res, err);
  }
}

function notFound(router: Router<Route>, req: Request, res: Response): void {
  const allowed = router.allowed(req.path);
  if (allowed.length === 0) {
    res.status(404).send('Not Found\n');
    return;
  }
  if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
  res.status(405).setHeader('Allow', allowed.join(', ')).send('Method Not Allowed\n');
}

/**
 * Reports an error and clears the response for a new answer; false when no answer is possible:
 * answered by the engine or a timeout, complete, or with its head out (then the connection ends
 * without a clean message boundary, since half a body cannot be repaired). Every case is reported:
 * an error thrown after the response was complete is a bug that would otherwise leave no trace.
 */
function reportAndReset(hooks: Hooks, req: Request, res: Response, err: unknown, phase: ErrorPhase): boolean {
  if (res._preempted || (res.finished && res.headersSent)) {
    if (!echoesAbort(req, res, err)) reportError(hooks, req, res, err, 'after-response');
    return false;
  }
  if (res.headersSent) {
    reportError(hooks, req, res, err, 'stream');
    res.destroy(err instanceof Error ? err : new Error(String(err)));
    return false;
  }
  reportError(hooks, req, res, err, phase);
  resetResponse(res);
  return true;
}

/**
 * A handler failing because the engine already gave up on its request (its timeout, the client
 * gone) only echoes what was reported when that happened: its body read rejects with the reason,
 * or its fetch aborts through req.signal.
 */
function echoesAbort(req: Request, res: Response, err: unknown): boolean {
  if (!res._preempted) return false;
  if (err === req._error && err !== null) return true;
  const reason = req._abortReason;
  if (reason === undefined) return false;
  if (err === reason) return true;
  const e = err as { name?: unknown; cause?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.cause === reason || e.name === 'AbortError');
}

function fail(hooks: Hooks, req: Request, res: Response, err: unknown): void {
  if (!reportAndReset(hooks, req, res, err, 'request')) return;
  res.statusCode = statusOf(err);
  const handler = hooks.errorHandler;
  if (handler === null) {
    defaultErrorResponse(res, err);
    return;
  }
  let result: unknown;
  try {
    result = handler(err, req, res);
  } catch (handlerError) {
    errorHandlerFailed(hooks, req, res, handlerError);
    return;
  }
  if (isThenable(result)) {
    result.then((value) => afterErrorHandler(hooks, req, res, err, value as Body | void),
      (handlerError: unknown) => errorHandlerFailed(hooks, req, res, handlerError));
  } else {
    afterErrorHandler(hooks, req, res, err, result as Body | void);
  }
}

function afterErrorHandler(hooks: Hooks, req: Request, res: Response, err: unknown, value: Body | void): void {
  if (res.headersSent || res.finished || res._preempted) return;
  if (value === undefined) {
    defaultErrorResponse(res, err);
    return;
  }
  try {
    const sending = res.send(value);
    if (sending !== undefined) sending.catch((sendError: unknown) => errorHandlerFailed(hooks, req, res, sendError));
  } catch (sendError) {
    errorHandlerFailed(hooks, req, res, sendError);
  }
}

/** A failing error handler must not loop: report it, then the plain default answer. */
function errorHandlerFailed(hooks: Hooks, req: Request, res: Response, err: unknown): void {
  if (reportAndReset(hooks, req, res, err, 'hook')) defaultErrorResponse(res, null);
}

/** The engine answered 503 for a handler that did not start in time: onError hooks and the log hear of it. */
export function reportHandlerTimeout(hooks: ResponseHooks<Response>, req: Request, res: Response, err: unknown): void {
  reportError(hooks, req, res, err, 'timeout');
}

/** A web-standard handler (a Hono app's fetch): the second argument gives access to linger's own objects. */
export type FetchHandler = (request: globalThis.Request, context: FetchContext) => globalThis.Response | Promise<globalThis.Response>;

export interface FetchContext {
  incoming: Request;
  outgoing: Response;
}

/** Runs a fetch handler for one request: its Response, sent whole or streamed with backpressure, is the answer. */
export function dispatchFetch(handler: FetchHandler, hooks: Hooks, req: Request, res: Response): void {
  req.bodyLimit = hooks.bodyLimit;
  let result: globalThis.Response | Promise<globalThis.Response>;
  try {
    result = handler(toWebRequest(req), { incoming: req, outgoing: res });
  } catch (err) {
    fail(hooks, req, res, err);
    return;
  }
  if (isThenable(result)) {
    result.then((web) => sendFetchResult(hooks, req, res, web), (err: unknown) => fail(hooks, req, res, err));
  } else {
    sendFetchResult(hooks, req, res, result);
  }
}

function sendFetchResult(hooks: Hooks, req: Request, res: Response, web: unknown): void {
  try {
    if (!(web instanceof OriginalResponse)) throw new TypeError('the fetch handler did not return a Response');
    const sending = sendWebResponse(req, res, web);
    if (sending !== undefined) sending.catch((err: unknown) => fail(hooks, req, res, err));
  } catch (err) {
    fail(hooks, req, res, err);
  }
}

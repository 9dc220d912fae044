// The only code that calls user handlers: routing, turning return values into responses, and
// turning thrown or rejected errors into 500 (or the error's statusCode) without touching the engine.

import type { Router } from './router.js';
import type { Request } from './request.js';
import type { Body, Response } from './response.js';

export type Handler = (req: Request, res: Response) => Body | void | Promise<Body | void>;

export function dispatch(router: Router<Handler>, req: Request, res: Response): void {
  const method = req.method;
  let match = router.find(method, req.path);
  if (match === null && method === 'HEAD') match = router.find('GET', req.path);
  if (match === null) {
    notFound(router, req, res);
    return;
  }
  req.params = match.params;
  let result: unknown;
  try {
    result = match.handler(req, res);
  } catch (err) {
    fail(res, err);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
    (result as Promise<Body | void>).then((value) => respond(res, value), (err: unknown) => fail(res, err));
  } else {
    respond(res, result as Body | void);
  }
}

/** A returned value is the body unless the handler already answered. undefined leaves the response to the handler. */
function respond(res: Response, value: Body | void): void {
  if (value === undefined || res.headersSent || res.finished) return;
  try {
    const sending = res.send(value);
    if (sending !== undefined) sending.catch((err: unknown) => fail(res, err));
  } catch (err) {
    fail(res, err);
  }
}

function notFound(router: Router<Handler>, req: Request, res: Response): void {
  const allowed = router.allowed(req.path);
  if (allowed.length === 0) {
    res.status(404).send('Not Found\n');
    return;
  }
  if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
  res.status(405).setHeader('Allow', allowed.join(', ')).send('Method Not Allowed\n');
}

function fail(res: Response, err: unknown): void {
  // Answered by the engine, or already complete: there is nothing left to repair.
  if (res._preempted || (res.finished && res.headersSent)) return;
  if (res.headersSent) {
    // Half a body cannot be repaired: the connection ends without a clean message boundary.
    res.destroy(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  const status = statusOf(err);
  res.headerList.length = 0;
  res.removeHeader('Content-Length');
  res.status(status).setHeader('Content-Type', 'text/plain; charset=utf-8');
  // Only statuses the error chose are explained; a 500 does not leak internals.
  res.end(status === 500 ? 'Internal Server Error\n' : `${(err as Error).message}\n`);
}

function statusOf(err: unknown): number {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}

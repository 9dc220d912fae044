// Sends a fetch handler's web-standard Response on linger's response: a body known whole (string,
// bytes, Blob, form data, JSON) in the same turn with Content-Length and no stream reader; a
// streamed body chunk by chunk with backpressure.

import type { Request } from './request.js';
import type { Response } from './response.js';
import { LazyWebRequest } from './fetch-request.js';
import { effectiveUrl } from './fetch-url.js';
import { LightResponse, UNDICI_STATE, type WholeBody } from './fetch-response.js';
import { ASCII_VALUE, headerValueKind } from '../http1/header-validation.js';

/** Hop-by-hop fields (RFC 9110 7.6.1) are the connection's business; the engine writes its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** The Request a fetch handler receives; nothing but its URL is computed before the handler asks. */
export function toWebRequest(req: Request<unknown>): globalThis.Request {
  return new LazyWebRequest(req, effectiveUrl(req)) as unknown as globalThis.Request;
}

interface UndiciBody {
  stream: ReadableStream<Uint8Array>;
  source: unknown;
  length: number | null;
}

/**
 * Sends a web Response: status, headers (Set-Cookie kept apart), and the body. Returns undefined
 * when the response was sent whole within this call; a promise while a body is still being read.
 */
export function sendWebResponse(req: Request<unknown>, res: Response, web: globalThis.Response): Promise<void> | undefined {
  if (res.finished || res._preempted) {
    if (!web.bodyUsed) void web.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (LightResponse.isLight(web)) {
    const whole = web._wholeBody();
    if (whole !== undefined) {
      res.status(web.status);
      const built = web._builtHeaders();
      if (built !== null) copyHeaders(res, built);
      else copyHeaderInit(res, web._initHeaders(), web._defaultType());
      return sendWhole(res, whole);
    }
  }
  res.status(web.status);
  if (web.statusText !== '') res.statusMessage = web.statusText;
  copyHeaders(res, web.headers);
  const body = UNDICI_STATE === undefined ? undefined : (web as unknown as Record<symbol, { body: UndiciBody | null } | undefined>)[UNDICI_STATE]?.body;
  if (web.body === null) return sendWhole(res, null);
  if (body !== undefined && body !== null && !web.bodyUsed && !body.stream.locked) {
    const source = body.source;
    if (typeof source === 'string' || source instanceof Blob) return sendWhole(res, source);
    // undici's byte stream transfers the buffer it reads, so bytes read through a clone are detached
    // (length 0): then only the stream still holds them.
    if (source instanceof Uint8Array && source.byteLength === body.length) return sendWhole(res, source);
    // A body of known length (FormData's multipart encoding): undici writes it, we take it whole.
    if (body.length !== null) return web.arrayBuffer().then((bytes) => sendWhole(res, bytes));
  }
  if (req.method === 'HEAD') {
    sendWhole(res, null);
    return web.body.cancel();
  }
  const framing = web.headers.get('transfer-encoding');
  return streamBody(req, res, web.body, framing !== null && /chunked/i.test(framing));
}

function sendWhole(res: Response, body: WholeBody | null): Promise<void> | undefined {
  if (body === null) {
    // A HEAD answered without a body (Hono strips it) must not claim its GET is empty: no
    // Content-Length unless the handler gave one (RFC 9110 9.3.2).
    if (res.request.method === 'HEAD' && !res.hasHeader('Content-Length')) res.flushHeaders();
    res.end();
    return undefined;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    res.end(body);
    return undefined;
  }
  if (body instanceof ArrayBuffer) {
    res.end(Buffer.from(body));
    return undefined;
  }
  if (body instanceof URLSearchParams) {
    res.end(body.toString());
    return undefined;
  }
  if (body instanceof Blob) {
    // Blob bytes are only readable asynchronously; no reader and no timer either way.
    return body.arrayBuffer().then((bytes) => {
      if (!res.finished && !res._preempted) res.end(Buffer.from(bytes));
    });
  }
  // Any other ArrayBufferView (DataView, a typed array over a SharedArrayBuffer).
  const view = body as ArrayBufferView;
  res.end(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
  return undefined;
}

function copyHeaders(res: Response, headers: Headers): void {
  let cookies = false;
  headers.forEach((value, name) => {
    if (name === 'set-cookie') cookies = true;
    else if (!HOP_BY_HOP.has(name)) res.setHeader(name, value);
  });
  // Each Set-Cookie its own field (RFC 6265 3): joining them with commas breaks Expires dates.
  if (cookies) for (const cookie of headers.getSetCookie()) res.appendHeader('Set-Cookie', cookie);
}

/** Headers as the handler passed them to the Response, read without building a Headers object. */
function copyHeaderInit(res: Response, init: ConstructorParameters<typeof Headers>[0], defaultType: string | null): void {
  if (init === undefined || init === null) {
    if (defaultType !== null) res._defaultContentType(defaultType);
    return;
  }
  // An object literal (Hono's c.json() and c.html()) is a record whatever else it holds; anything
  // else is asked whether it is a Headers or a list of pairs.
  if (Object.getPrototypeOf(init) !== Object.prototype) {
    if (init instanceof Headers) {
      // Read as it is (undici vetted and joined its fields when they were set): no copy.
      copyHeaders(res, init);
      if (defaultType !== null && !init.has('content-type')) res._defaultContentType(defaultType);
      return;
    }
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      // Lists of pairs: undici's Headers does the validation and the joining of repeats.
      const headers = new Headers(init);
      if (defaultType !== null && !headers.has('content-type')) headers.set('content-type', defaultType);
      copyHeaders(res, headers);
      return;
    }
  }
  // A record: its keys are distinct, so each is appended to the fresh response with the engine's
  // validation; only names of a length that may be special are lower-cased, and the spelling
  // frameworks use for Content-Type is known without it.
  const record = init as Record<string, string>;
  let typed = defaultType === null;
  for (const name in record) {
    const value = trimWhitespace(String(record[name]));
    if (name === 'Content-Type') {
      typed = true;
      // Frameworks pass the same few constants: one vetted before goes in without a second look.
      if (value === vettedType || headerValueKind(value) === ASCII_VALUE) {
        vettedType = value;
        res._defaultContentType(value);
        continue;
      }
    } else {
      const length = name.length;
      if (length === 12 || length === 10 || length === 17 || length === 16 || length === 7 || length === 2) {
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower)) continue;
        if (lower === 'content-type') typed = true;
      }
    }
    res.appendHeader(name, value);
  }
  if (!typed) res._defaultContentType(defaultType!);
}

/** The last Content-Type value found valid (plain ASCII, no CR, LF or NUL) in a record init. */
let vettedType = '';

/** Headers drop leading and trailing HTTP whitespace from values (Fetch: normalize a header value). */
function trimWhitespace(value: string): string {
  // A scan from each end: an unanchored `[\t\n\r ]+$` would retry at every run of inner spaces.
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isHttpWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * A body still being produced: each chunk goes out as it comes, the socket's backpressure respected.
 * A stream that has nothing yet gets its head sent at once (an SSE client sees the response open);
 * one that is whole within the turn still leaves in one write with a Content-Length, unless the
 * handler declared Transfer-Encoding: chunked.
 */
async function streamBody(req: Request<unknown>, res: Response, body: ReadableStream<Uint8Array>, declaredChunked: boolean): Promise<void> {
  const reader = body.getReader();
  try {
    let pending = reader.read();
    if (!declaredChunked) {
      const first = await settledNow(pending);
      if (first !== NOT_YET) {
        if (first.done) {
          if (!res._preempted && !res.finished) res.end();
          return;
        }
        pending = reader.read();
        const second = await Promise.race([pending, nextTurn()]);
        if (second !== NOT_YET && second.done) {
          if (!res._preempted && !res.finished) res.end(first.value);
          return;
        }
        if (res._preempted || res.finished) {
          await reader.cancel();
          return;
        }
        if (!res.write(first.value)) await res.drained();
      }
    }
    if (res._preempted || res.finished) {
      await reader.cancel();
      return;
    }
    if (!res.headersSent) res.flushHeaders();
    for (let step = await pending; !step.done; step = await reader.read()) {
      if (res._preempted || res.finished || req.signal.aborted) {
        await reader.cancel();
        return;
      }
      if (!res.write(step.value)) await res.drained();
    }
    if (!res.finished) res.end();
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    throw err;
  }
}

const NOT_YET: unique symbol = Symbol('not yet');

/** The read if it is already settled (a chunk that was enqueued resolves within a few microtasks), else NOT_YET. */
function settledNow<T>(read: Promise<T>): Promise<T | typeof NOT_YET> {
  return Promise.race([read, Promise.resolve().then(() => Promise.resolve()).then((): typeof NOT_YET => NOT_YET)]);
}

function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setImmediate(resolve, NOT_YET));
}

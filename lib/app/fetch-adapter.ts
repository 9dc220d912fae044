// Translation between linger's request/response and the web-standard Request/Response of fetch
// handlers (Hono and friends): the body flows both ways as a stream, with backpressure.

import type { Request } from './request.js';
import type { Response } from './response.js';

/** Hop-by-hop fields (RFC 9110 7.6.1) are the connection's business; the engine writes its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export function toWebRequest(req: Request<unknown>): globalThis.Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // Undici's Headers rejects what RFC 9110 allows in some edge cases; the parser already vetted
    // every byte, so a rejection here would only concern a field the handler cannot use anyway.
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      continue;
    }
  }
  const method = req.method;
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: req.signal };
  if (method !== 'GET' && method !== 'HEAD' && (req.head.contentLength > 0 || req.head.chunked)) {
    init.body = bodyStream(req);
    // Required by the fetch spec for a streamed request body: the response may start before it ends.
    init.duplex = 'half';
  }
  return new globalThis.Request(absoluteUrl(req), init);
}

/** The request body as a pull-based stream: each pull is one read(), so a slow handler slows the client. */
function bodyStream(req: Request<unknown>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await req.read();
      if (chunk === null) controller.close();
      else controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    },
  }, { highWaterMark: 0 });
}

function absoluteUrl(req: Request<unknown>): string {
  const target = req.url;
  if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') return target;
  // RFC 9112 3.3: the effective URI of an origin-form request is built from Host.
  const host = req.head.host ?? 'localhost';
  return `http://${host}${target === '*' ? '/' : target}`;
}

/** Sends a web Response: status, headers (Set-Cookie kept apart), and the body with backpressure. */
export async function sendWebResponse(req: Request<unknown>, res: Response, web: globalThis.Response): Promise<void> {
  if (res.finished || res._preempted) {
    await web.body?.cancel();
    return;
  }
  res.status(web.status);
  if (web.statusText !== '') res.statusMessage = web.statusText;
  web.headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || name === 'set-cookie') return;
    res.setHeader(name, value);
  });
  for (const cookie of web.headers.getSetCookie()) res.appendHeader('Set-Cookie', cookie);
  const body = web.body;
  if (body === null || req.method === 'HEAD') {
    if (body !== null) await body.cancel();
    res.end();
    return;
  }
  const reader = body.getReader();
  try {
    const first = await reader.read();
    if (first.done) {
      res.end();
      return;
    }
    // A body that was whole from the start (a string, JSON) ends within the same turn: then one
    // write with a Content-Length. A body still producing (SSE) goes out chunk by chunk at once.
    const pending = reader.read();
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
    for (let step = second === NOT_YET ? await pending : second; !step.done; step = await reader.read()) {
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

const NOT_YET = Symbol('not yet');

function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setImmediate(resolve, NOT_YET));
}

// serve(): runs a web-standard fetch handler (`(Request) => Response`, a Hono app's fetch) on the
// engine, with the same connection lifecycle, hooks and error answers as createServer() apps.

import { Server, type CloseOptions, type CloseResult } from '../server.js';
import { bindWebRequest } from './fetch-request.js';
import { bindWebResponse, installLightResponse } from './fetch-response.js';
import { checkOptionKeys, SERVER_OPTION_KEYS, type ServerOptions } from '../connection/options.js';
import type { RequestHead } from '../http1/request-parser.js';
import type { RequestHost } from '../connection/incoming-request.js';
import type { ResponseHost } from '../connection/outgoing-response.js';
import { UsageError } from '../http1/protocol-error.js';
import { dispatchFetch, errorLogOf, type ErrorLog, type FetchHandler, type Hooks } from './dispatch.js';
import { checkBodyLimit, DEFAULT_BODY_LIMIT, Request } from './request.js';
import { Response } from './response.js';

export interface FetchServerOptions extends ServerOptions {
  fetch: FetchHandler | { fetch: FetchHandler };
  /** Request body limit in bytes for reads through the web Request (413 beyond it). Default 1 MiB. */
  bodyLimit?: number;
  /** As for createServer(): true (default) logs each 5xx, timeout and late error to stderr; a function gets them; false: none. */
  logErrors?: boolean | ErrorLog;
  /**
   * Replace the global `Response` with linger's light one (a real Response for every use, see
   * README) while this server runs, so bodies built by frameworks are sent without a stream.
   * Default true.
   */
  overrideGlobalObjects?: boolean;
}

export interface ServeOptions extends FetchServerOptions {
  /** Default 3000. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Same as host, the name Bun and Deno use. */
  hostname?: string;
  backlog?: number;
}

export class FetchServer extends Server {
  readonly hooks: Hooks;

  constructor(options: FetchServerOptions) {
    const handler = fetchHandlerOf(options);
    const hooks: Hooks = {
      onRequest: [],
      onSend: [],
      onResponse: [],
      onError: [],
      errorHandler: null,
      bodyLimit: checkBodyLimit(options.bodyLimit ?? DEFAULT_BODY_LIMIT, 'bodyLimit'),
      log: errorLogOf(options.logErrors, 'logErrors'),
    };
    const overrideGlobalObjects = options.overrideGlobalObjects;
    if (overrideGlobalObjects !== undefined && typeof overrideGlobalObjects !== 'boolean') {
      throw new UsageError('ERR_INVALID_OPTION', `overrideGlobalObjects must be a boolean, got ${String(overrideGlobalObjects)}`);
    }
    super(options, (req, res) => dispatchFetch(handler, hooks, req as Request, res as Response), FETCH_OPTION_KEYS);
    this.hooks = hooks;
    // The fetch classes are bound to undici here, on the first fetch server, not when linger is imported.
    bindWebRequest();
    bindWebResponse();
    this.restoreGlobals = overrideGlobalObjects === false ? null : installLightResponse();
  }

  private restoreGlobals: (() => void) | null;

  /** Also gives the global Response back once the last server that replaced it has closed. */
  override close(options?: CloseOptions): Promise<CloseResult> {
    const closing = super.close(options);
    const restore = this.restoreGlobals;
    if (restore !== null) {
      this.restoreGlobals = null;
      closing.then(restore, restore);
    }
    return closing;
  }

  override createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): Request {
    return new Request(head, host, sequence, hasBody);
  }

  override createResponse(request: Request, host: ResponseHost): Response {
    return new Response(request, host);
  }
}

/** A fetch-handler server, not yet listening. */
export function createFetchServer(options: FetchServerOptions): FetchServer {
  return new FetchServer(options);
}

/** Starts a fetch-handler server; resolves once it listens (the address is server.address()). */
export async function serve(options: ServeOptions): Promise<FetchServer> {
  if (options === null || typeof options !== 'object') throw new UsageError('ERR_INVALID_OPTION', 'serve() needs an options object with fetch');
  checkOptionKeys(options, [...SERVER_OPTION_KEYS, ...FETCH_OPTION_KEYS, ...SERVE_OPTION_KEYS]);
  const { port, host, hostname, backlog, ...rest } = options;
  const server = new FetchServer(rest);
  await server.listen({ port: port ?? 3000, host: host ?? hostname ?? '127.0.0.1', backlog: backlog ?? 511 });
  return server;
}

const FETCH_OPTION_KEYS: readonly string[] = ['fetch', 'bodyLimit', 'logErrors', 'overrideGlobalObjects'];
const SERVE_OPTION_KEYS: readonly string[] = ['port', 'host', 'hostname', 'backlog'];

function fetchHandlerOf(options: FetchServerOptions): FetchHandler {
  if (options === null || typeof options !== 'object') throw new UsageError('ERR_INVALID_OPTION', 'options must be an object with fetch');
  const fetch = options.fetch;
  if (typeof fetch === 'function') return fetch;
  // An object with a fetch method (a Hono app, `export default { fetch }` modules) keeps its this.
  if (fetch !== null && typeof fetch === 'object' && typeof fetch.fetch === 'function') return fetch.fetch.bind(fetch);
  throw new UsageError('ERR_INVALID_HANDLER', 'serve() needs a fetch function or an object with a fetch method');
}

// createServer(): a Server whose dispatcher is a router plus app-level hooks, with the method
// helpers users call; route paths type the params their handlers see.

import { Server } from '../server.js';
import { checkOptionKeys, checkOptionObject, integerOption, type ServerOptions } from '../connection/options.js';
import type { RequestHead } from '../http1/request-parser.js';
import type { RequestHost } from '../connection/incoming-request.js';
import type { OutgoingResponse, ResponseHost } from '../connection/outgoing-response.js';
import type { HttpError } from '../connection/http-error.js';
import { UsageError } from '../http1/protocol-error.js';
import {
  dispatch, errorLogOf, reportHandlerTimeout,
  type ErrorHandler, type ErrorLog, type OnSendHook, type Handler, type Hooks, type OnErrorHook, type OnRequestHook, type OnResponseHook, type Route, type RouteOptions,
} from './dispatch.js';
import { checkBodyLimit, DEFAULT_BODY_LIMIT, Request, type RouteParams } from './request.js';
import { makeGroup, RouteGroup, type GroupOptions, type RouteRegistrar } from './route-group.js';
import { Response } from './response.js';
import { runResponseHooks } from './response-hooks.js';
import { cookieKeysOf, type CookieSecret } from './cookies.js';
import { cors as corsHook, type CorsOptions } from './cors.js';
import { closeLevel, loggerOf, requestIdHeaderOf, type Logger } from './request-log.js';
import type { CloseReason, LingerOutcome } from '../connection/lifecycle-stats.js';
import { compress as compressHook, type CompressOptions } from './compression.js';
import { Router } from './router.js';
import { checkHubOptions, WebSocketHub, type WebSocketHandler, type WebSocketHubOptions, type WebSocketRouteOptions } from '../ws/websocket-hub.js';

export interface AppOptions extends ServerOptions {
  webSocket?: WebSocketHubOptions;
  /** Request body limit in bytes for every route without its own (413 beyond it). Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Where errors are logged, once each with the request line: true (default) writes to stderr,
   * a function receives each entry (a logger), false logs nothing. 4xx answers are not logged.
   */
  logErrors?: boolean | ErrorLog;
  /**
   * Keys for signed cookies (HMAC-SHA256), each at least 32 bytes: one, or several to rotate (the
   * first signs, every one verifies).
   */
  cookieSecret?: CookieSecret;
  /**
   * Request logging: a pino instance (or any logger with debug/info/warn/error/child), true for a
   * minimal JSON-lines logger on stdout, false (default) for none. One line per finished request,
   * and connection closes that are not routine.
   */
  logger?: boolean | Logger;
  /** The header a request id is taken from and echoed in. Default 'X-Request-Id'. */
  requestIdHeader?: string;
}

export class App extends Server implements RouteRegistrar {
  private readonly router: Router<Route>;
  /** @internal the app-wide hooks (a group's routes run its own lists, which start with these) */
  readonly hooks: Hooks;
  private hub: WebSocketHub | null = null;
  private readonly hubOptions: WebSocketHubOptions;
  /** Groups in creation order: an enclosing group always comes before the groups inside it. */
  private readonly groups: RouteGroup<any>[] = [];
  /** The logger option's logger, or null. */
  readonly logger: Logger | null;
  /** Request, or with cookieSecret a subclass carrying the keys on its prototype (no per-request field). */
  private readonly requestClass: new (...args: ConstructorParameters<typeof Request>) => Request;

  constructor(options?: AppOptions) {
    const router = new Router<Route>();
    const hooks: Hooks = {
      onRequest: [],
      onSend: [],
      onResponse: [],
      onError: [],
      errorHandler: null,
      bodyLimit: checkBodyLimit(options?.bodyLimit ?? DEFAULT_BODY_LIMIT, 'bodyLimit'),
      log: errorLogOf(options?.logErrors, 'logErrors'),
    };
    super(options, (req, res) => dispatch(router, hooks, req as Request, res as Response), APP_OPTION_KEYS);
    this.router = router;
    this.hooks = hooks;
    // Checked now, not at the first ws() route: a typo must fail where the options are written.
    this.hubOptions = checkHubOptions(options?.webSocket);
    const cookieKeys = cookieKeysOf(options?.cookieSecret);
    const logger = loggerOf(options?.logger);
    const idHeader = requestIdHeaderOf(options?.requestIdHeader);
    this.logger = logger;
    if (cookieKeys === null && logger === null) {
      this.requestClass = Request;
    } else {
      const AppRequest = class AppRequest extends Request {};
      AppRequest.prototype._cookieKeys = cookieKeys;
      if (logger !== null) AppRequest.prototype._logSettings = { logger, idHeader };
      this.requestClass = AppRequest;
    }
    if (logger !== null) {
      // First of the app's hooks, so the duration covers the user's hooks too.
      hooks.onRequest.push((req) => {
        req._startedAt = performance.now();
      });
      // The id is echoed from onSend, which every answer passes (errors and 404s too): set from
      // onRequest it would be a hook header that every request copies for a possible error answer.
      // The body length is the handler's (before compression); a streamed body's is unknown.
      hooks.onSend.push((req, res, body) => {
        res.setHeader(idHeader, req.id);
        if (body !== undefined) res._bodyBytes = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      });
      hooks.onResponse.push((req, res) => logFinished(logger, req, res));
    }
  }

  /** The app's WebSockets: rooms, broadcast, the open sockets. Created with the first ws() route. */
  get websockets(): WebSocketHub {
    if (this.hub === null) {
      this.hub = new WebSocketHub(this.hubOptions);
      this.addShutdownParticipant(this.hub);
    }
    return this.hub;
  }

  /** A WebSocket endpoint: GET with Upgrade: websocket on `path`; the path types `req.params` as in get(). */
  ws<Path extends string>(path: Path, handler: WebSocketHandler<Request<RouteParams<Path>>>, options?: WebSocketRouteOptions): this {
    return this.route('GET', path, this.wsHandler(handler, options));
  }

  /** @internal */
  wsHandler(handler: WebSocketHandler<any>, options: WebSocketRouteOptions | undefined): Handler<any> {
    const upgrade = this.websockets.route(handler, options);
    return (req, res) => upgrade(req, res);
  }

  /**
   * Routes under a prefix with hooks, an error handler, a body limit and a timeout that apply to
   * them only: `app.group('/api', (api) => { api.onRequest(auth); api.get('/me', ...) })`. The
   * callback runs at once; the prefix's params type the handlers' `req.params`.
   */
  group<Prefix extends string>(prefix: Prefix, register: (group: RouteGroup<RouteParams<Prefix>>) => void): this;
  group<Prefix extends string>(prefix: Prefix, options: GroupOptions, register: (group: RouteGroup<RouteParams<Prefix>>) => void): this;
  group(prefix: string, a: GroupOptions | ((group: RouteGroup<any>) => void), b?: (group: RouteGroup<any>) => void): this {
    makeGroup(this, null, prefix, a, b);
    return this;
  }

  /** @internal */
  addGroup(group: RouteGroup<any>): void {
    this.groups.push(group);
    group.refresh();
  }

  /** @internal a hook was added somewhere: every group's lists are rebuilt, outermost first (registration time only) */
  refreshGroups(): void {
    for (const group of this.groups) group.refresh();
  }

  /** @internal */
  override createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): Request {
    return new this.requestClass(head, host, sequence, hasBody);
  }

  /** @internal */
  override createResponse(request: Request, host: ResponseHost): Response {
    return new Response(request, host);
  }

  /** @internal */
  override requestFinished(response: OutgoingResponse): void {
    super.requestFinished(response);
    const hooks = (response as Response)._hooks ?? this.hooks;
    if (hooks.onResponse.length > 0) runResponseHooks(hooks, response.request as Request, response as Response);
  }

  /** @internal */
  override connectionEnded(reason: CloseReason, lingerOutcome: LingerOutcome | null, requests: number, remoteAddress: string | undefined): void {
    const logger = this.logger;
    if (logger === null) return;
    const level = closeLevel(reason);
    logger[level]({ reason, lingerOutcome, requests, remoteAddress }, 'connection closed');
  }

  /** @internal */
  override handlerTimedOut(response: OutgoingResponse, error: HttpError): void {
    reportHandlerTimeout((response as Response)._hooks ?? this.hooks, response.request as Request, response as Response, error);
  }

  /** Runs after routing and before the handler, in the order added; answering ends the request there. */
  onRequest(hook: OnRequestHook): this {
    this.hooks.onRequest.push(checkFunction(hook, 'onRequest hook'));
    this.refreshGroups();
    return this;
  }

  /**
   * CORS for every route: preflights answered 204, allowed origins' responses decorated. The app's
   * hooks run for unmatched paths too, so a preflight needs no OPTIONS route. See cors().
   */
  cors(options: CorsOptions): this {
    return this.onRequest(corsHook(options));
  }

  /** Compresses responses (gzip, brotli) for every route; see compress(). */
  compress(options?: CompressOptions): this {
    return this.onRequest(compressHook(options));
  }

  /** Runs just before each response's head is written (every answer, 404s and errors included): headers, or a replacement whole body. */
  onSend(hook: OnSendHook): this {
    this.hooks.onSend.push(checkFunction(hook, 'onSend hook'));
    this.refreshGroups();
    return this;
  }

  /** Runs once a response is complete and handed to the socket, in the order added. */
  onResponse(hook: OnResponseHook): this {
    this.hooks.onResponse.push(checkFunction(hook, 'onResponse hook'));
    this.refreshGroups();
    return this;
  }

  /** Sees every error of handlers, hooks and body streams before the error handler answers. */
  onError(hook: OnErrorHook): this {
    this.hooks.onError.push(checkFunction(hook, 'onError hook'));
    this.refreshGroups();
    return this;
  }

  /** Replaces the default error answer (500, or the error's statusCode with its message); a group's own handler wins for its routes. */
  setErrorHandler(handler: ErrorHandler): this {
    this.hooks.errorHandler = checkFunction(handler, 'error handler');
    this.refreshGroups();
    return this;
  }

  route<Path extends string>(method: string, path: Path, handler: Handler<RouteParams<Path>>): this;
  route<Path extends string>(method: string, path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  route(method: string, path: string, optionsOrHandler: RouteOptions | Handler<any>, maybeHandler?: Handler<any>): this {
    const handler = typeof optionsOrHandler === 'function' ? optionsOrHandler : maybeHandler;
    const options = typeof optionsOrHandler === 'function' ? undefined : optionsOrHandler;
    this.addRoute(method, path, options, handler as Handler<any>, null);
    return this;
  }

  /** @internal a route of the app (group null) or of a group, whose hooks and defaults it takes */
  addRoute(method: string, path: string, options: RouteOptions | undefined, handler: Handler<any>, group: RouteGroup<any> | null): void {
    if (typeof method !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) {
      throw new UsageError('ERR_INVALID_ROUTE', `route method must be an HTTP token, got ${JSON.stringify(method)}`);
    }
    if (typeof handler !== 'function') {
      throw new UsageError('ERR_INVALID_HANDLER', `handler for ${method} ${String(path)} is not a function`);
    }
    if (options !== undefined) {
      checkOptionObject(options, `route options for ${method} ${String(path)}`);
      checkOptionKeys(options, ROUTE_OPTION_KEYS);
    }
    const hooks = group === null ? this.hooks : group.effective;
    const bodyLimit = options?.bodyLimit === undefined ? hooks.bodyLimit : checkBodyLimit(options.bodyLimit, 'route bodyLimit');
    const timeout = options?.timeout === undefined ? group?.timeout ?? null : integerOption(options.timeout, 0, 'route timeout', 0);
    this.router.add(method, path, { pattern: path, handler, bodyLimit, timeout, hooks });
  }

  get<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  get<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  get(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('GET', path, a as RouteOptions, b as Handler<any>);
  }

  head<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  head<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  head(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('HEAD', path, a as RouteOptions, b as Handler<any>);
  }

  post<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  post<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  post(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('POST', path, a as RouteOptions, b as Handler<any>);
  }

  put<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  put<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  put(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('PUT', path, a as RouteOptions, b as Handler<any>);
  }

  patch<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  patch<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  patch(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('PATCH', path, a as RouteOptions, b as Handler<any>);
  }

  delete<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  delete<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  delete(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('DELETE', path, a as RouteOptions, b as Handler<any>);
  }

  options<Path extends string>(path: Path, handler: Handler<RouteParams<Path>>): this;
  options<Path extends string>(path: Path, options: RouteOptions, handler: Handler<RouteParams<Path>>): this;
  options(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('OPTIONS', path, a as RouteOptions, b as Handler<any>);
  }
}

export function createServer(options?: AppOptions): App {
  return new App(options);
}

const APP_OPTION_KEYS: readonly string[] = ['webSocket', 'bodyLimit', 'logErrors', 'cookieSecret', 'logger', 'requestIdHeader'];

/** The one line per finished request: what, how it ended, how long it took, which on its connection. */
function logFinished(logger: Logger, req: Request, res: Response): void {
  const length = res._bodyBytes >= 0 ? res._bodyBytes : res.getHeader('Content-Length');
  logger.info({
    reqId: req.id,
    method: req.method,
    url: req.url,
    statusCode: res.statusCode,
    durationMs: Math.round((performance.now() - req._startedAt) * 1000) / 1000,
    bytes: length === undefined ? null : Number(length),
    requestOnConnection: req.sequence,
    remoteAddress: req.remoteAddress,
  }, 'request completed');
}
const ROUTE_OPTION_KEYS: readonly string[] = ['bodyLimit', 'timeout'];

function checkFunction<F>(value: F, what: string): F {
  if (typeof value !== 'function') throw new UsageError('ERR_INVALID_HANDLER', `${what} must be a function, got ${typeof value}`);
  return value;
}

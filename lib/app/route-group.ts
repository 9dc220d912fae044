// Route groups: routes under a common prefix with hooks, an error handler, a body limit and a
// timeout of their own that apply to those routes only (and to nested groups), after the app's.

import { checkOptionKeys, checkOptionObject, integerOption } from '../connection/options.js';
import { UsageError } from '../http1/protocol-error.js';
import type {
  ErrorHandler, Handler, Hooks, OnErrorHook, OnRequestHook, OnResponseHook, OnSendHook, RouteOptions,
} from './dispatch.js';
import { checkBodyLimit, type Request, type RouteParams } from './request.js';
import type { Response } from './response.js';
import { cors as corsHook, type CorsOptions } from './cors.js';
import { compress as compressHook, type CompressOptions } from './compression.js';
import type { WebSocketHandler, WebSocketRouteOptions } from '../ws/websocket-hub.js';

export interface GroupOptions {
  /** Request body limit for the group's routes without their own. Default: the enclosing group's or the app's. */
  bodyLimit?: number;
  /** Handler timeout (ms) for the group's routes without their own; 0 = none. Default: the enclosing group's or the app's handlerTimeout. */
  timeout?: number;
}

/** What a group needs from its app: implemented by App. */
export interface RouteRegistrar {
  /** @internal */
  readonly hooks: Hooks;
  /** @internal */
  addRoute(method: string, path: string, options: RouteOptions | undefined, handler: Handler<any>, scope: RouteGroup<any> | null): void;
  /** @internal recomputes every group's hooks after a hook was added anywhere */
  refreshGroups(): void;
  /** @internal */
  addGroup(group: RouteGroup<any>): void;
  /** @internal */
  wsHandler(handler: WebSocketHandler<any>, options: WebSocketRouteOptions | undefined): Handler<any>;
}

const GROUP_OPTION_KEYS: readonly string[] = ['bodyLimit', 'timeout'];

// Base: the params the prefixes declare; {} until one does.
export class RouteGroup<Base = {}> {
  /** The path every route of this group starts with ('' for the root). */
  readonly prefix: string;
  /** @internal the app's hooks, then each enclosing group's, then this group's: what its routes run */
  readonly effective: Hooks;
  /** @internal */ readonly parent: RouteGroup<any> | null;
  /** @internal null: the enclosing group's or the app's */ readonly bodyLimit: number | null;
  /** @internal null: the enclosing group's or the app's */ readonly timeout: number | null;
  private readonly registrar: RouteRegistrar;
  private readonly own = {
    onRequest: [] as OnRequestHook[],
    onSend: [] as OnSendHook[],
    onResponse: [] as OnResponseHook[],
    onError: [] as OnErrorHook[],
    errorHandler: null as ErrorHandler | null,
  };

  /** @internal groups are made by app.group() and group.group() */
  constructor(registrar: RouteRegistrar, parent: RouteGroup<any> | null, prefix: string, options: GroupOptions | undefined) {
    if (options !== undefined) {
      checkOptionObject(options, `group options for ${prefix}`);
      checkOptionKeys(options, GROUP_OPTION_KEYS);
    }
    this.registrar = registrar;
    this.parent = parent;
    this.prefix = joinPath(parent?.prefix ?? '', normalizePrefix(prefix));
    this.bodyLimit = options?.bodyLimit === undefined ? parent?.bodyLimit ?? null : checkBodyLimit(options.bodyLimit, 'group bodyLimit');
    this.timeout = options?.timeout === undefined ? parent?.timeout ?? null : integerOption(options.timeout, 0, 'group timeout', 0);
    const app = registrar.hooks;
    this.effective = {
      onRequest: [], onSend: [], onResponse: [], onError: [], errorHandler: null,
      bodyLimit: this.bodyLimit ?? app.bodyLimit, log: app.log,
    };
    registrar.addGroup(this);
  }

  /** @internal rebuilds the lists from the enclosing group's (already refreshed: groups refresh in creation order) */
  refresh(): void {
    const outer = this.parent?.effective ?? this.registrar.hooks;
    const e = this.effective;
    const own = this.own;
    replace(e.onRequest, outer.onRequest, own.onRequest);
    replace(e.onSend, outer.onSend, own.onSend);
    replace(e.onResponse, outer.onResponse, own.onResponse);
    replace(e.onError, outer.onError, own.onError);
    e.errorHandler = own.errorHandler ?? outer.errorHandler;
    e.log = outer.log;
  }

  /** Runs for this group's routes after the app's onRequest hooks and those of enclosing groups. */
  onRequest(hook: OnRequestHook): this {
    this.own.onRequest.push(checkFunction(hook, 'onRequest hook'));
    this.registrar.refreshGroups();
    return this;
  }

  /**
   * CORS for this group's routes: the hook, plus OPTIONS routes on the prefix and below it so a
   * preflight reaches the group (without them it would be the app's 405).
   */
  cors(options: CorsOptions): this {
    this.onRequest(corsHook(options));
    this.route('OPTIONS', '/', answerOptions);
    this.route('OPTIONS', '/*', answerOptions);
    return this;
  }

  /** Compresses this group's responses; see compress(). */
  compress(options?: CompressOptions): this {
    return this.onRequest(compressHook(options));
  }

  /** Runs for this group's responses, after the app's onSend hooks and those of enclosing groups. */
  onSend(hook: OnSendHook): this {
    this.own.onSend.push(checkFunction(hook, 'onSend hook'));
    this.registrar.refreshGroups();
    return this;
  }

  onResponse(hook: OnResponseHook): this {
    this.own.onResponse.push(checkFunction(hook, 'onResponse hook'));
    this.registrar.refreshGroups();
    return this;
  }

  onError(hook: OnErrorHook): this {
    this.own.onError.push(checkFunction(hook, 'onError hook'));
    this.registrar.refreshGroups();
    return this;
  }

  /** Answers the failures of this group's routes (and nested groups without their own). */
  setErrorHandler(handler: ErrorHandler): this {
    this.own.errorHandler = checkFunction(handler, 'error handler');
    this.registrar.refreshGroups();
    return this;
  }

  /** A nested group: its prefix is appended to this one's, and its params join this one's. */
  group<Prefix extends string>(prefix: Prefix, register: (group: RouteGroup<Base & RouteParams<Prefix>>) => void): this;
  group<Prefix extends string>(prefix: Prefix, options: GroupOptions, register: (group: RouteGroup<Base & RouteParams<Prefix>>) => void): this;
  group(prefix: string, a: GroupOptions | ((group: RouteGroup<any>) => void), b?: (group: RouteGroup<any>) => void): this {
    makeGroup(this.registrar, this, prefix, a, b);
    return this;
  }

  /** A WebSocket endpoint under this group's prefix; its onRequest hooks run before the upgrade. */
  ws<Path extends string>(path: Path, handler: WebSocketHandler<Request<Base & RouteParams<Path>>>, options?: WebSocketRouteOptions): this {
    return this.route('GET', path, this.registrar.wsHandler(handler, options));
  }

  route<Path extends string>(method: string, path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  route<Path extends string>(method: string, path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  route(method: string, path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    const handler = typeof a === 'function' ? a : b;
    const options = typeof a === 'function' ? undefined : a;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new UsageError('ERR_INVALID_ROUTE', `route path must start with "/", got ${JSON.stringify(path)}`);
    }
    this.registrar.addRoute(method, joinPath(this.prefix, path), options, handler as Handler<any>, this);
    return this;
  }

  get<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  get<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  get(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('GET', path, a as RouteOptions, b as Handler<any>);
  }

  head<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  head<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  head(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('HEAD', path, a as RouteOptions, b as Handler<any>);
  }

  post<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  post<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  post(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('POST', path, a as RouteOptions, b as Handler<any>);
  }

  put<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  put<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  put(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('PUT', path, a as RouteOptions, b as Handler<any>);
  }

  patch<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  patch<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  patch(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('PATCH', path, a as RouteOptions, b as Handler<any>);
  }

  delete<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  delete<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  delete(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('DELETE', path, a as RouteOptions, b as Handler<any>);
  }

  options<Path extends string>(path: Path, handler: Handler<Base & RouteParams<Path>>): this;
  options<Path extends string>(path: Path, options: RouteOptions, handler: Handler<Base & RouteParams<Path>>): this;
  options(path: string, a: RouteOptions | Handler<any>, b?: Handler<any>): this {
    return this.route('OPTIONS', path, a as RouteOptions, b as Handler<any>);
  }
}

/** app.group() and group.group(): validates, creates, and runs the registration callback at once. */
/** An OPTIONS request the CORS hook did not answer (not a preflight): nothing to say. */
function answerOptions(_req: Request, res: Response): void {
  res.status(204).end();
}

export function makeGroup(registrar: RouteRegistrar, parent: RouteGroup<any> | null, prefix: string,
  a: GroupOptions | ((group: RouteGroup<any>) => void), b: ((group: RouteGroup<any>) => void) | undefined): RouteGroup<any> {
  const register = typeof a === 'function' ? a : b;
  const options = typeof a === 'function' ? undefined : a;
  if (typeof register !== 'function') throw new UsageError('ERR_INVALID_HANDLER', `group ${String(prefix)} needs a function that registers its routes`);
  const group = new RouteGroup(registrar, parent, prefix, options);
  register(group);
  return group;
}

/** '/api' stays, '/api/' loses its slash, '/' is the root itself; anything else is refused. */
function normalizePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
    throw new UsageError('ERR_INVALID_ROUTE', `group prefix must start with "/", got ${JSON.stringify(prefix)}`);
  }
  if (prefix.includes('*')) throw new UsageError('ERR_INVALID_ROUTE', `group prefix cannot hold a wildcard: ${prefix}`);
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

/** A group's '/' is its prefix itself ('/api'), as Hono and Express routers do; other paths are appended. */
function joinPath(prefix: string, path: string): string {
  if (prefix === '') return path;
  return path === '/' || path === '' ? prefix : prefix + path;
}

function replace<T>(target: T[], outer: readonly T[], own: readonly T[]): void {
  target.length = 0;
  target.push(...outer, ...own);
}

function checkFunction<F>(value: F, what: string): F {
  if (typeof value !== 'function') throw new UsageError('ERR_INVALID_HANDLER', `${what} must be a function, got ${typeof value}`);
  return value;
}

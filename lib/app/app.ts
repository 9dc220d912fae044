// createServer(): a Server whose dispatcher is a router, with the method helpers users call.

import { Server } from '../server.js';
import type { ServerOptions } from '../connection/options.js';
import type { RequestHead } from '../http1/request-parser.js';
import type { RequestHost } from '../connection/incoming-request.js';
import type { ResponseHost } from '../connection/outgoing-response.js';
import { dispatch, type Handler } from './dispatch.js';
import { Request } from './request.js';
import { Response } from './response.js';
import { Router } from './router.js';
import { WebSocketHub, type WebSocketHandler, type WebSocketHubOptions, type WebSocketRouteOptions } from '../ws/websocket-hub.js';

export interface AppOptions extends ServerOptions {
  webSocket?: WebSocketHubOptions;
}

export class App extends Server {
  private readonly router: Router<Handler>;
  private hub: WebSocketHub | null = null;
  private readonly hubOptions: WebSocketHubOptions;

  constructor(options?: AppOptions) {
    const router = new Router<Handler>();
    super(options, (req, res) => dispatch(router, req as Request, res as Response));
    this.router = router;
    this.hubOptions = options?.webSocket ?? {};
  }

  /** The app's WebSockets: rooms, broadcast, the open sockets. Created with the first ws() route. */
  get websockets(): WebSocketHub {
    if (this.hub === null) {
      this.hub = new WebSocketHub(this.hubOptions);
      this.addShutdownParticipant(this.hub);
    }
    return this.hub;
  }

  /** A WebSocket endpoint: GET with Upgrade: websocket on `path` (params work as in get()). */
  ws(path: string, handler: WebSocketHandler<Request>, options?: WebSocketRouteOptions): this {
    const upgrade = this.websockets.route(handler, options);
    return this.route('GET', path, (req, res) => upgrade(req, res));
  }

  override createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): Request {
    return new Request(head, host, sequence, hasBody);
  }

  override createResponse(request: Request, host: ResponseHost): Response {
    return new Response(request, host);
  }

  route(method: string, path: string, handler: Handler): this {
    this.router.add(method, path, handler);
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.route('GET', path, handler);
  }

  head(path: string, handler: Handler): this {
    return this.route('HEAD', path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.route('POST', path, handler);
  }

  put(path: string, handler: Handler): this {
    return this.route('PUT', path, handler);
  }

  patch(path: string, handler: Handler): this {
    return this.route('PATCH', path, handler);
  }

  delete(path: string, handler: Handler): this {
    return this.route('DELETE', path, handler);
  }

  options(path: string, handler: Handler): this {
    return this.route('OPTIONS', path, handler);
  }
}

export function createServer(options?: AppOptions): App {
  return new App(options);
}

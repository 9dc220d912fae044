// WebSocket routes through the `ws` package (noServer mode): handshake checks answered as HTTP
// errors before the socket leaves the engine, hand-off with the bytes already read, one ping
// sweep for every socket, rooms, and a graceful 1001 close when the server shuts down.

import type { IncomingMessage } from 'node:http';
import { WebSocketServer, WebSocket, type PerMessageDeflateOptions } from 'ws';
import type { IncomingRequest } from '../connection/incoming-request.js';
import type { OutgoingResponse } from '../connection/outgoing-response.js';
import type { ShutdownParticipant } from '../server.js';
import { checkOptionKeys, checkOptionObject, integerOption, MAX_TIMER_MS } from '../connection/options.js';
import { UsageError } from '../http1/protocol-error.js';

export interface WebSocketRouteOptions {
  /** Largest message accepted, in bytes; a larger one closes the socket with 1009. Default 1 MiB: memory per message stays bounded. */
  maxPayload?: number;
  /** permessage-deflate; off by default (CPU and memory per socket, and compression side channels). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Runs before the upgrade: return true to accept, false for 403, a status number, or
   * { status, message }. May be async. Throwing answers 500.
   */
  verify?: (request: IncomingRequest) => VerifyResult | Promise<VerifyResult>;
  /** Picks a subprotocol from those the client offered; default the first. */
  handleProtocols?: (protocols: Set<string>, request: IncomingRequest) => string | false;
}

export type VerifyResult = boolean | number | { status: number; message?: string };

export interface WebSocketHubOptions {
  /** Ping every open socket this often (ms); one that has not answered the previous ping is terminated. 0 disables. */
  pingInterval?: number;
}

export type WebSocketHandler<R extends IncomingRequest = IncomingRequest> = (socket: WebSocket, request: R) => void;

/** The hub's options with defaults, validated (a typo or a wrong type is ERR_INVALID_OPTION). */
export function checkHubOptions(options: WebSocketHubOptions | undefined): Required<WebSocketHubOptions> {
  if (options === undefined) return { pingInterval: 30_000 };
  checkOptionObject(options, 'option webSocket');
  checkOptionKeys(options, ['pingInterval'], 'webSocket.');
  // setInterval takes at most 2^31 - 1 ms; beyond it node fires every millisecond.
  return { pingInterval: integerOption(options.pingInterval, 30_000, 'webSocket.pingInterval', 0, MAX_TIMER_MS) };
}

function checkRouteOptions(options: WebSocketRouteOptions): void {
  checkOptionObject(options, 'WebSocket route options');
  checkOptionKeys(options, ['maxPayload', 'perMessageDeflate', 'verify', 'handleProtocols']);
  integerOption(options.maxPayload, 0, 'maxPayload', 1);
  const deflate = options.perMessageDeflate;
  if (deflate !== undefined && typeof deflate !== 'boolean' && (deflate === null || typeof deflate !== 'object')) {
    throw new UsageError('ERR_INVALID_OPTION', `option perMessageDeflate must be a boolean or ws's options object, got ${String(deflate)}`);
  }
  for (const name of ['verify', 'handleProtocols'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new UsageError('ERR_INVALID_OPTION', `option ${name} must be a function, got ${typeof options[name]}`);
    }
  }
}

const KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;
const GOING_AWAY = 1001;

interface Route {
  server: WebSocketServer;
  handler: WebSocketHandler<IncomingRequest>;
  options: WebSocketRouteOptions;
}

export class WebSocketHub implements ShutdownParticipant {
  private readonly sockets = new Set<WebSocket>();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly rooms = new Map<string, Set<WebSocket>>();
  private readonly memberOf = new WeakMap<WebSocket, Set<string>>();
  private readonly pingInterval: number;
  private pingTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private closedCleanly = 0;
  private onEmpty: (() => void) | null = null;

  constructor(options: WebSocketHubOptions = {}) {
    this.pingInterval = checkHubOptions(options).pingInterval;
  }

  /** A request handler for one WebSocket route. */
  route<R extends IncomingRequest>(handler: WebSocketHandler<R>, options: WebSocketRouteOptions = {}): (req: R, res: OutgoingResponse) => Promise<void> {
    checkRouteOptions(options);
    const route: Route = {
      server: new WebSocketServer({
        noServer: true,
        clientTracking: false,
        maxPayload: options.maxPayload ?? 1_048_576,
        perMessageDeflate: options.perMessageDeflate ?? false,
        ...(options.handleProtocols
          ? { handleProtocols: (protocols: Set<string>, req: IncomingMessage) => options.handleProtocols!(protocols, req as unknown as IncomingRequest) }
          : {}),
      }),
      handler: handler as WebSocketHandler<IncomingRequest>,
      options,
    };
    return (req, res) => this.upgrade(route, req, res);
  }

  get openCount(): number {
    return this.sockets.size;
  }

  /** Every open socket of every route. */
  get clients(): ReadonlySet<WebSocket> {
    return this.sockets;
  }

  join(room: string, socket: WebSocket): void {
    let members = this.rooms.get(room);
    if (members === undefined) this.rooms.set(room, (members = new Set()));
    members.add(socket);
    let rooms = this.memberOf.get(socket);
    if (rooms === undefined) this.memberOf.set(socket, (rooms = new Set()));
    rooms.add(room);
  }

  leave(room: string, socket: WebSocket): void {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    members.delete(socket);
    if (members.size === 0) this.rooms.delete(room);
    this.memberOf.get(socket)?.delete(room);
  }

  /** Sends to every open member of `room` (all sockets when room is null) except `except`; returns how many. */
  broadcast(room: string | null, data: string | Buffer, except?: WebSocket): number {
    const members = room === null ? this.sockets : this.rooms.get(room);
    if (members === undefined) return 0;
    let sent = 0;
    for (const socket of members) {
      if (socket === except || socket.readyState !== WebSocket.OPEN) continue;
      socket.send(data);
      sent++;
    }
    return sent;
  }

  private async upgrade(route: Route, req: IncomingRequest, res: OutgoingResponse): Promise<void> {
    const headers = req.headers;
    // RFC 6455 4.2.1 checks, answered in HTTP while the engine still owns the connection.
    if (req.head.upgrade === null || req.head.upgrade.toLowerCase() !== 'websocket') {
      res.status(426).setHeader('Upgrade', 'websocket').setHeader('Content-Type', 'text/plain; charset=utf-8').end('this resource needs a WebSocket upgrade\n');
      return;
    }
    const key = headers['sec-websocket-key'];
    if (key === undefined || !KEY.test(key)) {
      res.status(400).setHeader('Content-Type', 'text/plain; charset=utf-8').end('missing or invalid Sec-WebSocket-Key\n');
      return;
    }
    if (headers['sec-websocket-version'] !== '13') {
      // RFC 6455 4.4: tell the client which version this server speaks.
      res.status(426).setHeader('Sec-WebSocket-Version', '13').setHeader('Content-Type', 'text/plain; charset=utf-8').end('unsupported WebSocket version\n');
      return;
    }
    if (this.closing) {
      res.status(503).setHeader('Content-Type', 'text/plain; charset=utf-8').end('shutting down\n');
      return;
    }
    if (route.options.verify !== undefined) {
      let verdict: VerifyResult;
      try {
        verdict = await route.options.verify(req);
      } catch {
        verdict = 500;
      }
      if (verdict !== true) {
        const status = verdict === false ? 403 : typeof verdict === 'number' ? verdict : verdict.status;
        const message = typeof verdict === 'object' && verdict.message !== undefined ? verdict.message : 'upgrade refused';
        res.status(status).setHeader('Content-Type', 'text/plain; charset=utf-8').end(`${message}\n`);
        return;
      }
    }
    let taken: { socket: import('node:net').Socket; head: Buffer };
    try {
      taken = await res.takeOverSocket();
    } catch {
      return; // the client went away before its turn
    }
    const { socket, head } = taken;
    route.server.handleUpgrade(req as unknown as IncomingMessage, socket, head, (ws) => {
      this.adopt(ws);
      try {
        route.handler(ws, req);
      } catch {
        // A handler that throws while setting up gets a clean close rather than a dangling socket.
        ws.close(1011, 'handler error');
      }
    });
    // The engine paused reading while it held the bytes after the head; ws reads from here on.
    socket.resume();
  }

  private adopt(ws: WebSocket): void {
    this.sockets.add(ws);
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('close', (code: number) => {
      this.sockets.delete(ws);
      const rooms = this.memberOf.get(ws);
      if (rooms !== undefined) for (const room of [...rooms]) this.leave(room, ws);
      if (this.closing && code === GOING_AWAY) this.closedCleanly++;
      if (this.sockets.size === 0) {
        this.stopPinging();
        if (this.onEmpty !== null) this.onEmpty();
      }
    });
    // ws reports socket errors on the WebSocket; without a listener they would crash the process.
    ws.on('error', () => {});
    if (this.pingTimer === null && this.pingInterval > 0) {
      this.pingTimer = setInterval(pingAll, this.pingInterval, this);
      this.pingTimer.unref();
    }
  }

  /** @internal one sweep for all sockets instead of a timer each */
  sweepPings(): void {
    for (const ws of this.sockets) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  private stopPinging(): void {
    if (this.pingTimer !== null) {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  shutdown(): Promise<number> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.sockets.size === 0) {
        resolve(this.closedCleanly);
        return;
      }
      this.onEmpty = () => resolve(this.closedCleanly);
      // RFC 6455 7.4.1: 1001, the endpoint is going away; ws waits for the peer's close frame.
      for (const ws of this.sockets) ws.close(GOING_AWAY, 'server shutting down');
    });
  }

  destroyAll(): number {
    const count = this.sockets.size;
    for (const ws of [...this.sockets]) ws.terminate();
    return count;
  }
}

function pingAll(hub: WebSocketHub): void {
  hub.sweepPings();
}

// How a connection hears its socket: one set of module-level listeners shared by every socket,
// which find their connection through a symbol on the socket, so accepting allocates no closures.

import type { Socket } from 'node:net';

/** What a socket's events are delivered to. Engine-only, like the methods that implement it. */
export interface SocketEvents {
  /** @internal */ onData(chunk: Buffer): void;
  /** @internal */ onEnd(): void;
  /** @internal */ onFinish(): void;
  /** @internal */ onDrain(): void;
  /** @internal */ onError(err: NodeJS.ErrnoException): void;
  /** @internal */ onClose(): void;
}

const OWNER = Symbol('linger.connection');
type OwnedSocket = Socket & { [OWNER]?: SocketEvents };
const owner = (socket: Socket): SocketEvents => (socket as OwnedSocket)[OWNER]!;

const LISTENERS: ReadonlyArray<readonly [string, (this: Socket, ...args: any[]) => void]> = [
  ['data', function (this: Socket, chunk: Buffer) { owner(this).onData(chunk); }],
  ['end', function (this: Socket) { owner(this).onEnd(); }],
  ['finish', function (this: Socket) { owner(this).onFinish(); }],
  ['drain', function (this: Socket) { owner(this).onDrain(); }],
  ['error', function (this: Socket, err: NodeJS.ErrnoException) { owner(this).onError(err); }],
  ['close', function (this: Socket) { owner(this).onClose(); }],
];

/** Delivers the socket's events to `events`; a socket already attached is only re-pointed (the close path taking over). */
export function attach(socket: Socket, events: SocketEvents): void {
  const attached = (socket as OwnedSocket)[OWNER] !== undefined;
  (socket as OwnedSocket)[OWNER] = events;
  if (!attached) for (const [event, listener] of LISTENERS) socket.on(event, listener);
}

/** The socket leaves the engine (an upgrade): none of its events reach the connection any more. */
export function detach(socket: Socket): void {
  for (const [event, listener] of LISTENERS) socket.off(event, listener);
  (socket as OwnedSocket)[OWNER] = undefined;
}

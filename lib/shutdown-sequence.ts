// The graceful close of one server, from close() to its result (DESIGN promise 8): the drain with
// the listener still open, the listener's close, the wait for connections and participants, and
// the deadline that destroys what is left. Server holds one once close() is called and asks it the phase.

import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import { HttpError } from './connection/http-error.js';
import { checkOptionKeys, checkOptionObject, integerOption, MAX_TIMER_MS } from './connection/options.js';
import { UsageError } from './http1/protocol-error.js';
import { CHANNELS, type ConnectionRegistry } from './connection-registry.js';

export interface CloseOptions {
  /**
   * ms before the connections still open are destroyed, counted from the call (the drain
   * included); defaults to the shutdownTimeout option.
   */
  timeout?: number;
  /**
   * ms to keep the listener open and serve new connections after `ready` turned false, default 0:
   * load balancers and orchestrators take that long to stop routing here. Every response from the
   * call on says `Connection: close`. At most `timeout`.
   */
  drainDelay?: number;
}

/**
 * Where a server is in its life: `serving`, `draining` (close() called, the listener still open),
 * `closing` (listener closed, connections finishing), `closed` (close() resolved).
 */
export type ServerPhase = 'serving' | 'draining' | 'closing' | 'closed';

export interface CloseResult {
  /** Connections that closed on their own terms during shutdown (idle reaped, last response sent, peer EOF). */
  closedGracefully: number;
  /** Connections destroyed at the deadline. */
  forced: number;
}

/**
 * Something besides HTTP connections that a graceful close must wait for (WebSockets): told to
 * close when shutdown starts, destroyed at the deadline, counted in stats and in the close result.
 */
export interface ShutdownParticipant {
  /** Open sockets, reported as stats().connections.upgraded. */
  readonly openCount: number;
  /** Starts a graceful close of everything; resolves with how many closed cleanly once all are gone. */
  shutdown(): Promise<number>;
  /** Destroys what is left; returns how many. */
  destroyAll(): number;
}

const shutdownChannel = diagnosticsChannel.channel(CHANNELS.shutdown);
const CLOSE_OPTION_KEYS: readonly string[] = ['timeout', 'drainDelay'];

/** @internal close() options checked and defaulted; a bad one throws UsageError ERR_INVALID_OPTION. */
export function closeOptionsOf(options: CloseOptions, shutdownTimeout: number): { timeout: number; drainDelay: number } {
  checkOptionObject(options, 'close() options');
  checkOptionKeys(options, CLOSE_OPTION_KEYS);
  const timeout = integerOption(options.timeout, shutdownTimeout, 'timeout', 0, MAX_TIMER_MS);
  const drainDelay = integerOption(options.drainDelay, 0, 'drainDelay', 0, MAX_TIMER_MS);
  if (drainDelay > timeout) {
    throw new UsageError('ERR_INVALID_OPTION',
      `drainDelay (${drainDelay} ms) must not exceed the shutdown timeout (${timeout} ms): the deadline counts from the start of the drain`);
  }
  return { timeout, drainDelay };
}

/** @internal What a shutdown reads of its server when it gets there: both can change while it drains. */
export interface ShutdownHost {
  /** The listening socket, if listen() got that far. */
  listener(): net.Server | null;
  /** Aborts the server's shutdownSignal, if anyone asked for it. */
  abortSignal(reason: Error): void;
}

/**
 * @internal One server's close(), run once; forceClose() moves its deadline to now. It is the server's before
 * it runs, so phase and a close() called from inside the run (a shutdown subscriber) find it.
 */
export class ShutdownSequence {
  phase: ServerPhase = 'serving';
  /** Ends the drain early (forceClose, stopAccepting); null outside a drain. */
  endDrain: (() => void) | null = null;
  /** What close() resolves with once everything is closed or destroyed. */
  readonly result: Promise<CloseResult>;
  private settle!: (result: CloseResult) => void;
  private fail!: (err: unknown) => void;
  private forceNow: (() => void) | null = null;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly participants: readonly ShutdownParticipant[],
    private readonly host: ShutdownHost,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  run(timeout: number, drainDelay: number): void {
    const registry = this.registry;
    this.phase = drainDelay > 0 ? 'draining' : 'closing';
    publishShutdown('start', registry.size, drainDelay);
    // Connections, old and new, see shuttingDown from here: Connection: close on every response,
    // idle ones closed (lingering) once past the reuse guard. The listener stays open until the drain ends.
    registry.beginShutdown();
    let timer: NodeJS.Timeout | null = null;
    let drainTimer: NodeJS.Timeout | null = null;
    let participantsGraceful = 0;
    let participantsForced = 0;
    let leftDrain = false;
    let resolveAfterDrain!: (value: { listenerClosed: Promise<void>; everything: Promise<unknown> }) => void;
    const afterDrain = new Promise<{ listenerClosed: Promise<void>; everything: Promise<unknown> }>((resolve) => { resolveAfterDrain = resolve; });
    // Synchronous, so that without a drain close() has closed the listener when it returns.
    const leaveDrain = (): void => {
      if (leftDrain) return;
      leftDrain = true;
      if (drainTimer !== null) clearTimeout(drainTimer);
      this.endDrain = null;
      this.phase = 'closing';
      registry.refusingNew = true;
      if (drainDelay > 0) publishShutdown('listener-close', registry.size, drainDelay);
      this.host.abortSignal(new HttpError(503, 'ERR_SERVER_CLOSING', 'the server is shutting down'));
      const netServer = this.host.listener();
      const listenerClosed = new Promise<void>((resolve) => {
        if (netServer === null || !netServer.listening) resolve();
        else netServer.close(() => resolve());
      });
      const participantsDone = Promise.all(this.participants.map((p) => p.shutdown())).then((counts) => {
        for (const n of counts) participantsGraceful += n;
      });
      resolveAfterDrain({ listenerClosed, everything: Promise.all([registry.whenEmpty(), participantsDone]) });
    };
    if (drainDelay === 0) leaveDrain();
    else {
      this.endDrain = leaveDrain;
      drainTimer = setTimeout(leaveDrain, drainDelay);
    }
    const deadline = new Promise<void>((resolve) => {
      let fired = false;
      const fire = (): void => {
        if (fired) return;
        fired = true;
        if (timer !== null) clearTimeout(timer);
        leaveDrain();
        publishShutdown('deadline', registry.size, drainDelay);
        registry.destroyAll();
        for (const participant of this.participants) participantsForced += participant.destroyAll();
        resolve();
      };
      this.forceNow = fire;
      timer = setTimeout(fire, timeout);
    });
    afterDrain
      .then(({ listenerClosed, everything }) => Promise.race([everything, deadline]).then(() => everything).then(() => listenerClosed))
      .then(() => {
        if (timer !== null) clearTimeout(timer);
        this.phase = 'closed';
        publishShutdown('done', 0, drainDelay);
        return {
          closedGracefully: registry.closedDuringShutdown + participantsGraceful,
          forced: registry.forcedAtShutdown + participantsForced,
        };
      })
      .then(this.settle, this.fail);
  }

  /** Moves the deadline to now: what is left is destroyed at once. */
  force(): void {
    this.forceNow?.();
  }
}

/**
 * `start` (ready turned false; with a drainDelay the listener stays open), `listener-close` (the
 * drain is over: only after a drainDelay), `deadline` (what is left gets destroyed), `done`.
 */
function publishShutdown(phase: 'start' | 'listener-close' | 'deadline' | 'done', connections: number, drainDelay: number): void {
  if (shutdownChannel.hasSubscribers) shutdownChannel.publish({ phase, connections, drainDelay });
}

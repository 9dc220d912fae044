// One forked worker as the primary sees it: its role and state, the messages held until its
// handlers exist, and the waits on it (listening, leaving the listener, exiting or being killed).

import type { Worker } from 'node:cluster';
import type { PrimaryMessage } from './messages.js';

export interface WorkerInfo {
  pid: number;
  generation: number;
  state: 'starting' | 'listening' | 'retiring';
}

// Beyond each worker's own close() deadline, the time left before the primary kills it.
const KILL_GRACE_MS = 5_000;

export class WorkerHandle {
  readonly pid: number;
  /** Candidates are rolling-restart replacements not yet counted as members. */
  role: 'member' | 'candidate';
  state: WorkerInfo['state'] = 'starting';
  readonly startedAt = Date.now();
  listeningAt = 0;
  fatal: string | null = null;
  result: { closedGracefully: number; forced: number } | null = null;
  onListening: (() => void) | null = null;
  onUnlistened: (() => void) | null = null;
  /** Messages held until the worker says its handlers exist. */
  private held: PrimaryMessage[] | null = [];
  /** True until the worker's 'exit'. */
  alive = true;
  exitCode: number | null = null;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(readonly worker: Worker, readonly generation: number, role: WorkerHandle['role']) {
    this.pid = worker.process.pid ?? -1;
    this.role = role;
    this.exited = new Promise((resolve) => {
      worker.on('exit', (code: number | null, signal: string | null) => {
        this.alive = false;
        this.exitCode = code;
        resolve({ code, signal });
      });
    });
  }

  /** The worker's handlers exist: what was held goes out, in order. */
  attached(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const m of held) this.send(m);
  }

  send(message: PrimaryMessage): void {
    if (this.held !== null) this.held.push(message);
    else if (this.worker.isConnected()) this.worker.send(message, undefined, () => {});
  }

  /** Resolves once it listens; rejects (and retires it) if it exits first or takes longer than `startTimeout`. */
  waitListening(startTimeout: number, shutdownTimeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.state === 'listening') {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        reject(new Error(`worker ${this.pid} did not listen within ${startTimeout} ms`));
        this.retire(shutdownTimeout).catch(() => {});
      }, startTimeout);
      this.onListening = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker ${this.pid} exited before listening (${this.fatal ?? `code ${String(code)}, signal ${String(signal)}`})`));
      });
    });
  }

  /** Resolves once it has left the shared listener, or exited. */
  unlisten(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.alive || !this.worker.isConnected()) {
        resolve();
        return;
      }
      this.onUnlistened = resolve;
      void this.exited.then(() => resolve());
      this.send({ linger: 'unlisten' });
    });
  }

  /** Asks it to close gracefully; kills it if it outlives its deadline. Resolves with its close result, or null. */
  async retire(shutdownTimeout: number): Promise<WorkerHandle['result']> {
    if (!this.alive) return this.exitCode === 0 || this.exitCode === 1 ? this.result : null;
    this.state = 'retiring';
    this.send({ linger: 'shutdown', timeout: shutdownTimeout });
    const killer = setTimeout(() => this.worker.process.kill('SIGKILL'), shutdownTimeout + KILL_GRACE_MS);
    const { code } = await this.exited;
    clearTimeout(killer);
    return code === 0 || code === 1 ? this.result : null;
  }
}

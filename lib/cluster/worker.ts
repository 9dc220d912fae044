// The worker side of the cluster: load the app module, listen on the shared port, report to the
// primary, and close gracefully when the primary (or a signal, or the primary's death) says so.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { DUPLICATE_SIGNAL_MS } from '../graceful-shutdown.js';
import type { CloseResult, Server } from '../server.js';
import { ENV, isPrimaryMessage, type WorkerMessage } from './messages.js';

type ServerLike = Pick<Server, 'listen' | 'close' | 'forceClose' | 'address' | 'stopAccepting'> & Partial<Pick<Server, 'secure' | 'setSecureContext'>> & {
  /** Server's (internal) switch to HTTPS before listen. */
  enableTls?(options: { cert: Buffer; key: Buffer }): void;
};

/** `--tls-cert` / `--tls-key` read afresh: at start, and on every reload the primary asks for. */
function tlsFiles(): { cert: Buffer; key: Buffer } | null {
  const certFile = process.env[ENV.tlsCert];
  const keyFile = process.env[ENV.tlsKey];
  if (certFile === undefined || certFile === '' || keyFile === undefined || keyFile === '') return null;
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

function isServer(value: unknown): value is ServerLike {
  const v = value as Partial<ServerLike> | null;
  return v !== null && typeof v === 'object' && typeof v.listen === 'function' && typeof v.close === 'function'
    && typeof v.forceClose === 'function' && typeof v.address === 'function' && typeof v.stopAccepting === 'function';
}

/**
 * The module's default export: an app from createServer() that is not listening yet, or a
 * (possibly async) function returning one.
 */
export async function loadServer(modulePath: string): Promise<ServerLike> {
  const loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown };
  let candidate = loaded.default;
  if (typeof candidate === 'function' && !isServer(candidate)) candidate = await (candidate as () => unknown)();
  if (!isServer(candidate)) {
    throw new Error(`${modulePath} must default-export an app created with createServer() (or a function returning one)`);
  }
  if (candidate.address() !== null) throw new Error(`${modulePath}: the exported app is already listening; the cluster listens for it`);
  return candidate;
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function fatal(message: string): Promise<never> {
  await send({ linger: 'fatal', message });
  // 3: configuration error, told apart from a crash (1) by the primary through the message above.
  process.exit(3);
}

export async function runWorker(): Promise<void> {
  const modulePath = process.env[ENV.module];
  const port = Number(process.env[ENV.port] ?? 3000);
  const host = process.env[ENV.host] ?? '127.0.0.1';
  const defaultTimeout = Number(process.env[ENV.shutdownTimeout] ?? 30_000);
  const defaultDrainDelay = Number(process.env[ENV.drainDelay] ?? 0);
  // A descriptor of the primary's: node:cluster listens on it there and hands connections over.
  const fdText = process.env[ENV.fd];
  const fd = fdText === undefined || fdText === '' ? null : Number(fdText);
  if (modulePath === undefined || modulePath === '') return fatal(`${ENV.module} is not set`);

  // SIGHUP is the primary's (rolling restart); a terminal hangup reaching the whole process group
  // must not kill the workers underneath it.
  process.on('SIGHUP', () => {});

  // Messages and signals can arrive while the module is still loading or listen() is pending:
  // they are remembered, and a worker told to stop before it listens exits without listening.
  let server: ServerLike | null = null;
  let listening = false;
  let stopBeforeListening = false;
  let closing: Promise<CloseResult> | null = null;
  const shutdown = (timeout: number, drainDelay = 0): void => {
    if (server === null || !listening) {
      stopBeforeListening = true;
      return;
    }
    if (closing !== null) return;
    closing = server.close({ timeout, drainDelay: Math.min(drainDelay, timeout) });
    closing.then(
      async (result) => {
        await send({ linger: 'closed', result });
        process.exit(result.forced === 0 ? 0 : 1);
      },
      () => process.exit(1),
    );
  };
  const force = (): void => {
    shutdown(0);
    void server?.forceClose().catch(() => {});
  };
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.linger === 'unlisten') {
      // node:cluster's internal close of the shared handle goes out on this same channel first, so
      // when the primary reads this answer its listener no longer counts this worker.
      if (server !== null && listening) server.stopAccepting();
      else stopBeforeListening = true;
      void send({ linger: 'unlistened' });
    } else if (message.linger === 'drain') shutdown(message.timeout, message.drainDelay);
    else if (message.linger === 'shutdown') shutdown(message.timeout);
    else if (message.linger === 'force') force();
    else if (message.linger === 'reload-tls') {
      // A file that does not load leaves the certificate in use as it is: a reload never stops serving.
      let error: string | null = null;
      try {
        const files = tlsFiles();
        if (files !== null && server !== null) server.setSecureContext!(files);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      void send({ linger: 'tls-reloaded', error });
    }
  });
  // Ctrl-C or a process-group SIGTERM reaches the workers too: close as the primary would ask;
  // a second one forces.
  let signals = 0;
  let lastSignalAt = -Infinity;
  const onSignal = (): void => {
    const now = Date.now();
    if (now - lastSignalAt < DUPLICATE_SIGNAL_MS) return;
    lastSignalAt = now;
    signals++;
    // systemd's default KillMode signals every process of the unit: workers drain as the primary would.
    if (signals === 1) shutdown(defaultTimeout, defaultDrainDelay);
    else force();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The primary is gone (killed): nobody will ask, so close on our own rather than serve orphaned.
  process.on('disconnect', () => shutdown(defaultTimeout));
  void send({ linger: 'attached' });

  try {
    server = await loadServer(modulePath);
  } catch (err) {
    return fatal(err instanceof Error ? err.message : String(err));
  }
  const exitUnstarted = async (): Promise<void> => {
    await send({ linger: 'closed', result: { closedGracefully: 0, forced: 0 } });
    process.exit(0);
  };
  if (stopBeforeListening) return exitUnstarted();
  try {
    const files = tlsFiles();
    if (files !== null) {
      if (typeof server.enableTls !== 'function') throw new Error('the exported server cannot serve TLS');
      if (server.secure === true) server.setSecureContext!(files);
      else server.enableTls(files);
    }
  } catch (err) {
    return fatal(`TLS: ${err instanceof Error ? err.message : String(err)}`);
  }

  let address;
  try {
    address = await server.listen(fd === null ? { port, host } : { fd });
  } catch (err) {
    return fatal(`listen on ${fd === null ? `${host}:${port}` : `fd ${fd}`} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  listening = true;
  if (stopBeforeListening) {
    // Asked to stop while listen() was pending: nothing was served; leave at once.
    server.stopAccepting();
    return exitUnstarted();
  }
  await send({ linger: 'listening', address: address.address, port: address.port });
}

// TLS as a transport under the same Connection: the server's secure context (replaceable for a
// certificate reload), and one accepted TCP socket's handshake, timed by the shared sweeper, that
// ends either in a TLSSocket handed to the engine or in a counted close no handler ever sees.

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { UsageError } from '../http1/protocol-error.js';
import type { DeadlineOwner, DeadlineSweeper } from './deadline-sweeper.js';
import type { CloseReason } from './lifecycle-stats.js';

/** What `tls` accepts: anything node:https takes (key, cert, ca, pfx, requestCert, SNICallback, ...). */
export type ServerTlsOptions = TlsOptions;

/** HTTP/1.1 is all the engine speaks (RFC 7301); a client offering only h2 fails the handshake. */
const ALPN = ['http/1.1'];

/**
 * Options that belong to the listening side and not to a secure context: the rest is passed to
 * tls.createSecureContext as it is, so a new option of node:tls works without a change here.
 */
const SOCKET_KEYS = new Set(['requestCert', 'rejectUnauthorized', 'SNICallback', 'ALPNProtocols', 'ALPNCallback', 'handshakeTimeout',
  'enableTrace', 'pskCallback', 'pskIdentityHint', 'allowHalfOpen', 'pauseOnConnect', 'noDelay', 'keepAlive', 'keepAliveInitialDelay']);

export class TlsTransport {
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  private context: SecureContext;
  private readonly socketOptions: tls.TLSSocketOptions;
  private readonly sniCallback: TlsOptions['SNICallback'];
  /**
   * Session ticket keys (RFC 5077) kept across certificate reloads, so clients resuming with a
   * ticket issued before a reload still resume after it; random per process unless given.
   */
  private readonly ticketKeys: Buffer;
  /** OpenSSL refuses to resume a session that verified a client certificate without an id context. */
  private readonly sessionIdContext: string;

  constructor(options: ServerTlsOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new UsageError('ERR_INVALID_OPTION', 'option tls must be an object of node:tls server options (key, cert, ...)');
    }
    if (options.SNICallback !== undefined && typeof options.SNICallback !== 'function') {
      throw new UsageError('ERR_INVALID_OPTION', 'option tls.SNICallback must be a function');
    }
    if (options.ALPNProtocols !== undefined || options.ALPNCallback !== undefined) {
      throw new UsageError('ERR_INVALID_OPTION', 'option tls.ALPNProtocols is not supported: the server speaks http/1.1 only and advertises it');
    }
    if (options.handshakeTimeout !== undefined) {
      throw new UsageError('ERR_INVALID_OPTION', 'option tls.handshakeTimeout is the server option handshakeTimeout, beside tls');
    }
    if (options.cert === undefined && options.pfx === undefined && options.SNICallback === undefined) {
      throw new UsageError('ERR_INVALID_OPTION', 'option tls needs cert and key (or pfx, or an SNICallback that supplies them)');
    }
    this.requestCert = options.requestCert === true;
    // node:https's default: with requestCert, a client without a valid certificate is refused.
    this.rejectUnauthorized = options.rejectUnauthorized !== false;
    this.ticketKeys = options.ticketKeys ?? randomBytes(48);
    this.sessionIdContext = options.sessionIdContext ?? 'linger';
    this.sniCallback = options.SNICallback;
    this.context = this.createContext(options);
    this.socketOptions = { isServer: true, requestCert: this.requestCert, rejectUnauthorized: this.rejectUnauthorized, ALPNProtocols: ALPN };
  }

  /** New handshakes use `options`; connections already open keep the certificate they negotiated. */
  setSecureContext(options: tls.SecureContextOptions): void {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new UsageError('ERR_INVALID_OPTION', 'setSecureContext() needs an object of node:tls secure context options (key, cert, ...)');
    }
    // Built first: a bad key or certificate throws here and the old context stays in use.
    this.context = this.createContext(options);
  }

  private createContext(options: TlsOptions): SecureContext {
    const contextOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) if (!SOCKET_KEYS.has(key)) contextOptions[key] = value;
    contextOptions.ticketKeys ??= this.ticketKeys;
    contextOptions.sessionIdContext ??= this.sessionIdContext;
    try {
      return tls.createSecureContext(contextOptions as tls.SecureContextOptions);
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new UsageError('ERR_INVALID_TLS_OPTIONS', `tls options do not form a secure context: ${e.message}`);
    }
  }

  /** Starts the server side of a handshake on an accepted TCP socket. */
  wrap(socket: Socket, handshake: TlsHandshake): TLSSocket {
    const options: tls.TLSSocketOptions = { ...this.socketOptions, secureContext: this.context };
    const sni = this.sniCallback;
    if (sni !== undefined) {
      // An SNICallback that answers with an error is an unknown or refused server name.
      options.SNICallback = (servername, callback) => {
        sni(servername, (err, context) => {
          if (err !== null && err !== undefined) handshake.failure = 'tls-unknown-server-name';
          callback(err, context);
        });
      };
    }
    return new tls.TLSSocket(socket, options);
  }
}

export interface HandshakeHost {
  readonly sweeper: DeadlineSweeper;
  readonly handshakeTimeout: number;
  /** The handshake completed (and the client certificate, when required, was accepted). */
  secured(handshake: TlsHandshake, socket: TLSSocket): void;
  /** The socket is gone without ever carrying a request. */
  failed(handshake: TlsHandshake, reason: CloseReason): void;
}

/** One socket between TCP accept and a finished handshake; a deadline owner of the sweeper. */
export class TlsHandshake implements DeadlineOwner {
  deadline: number;
  /** Set when the cause of a failure is known before the socket closes. */
  failure: CloseReason | null = null;
  readonly socket: TLSSocket;
  private readonly host: HandshakeHost;
  private readonly transport: TlsTransport;
  private handedOver = false;
  private readonly onErrorListener = (err: NodeJS.ErrnoException): void => this.onError(err);
  private readonly onCloseListener = (): void => this.onClose();

  constructor(raw: Socket, transport: TlsTransport, host: HandshakeHost) {
    this.host = host;
    this.transport = transport;
    this.socket = transport.wrap(raw, this);
    // Set through the TLS socket, which passes it down to the TCP handle: then the engine's own
    // setNoDelay on this socket is a no-op, and it costs one setsockopt per connection (the listener
    // leaves it to this line), before the handshake writes anything.
    this.socket.setNoDelay(true);
    this.socket.once('secure', () => this.onSecure());
    this.socket.on('error', this.onErrorListener);
    this.socket.on('close', this.onCloseListener);
    this.deadline = host.sweeper.now + host.handshakeTimeout;
    host.sweeper.add(this);
  }

  private onSecure(): void {
    if (this.failure !== null) return;
    const socket = this.socket;
    if (this.transport.requestCert) {
      // node:tls accepts any certificate during the handshake and leaves the verdict to the server,
      // as node:https does in its 'secure' listener: the chain's verification result is read here.
      let verifyError = (socket as unknown as { _handle: { verifyError(): (Error & { code?: string }) | null } })._handle.verifyError();
      // A resumed TLS 1.3 session reports no error even when it never carried a certificate: no
      // certificate is never an authorized client.
      if (verifyError === null && socket.getPeerX509Certificate() === undefined) verifyError = Object.assign(new Error('no client certificate'), { code: 'NO_PEER_CERTIFICATE' });
      if (verifyError !== null) {
        socket.authorized = false;
        socket.authorizationError = (verifyError.code ?? verifyError.message) as unknown as Error;
        if (this.transport.rejectUnauthorized) {
          // The handshake finished, so the refusal is a clean close_notify and FIN, not a reset; the
          // handshake deadline still bounds how long the peer may take to answer with its own.
          this.failure = 'tls-client-cert-refused';
          socket.end();
          socket.resume();
          return;
        }
      } else {
        socket.authorized = true;
      }
    }
    this.handedOver = true;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    socket.off('error', this.onErrorListener);
    socket.off('close', this.onCloseListener);
    // What node:tls's own server does at this point: TLS errors from now on reach 'error' listeners.
    (socket as unknown as { _releaseControl(): boolean })._releaseControl();
    this.host.secured(this, socket);
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (this.failure !== null) return;
    const code = err.code ?? '';
    // OpenSSL's alert for a missing certificate under requestCert + rejectUnauthorized (RFC 8446 4.4.2.4).
    if (code.includes('PEER_DID_NOT_RETURN_A_CERTIFICATE') || code.includes('CERTIFICATE_REQUIRED')) this.failure = 'tls-client-cert-refused';
    else this.failure = 'tls-handshake-failed';
  }

  private onClose(): void {
    if (this.handedOver) return;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    this.host.failed(this, this.failure ?? 'tls-handshake-failed');
  }

  onDeadline(): void {
    this.failure ??= 'tls-handshake-timeout';
    // Nothing was sent that a reset could destroy: a client that never finishes its handshake is dropped.
    this.socket.destroy();
  }

  /** The shutdown deadline. */
  destroy(): void {
    this.failure ??= 'shutdown-forced';
    this.socket.destroy();
  }
}

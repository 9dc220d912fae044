// Public exports of linger; everything else is internal.

export { createServer, App, type AppOptions } from './app/app.js';
export { WebSocketHub, type WebSocketHandler, type WebSocketRouteOptions, type WebSocketHubOptions, type VerifyResult } from './ws/websocket-hub.js';
export type {
  Handler, RouteOptions, OnRequestHook, OnResponseHook, OnErrorHook, ErrorHandler, FetchHandler, FetchContext,
  ErrorLog, ErrorLogEntry, ErrorPhase, OnSendHook, SendBody,
} from './app/dispatch.js';
export { RouteGroup, type GroupOptions } from './app/route-group.js';
export { Request, DEFAULT_BODY_LIMIT, type RouteParams, type Locals } from './app/request.js';
export { Response, type Body } from './app/response.js';
export { serve, createFetchServer, FetchServer, type ServeOptions, type FetchServerOptions } from './app/serve.js';
export type { CookieOptions, CookieSecret } from './app/cookies.js';
export { cors, type CorsOptions, type CorsOrigin } from './app/cors.js';
export type { FormOptions, MultipartLimits, Part, FieldPart, FilePart } from './app/forms.js';
export { compress, negotiateEncoding, type CompressOptions, type Encoding } from './app/compression.js';
export { JsonLineLogger, type Logger } from './app/request-log.js';
export { serveStatic, type StaticOptions } from './app/static-files.js';
export type { FileOptions } from './app/file-response.js';
export { Server, CHANNELS, type ShutdownParticipant, type ListenOptions, type CloseOptions, type CloseResult, type ServerStats, type ServerPhase } from './server.js';
export type { InjectOptions, InjectResponse, InjectRawOptions, InjectRawResult, InjectStream } from './inject/inject.js';
export { DEFAULTS, type ServerOptions, type LingerOptions } from './connection/options.js';
export type { ServerTlsOptions } from './connection/tls-handshake.js';
export { HttpError } from './connection/http-error.js';
export { CLOSE_REASONS, LINGER_OUTCOMES, type CloseReason, type LingerOutcome } from './connection/lifecycle-stats.js';
export { ProtocolError, UsageError } from './http1/protocol-error.js';
export { gracefulShutdown, EXIT_CODES, type GracefulShutdownOptions, type ShutdownInfo } from './graceful-shutdown.js';
export { inheritedListenFds, LISTEN_FDS_START } from './socket-activation.js';
export { Cluster, runCluster, type ClusterOptions, type ClusterStopResult, type BackoffOptions, type WorkerInfo } from './cluster/index.js';

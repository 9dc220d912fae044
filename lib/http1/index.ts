// The pure HTTP/1.1 protocol layer: no sockets, no timers, bytes in and values out.

export * from './protocol-error.js';
export * from './header-validation.js';
export * from './request-parser.js';
export * from './body-decoder.js';
export * from './status-codes.js';
export * from './date-cache.js';
export * from './head-writer.js';
export * from './chunked-encoder.js';

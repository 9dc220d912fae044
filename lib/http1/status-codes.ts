// Reason phrases (RFC 9110 15) and cached status lines, so writing a head never formats a number.

import { isValidHeaderValue } from './header-validation.js';
import { UsageError } from './protocol-error.js';

export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Content', 423: 'Locked',
  424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates',
  507: 'Insufficient Storage', 508: 'Loop Detected', 510: 'Not Extended', 511: 'Network Authentication Required',
});

/** Status lines by code, built up front for the known codes and on first use for the others. */
const LINES: Array<string | undefined> = new Array<string | undefined>(1000).fill(undefined);
for (const code of Object.keys(STATUS_TEXT)) LINES[Number(code)] = `HTTP/1.1 ${code} ${STATUS_TEXT[Number(code)]!}\r\n`;

/** "HTTP/1.1 200 OK\r\n". Unknown codes get an empty reason: status-line = HTTP-version SP status-code SP
 * [ reason-phrase ] CRLF (RFC 9112 4), and clients must not depend on the phrase anyway. */
export function statusLine(status: number, reason?: string): string {
  if (reason === undefined) {
    const cached = LINES[status];
    if (cached !== undefined) return cached;
  }
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new UsageError('ERR_INVALID_STATUS', `invalid status code ${String(status)}`);
  }
  if (reason !== undefined) {
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): CR or LF here would split the response.
    if (!isValidHeaderValue(reason)) throw new UsageError('ERR_INVALID_STATUS_MESSAGE', 'status message must not contain CR, LF or other control bytes');
    return `HTTP/1.1 ${status} ${reason}\r\n`;
  }
  const line = `HTTP/1.1 ${status} \r\n`;
  LINES[status] = line;
  return line;
}

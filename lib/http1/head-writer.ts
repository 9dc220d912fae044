// Response heads as strings: status line, headers, the engine's framing lines; and the complete,
// cached responses the engine sends on its own (protocol errors, 100 Continue).

import { httpDate } from './date-cache.js';
import { STATUS_TEXT, statusLine } from './status-codes.js';

export const CONTINUE_RESPONSE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Names and values were validated when set; `extra` is pre-formatted lines, each ending in CRLF. */
export function serializeHead(status: number, reason: string | undefined, headers: readonly string[], extra: string): string {
  let head = statusLine(status, reason);
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  return `${head}${extra}\r\n`;
}

const errorParts: Array<[string, string]> = [];

export function errorResponse(status: number): string {
  let parts = errorParts[status];
  if (parts === undefined) {
    const body = `${STATUS_TEXT[status] ?? 'Error'}\n`;
    parts = [
      statusLine(status),
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    ];
    errorParts[status] = parts;
  }
  return `${parts[0]}Date: ${httpDate()}\r\n${parts[1]}`;
}

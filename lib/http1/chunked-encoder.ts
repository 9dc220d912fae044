// Chunked transfer coding for responses (RFC 9112 7.1): size lines, the last chunk, trailers.

import { isToken, isValidHeaderValue } from './header-validation.js';
import { UsageError } from './protocol-error.js';

export const CHUNK_END = '\r\n';
export const LAST_CHUNK = '0\r\n\r\n';

export function chunkHeader(byteLength: number): string {
  return `${byteLength.toString(16)}\r\n`;
}

/** Trailers come from the application: validated here, since this is where they become bytes. */
export function lastChunkWithTrailers(trailers: readonly string[]): string {
  let text = '0\r\n';
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = trailers[i]!;
    const value = trailers[i + 1]!;
    if (!isToken(name) || !isValidHeaderValue(value)) {
      throw new UsageError('ERR_INVALID_TRAILER', `invalid trailer ${JSON.stringify(name)}`);
    }
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

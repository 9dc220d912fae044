// Typed errors: ProtocolError for bad bytes from a peer (carries the HTTP status to answer with),
// UsageError for API misuse by the application (carries a stable code, never sent to a peer).

/**
 * ProtocolError codes (status):
 *   ERR_INVALID_REQUEST_LINE 400, ERR_INVALID_METHOD 400, ERR_INVALID_TARGET 400, ERR_URI_TOO_LONG 414,
 *   ERR_INVALID_VERSION 400, ERR_UNSUPPORTED_VERSION 505, ERR_TOO_MANY_EMPTY_LINES 400,
 *   ERR_BARE_LF 400, ERR_INVALID_HEADER_NAME 400, ERR_WHITESPACE_BEFORE_COLON 400, ERR_OBS_FOLD 400,
 *   ERR_INVALID_HEADER_VALUE 400 (NUL, CTL, bare CR), ERR_HEAD_TOO_LARGE 431, ERR_TOO_MANY_HEADERS 431,
 *   ERR_MISSING_HOST 400, ERR_DUPLICATE_HOST 400, ERR_INVALID_HOST 400,
 *   ERR_INVALID_CONTENT_LENGTH 400, ERR_CONFLICTING_CONTENT_LENGTH 400,
 *   ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING 400, ERR_TRANSFER_ENCODING_NOT_CHUNKED 400,
 *   ERR_UNSUPPORTED_TRANSFER_CODING 501, ERR_TRANSFER_ENCODING_HTTP10 400, ERR_CHUNKED_TWICE 400,
 *   ERR_UNSUPPORTED_EXPECTATION 417,
 *   ERR_INVALID_CHUNK_SIZE 400, ERR_CHUNK_SIZE_TOO_LARGE 400, ERR_MISSING_CHUNK_CRLF 400,
 *   ERR_INVALID_CHUNK_EXTENSION 400, ERR_CHUNK_LINE_TOO_LONG 400, ERR_TRAILER_TOO_LARGE 431,
 *   ERR_INVALID_TRAILER 400.
 */
export class ProtocolError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.status = status;
  }
}

export class UsageError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

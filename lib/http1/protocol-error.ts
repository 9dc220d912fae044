// Typed errors: ProtocolError for bad bytes from a peer (carries the HTTP status to answer with),
// UsageError for API misuse by the application (carries a stable code, never sent to a peer).

/**
 * ProtocolError codes, one per rule, with the status the engine answers before closing:
 *
 * Request line (RFC 9112 3)
 *   ERR_INVALID_REQUEST_LINE      400  not method SP request-target SP HTTP-version CRLF (e.g. no version, HTTP/0.9)
 *   ERR_INVALID_METHOD            400  method empty or not a token
 *   ERR_INVALID_TARGET            400  byte outside 0x21-0x7E, empty, or a form not allowed for the method (3.2)
 *   ERR_URI_TOO_LONG              414  request-target longer than maxUriLength
 *   ERR_INVALID_VERSION           400  not "HTTP/" DIGIT "." DIGIT (2.3)
 *   ERR_UNSUPPORTED_VERSION       505  well-formed but not HTTP/1.0 or HTTP/1.1
 *   ERR_TOO_MANY_EMPTY_LINES      400  more than 4 empty lines before the request line (2.2)
 * Line endings (RFC 9112 2.2)
 *   ERR_BARE_LF                   400  a line ended by LF without CR
 *   ERR_BARE_CR                   400  CR not followed by LF outside a field value
 * Header fields (RFC 9112 5, RFC 9110 5)
 *   ERR_INVALID_HEADER_NAME       400  field name empty or not a token, or no colon
 *   ERR_WHITESPACE_BEFORE_COLON   400  SP/HTAB between name and colon (5.1)
 *   ERR_OBS_FOLD                  400  a line starting with SP/HTAB (5.2)
 *   ERR_INVALID_HEADER_VALUE      400  NUL, another CTL, DEL or a bare CR in a field value (RFC 9110 5.5)
 *   ERR_HEAD_TOO_LARGE            431  head longer than maxHeaderSize (request line, fields and CRLFs)
 *   ERR_TOO_MANY_HEADERS          431  more field lines than maxHeaderCount
 *   ERR_MISSING_HOST              400  HTTP/1.1 request without Host (3.2)
 *   ERR_DUPLICATE_HOST            400  more than one Host
 *   ERR_INVALID_HOST              400  Host value with a byte outside 0x21-0x7E
 * Message framing (RFC 9112 6, RFC 9110 8.6, 10.1.1)
 *   ERR_INVALID_CONTENT_LENGTH    400  not 1*DIGIT, empty, signed, or more than 15 digits after leading zeros
 *   ERR_CONFLICTING_CONTENT_LENGTH 400 differing values, in one field or across fields
 *   ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING 400  both present (6.3: request smuggling)
 *   ERR_TRANSFER_ENCODING_NOT_CHUNKED 400  the final transfer coding is not chunked
 *   ERR_UNSUPPORTED_TRANSFER_CODING 501  a coding other than chunked (e.g. gzip, chunked)
 *   ERR_TRANSFER_ENCODING_HTTP10  400  Transfer-Encoding in an HTTP/1.0 request
 *   ERR_CHUNKED_TWICE             400  chunked listed more than once
 *   ERR_UNSUPPORTED_EXPECTATION   417  an Expect member other than 100-continue on HTTP/1.1
 * Chunked body (RFC 9112 7.1)
 *   ERR_INVALID_CHUNK_SIZE        400  chunk-size not 1*HEXDIG, or junk after it
 *   ERR_CHUNK_SIZE_TOO_LARGE      400  chunk-size above 2^53-1
 *   ERR_MISSING_CHUNK_CRLF        400  size line, chunk data or the body not ended by CRLF
 *   ERR_INVALID_CHUNK_EXTENSION   400  chunk-ext not ( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
 *   ERR_CHUNK_LINE_TOO_LONG       400  chunk size line longer than maxChunkLineLength
 *   ERR_TRAILER_TOO_LARGE         431  trailer section longer than maxTrailerSize
 *   ERR_INVALID_TRAILER           400  a trailer line that is not a valid field line
 *
 * CONNECT (authority-form) heads parse; the engine answers them 501, as an origin server is no tunnel.
 *
 * UsageError codes from this layer: ERR_INVALID_STATUS (status outside 100-999), ERR_INVALID_STATUS_MESSAGE
 * (reason phrase with CR, LF or CTLs), ERR_INVALID_TRAILER (application trailer that would split the body).
 */
export class ProtocolError extends Error {
  /** The status the engine answers with before closing; same name and constructor order as HttpError. */
  readonly statusCode: number;
  readonly code: string;

  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.statusCode = statusCode;
    this.code = code;
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

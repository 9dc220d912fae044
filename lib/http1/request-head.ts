// What the request parser is given and gives back: its limits and the RequestHead of one request,
// the values of the fields that frame the message or steer the connection already decided.

export interface ParserLimits {
  /** Total head bytes including the request line, every CRLF and the final empty line -> 431. */
  maxHeaderSize: number;
  /** Header field lines -> 431. */
  maxHeaderCount: number;
  /** Length of the request-target -> 414. */
  maxUriLength: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxHeaderSize: 16_384,
  maxHeaderCount: 100,
  maxUriLength: 8_192,
});

export class RequestHead {
  /** As sent: methods are case-sensitive (RFC 9110 9.1). */
  method = '';
  target = '';
  versionMinor = 1;
  /** Flat [name, value, ...]; names as sent, values without surrounding SP/HTAB. */
  rawHeaders: string[];
  /** null only when an HTTP/1.0 request has no Host. */
  host: string | null = null;
  /** -1 when there is no Content-Length. */
  contentLength = -1;
  chunked = false;
  keepAlive = true;
  expectContinue = false;
  /** The Upgrade value when Connection lists "upgrade", else null (RFC 9110 7.8). */
  upgrade: string | null = null;
  /** Bytes of the head, including any ignored leading empty lines and the final CRLF. */
  headBytes = 0;

  // Given, not defaulted: an initial [] would be one more array per request, thrown away at once.
  constructor(rawHeaders: string[]) {
    this.rawHeaders = rawHeaders;
  }
}

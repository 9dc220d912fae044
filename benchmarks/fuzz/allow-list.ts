// The differences from Node's llhttp that are deliberate: each names the rule linger applies (or
// llhttp applies and linger, per the RFC, does not) and how to recognise it in a differential run.

import { METHODS } from 'node:http';
import type { Outcome } from './harness.js';

export interface MatchContext {
  input: Buffer;
  /** linger's parser ending: an error code, closed:<reason>, idle, partial-head, partial-body. */
  lingerEnd: string;
  /** node's llhttp error code, when a clientError fired. */
  nodeCode: string | null;
  /** Statuses of node's final responses, in order. */
  nodeStatuses: number[];
  /** Index of the first request one server served and the other did not. */
  at: number;
  outcome: Outcome;
}

export interface AllowEntry {
  id: string;
  /** linger-rejects: linger stops serving where node goes on; node-rejects: the reverse. */
  direction: 'linger-rejects' | 'node-rejects';
  rfc: string;
  why: string;
  matches(ctx: MatchContext): boolean;
}

/** The bytes of the request the two servers part ways on: from its first byte to the end of the input. */
function rest(ctx: MatchContext): string {
  const start = ctx.outcome.messages[ctx.at]?.start ?? ctx.outcome.lastStart;
  return ctx.input.toString('latin1', start, ctx.input.length);
}

/** Its request line, after any leading empty lines. */
function requestLine(ctx: MatchContext): string {
  const text = rest(ctx).replace(/^(\r\n)+/, '');
  const eol = text.search(/\r|\n/);
  return eol < 0 ? text : text.slice(0, eol);
}

/** That request as linger framed it (head, body and trailers), or the rest when linger never framed it. */
function messageText(ctx: MatchContext, k = ctx.at): string {
  const m = ctx.outcome.messages[k];
  if (m === undefined) return rest(ctx);
  const next = ctx.outcome.messages[k + 1]?.start ?? (k === ctx.outcome.messages.length - 1 ? ctx.outcome.lastStart : ctx.input.length);
  return ctx.input.toString('latin1', m.start, next > m.start ? next : ctx.input.length);
}

/** The Content-Length values of that request (head and trailers), list members split, OWS trimmed. */
function contentLengths(ctx: MatchContext): { values: string[]; htab: boolean } {
  const lines = [...messageText(ctx).matchAll(/\r\ncontent-length:([^\r\n]*)/gi)].map((m) => m[1]!);
  return { values: lines.flatMap((v) => v.split(',').map((x) => x.replace(/^[ \t]+|[ \t]+$/g, ''))), htab: lines.some((v) => v.includes('\t')) };
}

const sameNumber = (values: string[]): boolean => values.length > 0 && values.every((v) => /^\d+$/.test(v) && Number(v) === Number(values[0]));

const LLHTTP_METHODS = new Set(METHODS);

export const ALLOW_LIST: readonly AllowEntry[] = [
  {
    id: 'asterisk-form-only-for-options',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 3.2.4',
    why: 'asterisk-form is only used with OPTIONS; llhttp accepts "*" as the target of any method',
    matches: (c) => c.lingerEnd === 'ERR_INVALID_TARGET' && requestLine(c).split(' ')[1] === '*',
  },
  {
    id: 'request-target-form',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 3.2',
    why: 'a target is origin-form ("/..."), absolute-form with http or https, authority-form for CONNECT only, or "*"; llhttp accepts any visible string',
    matches: (c) => {
      const parts = requestLine(c).split(' ');
      return c.lingerEnd === 'ERR_INVALID_TARGET' && parts.length === 3 && parts[1] !== '' && !parts[1]!.startsWith('/');
    },
  },
  {
    id: 'single-sp-request-line',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 3',
    why: 'the request line is method SP target SP version with single SPs; llhttp skips extra spaces',
    matches: (c) =>
      ['ERR_INVALID_TARGET', 'ERR_INVALID_METHOD', 'ERR_INVALID_VERSION', 'ERR_INVALID_REQUEST_LINE'].includes(c.lingerEnd) &&
      /^ | {2}| $/.test(requestLine(c)),
  },
  {
    id: 'http09-request-line',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 2.3, 3',
    why: 'a request line without an HTTP version is HTTP/0.9, which linger does not serve; llhttp answers it as a request',
    matches: (c) => c.lingerEnd === 'ERR_INVALID_REQUEST_LINE' && requestLine(c).split(' ').length === 2,
  },
  {
    id: 'bare-lf',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 2.2',
    why: 'lines end in CRLF; a recipient MAY accept a bare LF and linger does not anywhere. llhttp accepts it before the request line and after an HTTP/0.9 one',
    matches: (c) => c.lingerEnd === 'ERR_BARE_LF',
  },
  {
    id: 'connection-close-htab-ows',
    direction: 'linger-rejects',
    rfc: 'RFC 9110 5.5, 5.6.1, 7.6.1',
    why: '"close" followed by HTAB (OWS) is still close, so linger stops after that request; llhttp does not see the option and reads on',
    matches: (c) => {
      if (c.lingerEnd !== 'closed:close' || c.at === 0) return false;
      return [...messageText(c, c.at - 1).matchAll(/\r\nconnection:([^\r\n]*)/gi)].some((l) => l[1]!.includes('\t'));
    },
  },
  {
    id: 'unsupported-major-version',
    direction: 'linger-rejects',
    rfc: 'RFC 9110 15.6.6, RFC 9112 2.3',
    why: 'HTTP/2.0 (or any version other than 1.0 and 1.1) in an HTTP/1 request line gets 505; llhttp parses it as HTTP/1',
    matches: (c) => c.lingerEnd === 'ERR_UNSUPPORTED_VERSION',
  },
  {
    id: 'duplicate-host',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 3.2',
    why: 'a server MUST answer 400 to a request with more than one Host field line; llhttp leaves it to the application',
    matches: (c) => c.lingerEnd === 'ERR_DUPLICATE_HOST',
  },
  {
    id: 'invalid-host',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 3.2, RFC 9110 7.2',
    why: 'a Host value with SP, HTAB or obs-text is not uri-host[:port]; 400 is required for an invalid Host',
    matches: (c) => c.lingerEnd === 'ERR_INVALID_HOST',
  },
  {
    id: 'transfer-encoding-in-http10',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 6.1',
    why: 'Transfer-Encoding in an HTTP/1.0 request means faulty framing (a smuggling vector); llhttp decodes it as chunked',
    matches: (c) => c.lingerEnd === 'ERR_TRANSFER_ENCODING_HTTP10',
  },
  {
    id: 'transfer-encoding-not-chunked',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 6.3',
    why: 'a request whose Transfer-Encoding does not end in chunked (an empty value included) has no reliable length: 400; llhttp treats an empty value as no body',
    matches: (c) => c.lingerEnd === 'ERR_TRANSFER_ENCODING_NOT_CHUNKED',
  },
  {
    id: 'content-length-with-transfer-encoding',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 6.1, 6.3',
    why: 'Content-Length together with any Transfer-Encoding, an empty one included, is refused (the smuggling shape); llhttp ignores an empty Transfer-Encoding and frames by Content-Length',
    matches: (c) => c.lingerEnd === 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING',
  },
  {
    id: 'unsupported-transfer-coding',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 6.1',
    why: 'a transfer coding other than chunked (gzip, deflate, ...) gets 501; llhttp passes the still-encoded body on',
    matches: (c) => c.lingerEnd === 'ERR_UNSUPPORTED_TRANSFER_CODING',
  },
  {
    id: 'chunk-extension-grammar',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 7.1.1',
    why: 'chunk-ext is ";" token ["=" (token / quoted-string)]; llhttp accepts empty names and other malformed extensions',
    matches: (c) => c.lingerEnd === 'ERR_INVALID_CHUNK_EXTENSION',
  },
  {
    id: 'bare-cr',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 2.2',
    why: 'a bare CR MUST be treated as invalid (or replaced by SP); linger refuses it, llhttp skips it among leading empty lines',
    matches: (c) => c.lingerEnd === 'ERR_BARE_CR',
  },
  {
    id: 'expect-only-100-continue',
    direction: 'linger-rejects',
    rfc: 'RFC 9110 10.1.1',
    why: 'an Expect member other than 100-continue gets 417; node takes any value containing "100-continue" as 100-continue',
    matches: (c) => c.lingerEnd === 'ERR_UNSUPPORTED_EXPECTATION',
  },
  {
    id: 'leading-empty-lines',
    direction: 'linger-rejects',
    rfc: 'RFC 9112 2.2',
    why: 'at most 4 empty lines before a request line are ignored (the RFC asks for at least one); more is not a client',
    matches: (c) => c.lingerEnd === 'ERR_TOO_MANY_EMPTY_LINES',
  },
  {
    id: 'any-token-method',
    direction: 'node-rejects',
    rfc: 'RFC 9110 9.1, 9.2',
    why: 'a method is any token and case-sensitive; unknown ones are for the application (405/501). llhttp knows a fixed list',
    matches: (c) => c.nodeCode === 'HPE_INVALID_METHOD' && c.outcome.messages[c.at] !== undefined && !LLHTTP_METHODS.has(c.outcome.messages[c.at]!.method),
  },
  {
    id: 'chunk-extension-bws',
    direction: 'node-rejects',
    rfc: 'RFC 9112 7.1.1',
    why: 'BWS is allowed around the ";" and "=" of a chunk extension; llhttp rejects a space after the chunk size or around "="',
    matches: (c) =>
      (c.nodeCode === 'HPE_INVALID_CHUNK_SIZE' || c.nodeCode === 'HPE_STRICT') &&
      rest(c).split('\r\n').some((line) => /^[0-9A-Fa-f]+[ \t]*;/.test(line) && /[ \t][;=]|[;=][ \t]/.test(line)),
  },
  {
    id: 'identical-content-lengths',
    direction: 'node-rejects',
    rfc: 'RFC 9110 8.6, RFC 9112 6.3',
    why: 'repeated Content-Length values that are all the same number may be taken as one length; llhttp rejects any repetition',
    matches: (c) => {
      if (c.nodeCode !== 'HPE_UNEXPECTED_CONTENT_LENGTH' && c.nodeCode !== 'HPE_INVALID_CONTENT_LENGTH') return false;
      const { values } = contentLengths(c);
      return values.length > 1 && sameNumber(values);
    },
  },
  {
    id: 'content-length-htab-ows',
    direction: 'node-rejects',
    rfc: 'RFC 9110 5.5, 5.6.3',
    why: 'OWS around a field value is SP or HTAB; llhttp rejects an HTAB after the Content-Length digits',
    matches: (c) => {
      if (c.nodeCode !== 'HPE_INVALID_CONTENT_LENGTH') return false;
      const { values, htab } = contentLengths(c);
      return htab && sameNumber(values);
    },
  },
  {
    id: 'framing-fields-in-trailers',
    direction: 'node-rejects',
    rfc: 'RFC 9110 6.5.1, 6.5.2',
    why: 'trailer fields never frame the message (the body has ended); linger keeps them apart and does not validate them as Content-Length or Transfer-Encoding, llhttp does',
    matches: (c) => {
      const m = c.outcome.messages[c.at];
      if (m === undefined || !m.chunked || !(c.nodeCode ?? '').match(/^HPE_(INVALID_TRANSFER_ENCODING|INVALID_CONTENT_LENGTH|UNEXPECTED_CONTENT_LENGTH)$/)) return false;
      return m.trailers.some((v, i) => i % 2 === 0 && /^(content-length|transfer-encoding)$/i.test(v));
    },
  },
  {
    id: 'empty-list-elements-in-transfer-encoding',
    direction: 'node-rejects',
    rfc: 'RFC 9110 5.6.1, RFC 9112 6.1',
    why: 'a recipient MUST ignore empty list elements, so "chunked,," ends in chunked; llhttp refuses the value',
    matches: (c) => {
      const m = c.outcome.messages[c.at];
      if (m === undefined || !m.chunked || c.nodeCode !== 'HPE_INVALID_TRANSFER_ENCODING') return false;
      const te = m.rawHeaders.filter((_, i) => i % 2 === 1 && /^transfer-encoding$/i.test(m.rawHeaders[i - 1]!));
      return te.some((v) => /(^|,)[ \t]*(,|$)/.test(v));
    },
  },
  {
    id: 'empty-expect',
    direction: 'node-rejects',
    rfc: 'RFC 9110 10.1.1, 5.6.1',
    why: 'Expect is a list; an empty value (or only commas) holds no expectation, so the request is served. node answers 417 to any value without "100-continue"',
    matches: (c) => {
      const m = c.outcome.messages[c.at];
      if (m === undefined || c.nodeStatuses[c.at] !== 417) return false;
      const expects = m.rawHeaders.filter((_, i) => i % 2 === 1 && /^expect$/i.test(m.rawHeaders[i - 1]!));
      return expects.length > 0 && expects.every((v) => /^[ \t,]*$/.test(v));
    },
  },
  {
    id: 'transfer-encoding-htab-ows',
    direction: 'node-rejects',
    rfc: 'RFC 9110 5.5, 5.6.1',
    why: 'OWS around a field value or a list element is SP or HTAB; llhttp rejects an HTAB around "chunked"',
    matches: (c) => {
      const m = c.outcome.messages[c.at];
      if (m === undefined || !m.chunked || c.nodeCode !== 'HPE_INVALID_TRANSFER_ENCODING') return false;
      return [...messageText(c).matchAll(/\r\ntransfer-encoding:([^\r\n]*)/gi)].some((l) => l[1]!.includes('\t'));
    },
  },
  {
    id: 'connection-in-trailers',
    direction: 'node-rejects',
    rfc: 'RFC 9110 6.5.1, 7.6.1',
    why: 'a trailer field does not manage the connection; linger ignores Connection: close sent as a trailer, llhttp closes on it',
    matches: (c) => {
      const m = c.outcome.messages[c.at - 1];
      if (m === undefined || !m.chunked || c.nodeCode !== 'HPE_CLOSED_CONNECTION') return false;
      return m.trailers.some((v, i) => i % 2 === 0 && /^connection$/i.test(v));
    },
  },
  {
    id: 'visible-ascii-target',
    direction: 'node-rejects',
    rfc: 'RFC 9112 3.2, RFC 3986 2',
    why: 'linger takes any visible US-ASCII in a target (browsers send some unescaped, e.g. | ^ " in queries) and leaves URL syntax to the router; llhttp refuses some of them',
    matches: (c) => c.nodeCode === 'HPE_INVALID_URL' && c.outcome.messages[c.at] !== undefined,
  },
];

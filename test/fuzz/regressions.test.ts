// Every disagreement the fuzz runs found, as a plain input with its expected verdict: fixed ones must
// agree with node:http from then on, deliberate ones must stay recognised by their allow-list entry.

import t from 'tap';
import { compare, startServers, type ServerPair } from '../../benchmarks/fuzz/differential.js';
import { ALLOW_LIST } from '../../benchmarks/fuzz/allow-list.js';
import { checkInput, cutsFor } from '../../benchmarks/fuzz/harness.js';

const H = 'Host: a\r\n';
const CHUNKED = `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;

interface Case {
  name: string;
  input: string;
  /** 'agree', or the allow-list entry that must explain the difference. */
  expect: string;
  /** Requests linger serves (its engine must match its parser's prediction in every case). */
  linger: number;
  node: number;
}

const CASES: Case[] = [
  // Fixed in linger (the Content-Length rule, now in head-fields.ts): more than 15 digits of which the leading ones are zeros.
  { name: 'Content-Length of 200 zeros', input: `POST /x HTTP/1.1\r\n${H}Content-Length: ${'0'.repeat(200)}\r\n\r\n`, expect: 'agree', linger: 1, node: 1 },
  { name: 'Content-Length with leading zeros', input: `POST /x HTTP/1.1\r\n${H}Content-Length: ${'0'.repeat(30)}3\r\n\r\nabc`, expect: 'agree', linger: 1, node: 1 },
  // Fixed in the harness (the model was wrong, not linger): an upgrade request's body is read before the bytes are held.
  { name: 'upgrade request with a chunked body', input: `GET /chat HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: 'agree', linger: 1, node: 1 },
  // Fixed in the oracle: node's default clientError handler loses earlier pipelined responses.
  { name: 'garbage after a complete request', input: `GET / HTTP/1.1\r\n${H}\r\n\x16\x03\x01\x00`, expect: 'agree', linger: 1, node: 1 },
  { name: 'bytes after Connection: close', input: `GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, expect: 'agree', linger: 1, node: 1 },
  // Deliberate: linger is stricter.
  { name: 'asterisk-form with GET', input: `GET * HTTP/1.1\r\n${H}\r\n`, expect: 'asterisk-form-only-for-options', linger: 0, node: 1 },
  { name: 'absolute-form with another scheme', input: `GET htxamtp://example.com/path HTTP/1.1\r\n${H}\r\n`, expect: 'request-target-form', linger: 0, node: 1 },
  { name: 'two spaces in the request line', input: `GET  / HTTP/1.1\r\n${H}\r\n`, expect: 'single-sp-request-line', linger: 0, node: 1 },
  { name: 'HTTP/0.9 request line', input: 'GET /\r\n\r\n', expect: 'http09-request-line', linger: 0, node: 1 },
  { name: 'bare LF before the request line', input: '\n\r\nGET /\r\n\r\n', expect: 'bare-lf', linger: 0, node: 1 },
  { name: 'HTTP/0.9 line ended by a bare LF', input: `GET /1\n${H}\r\n`, expect: 'bare-lf', linger: 0, node: 1 },
  { name: 'bare CR among leading empty lines', input: `\r\n\r\n\r\r\nGET / HTTP/1.1\r\n${H}\r\n`, expect: 'bare-cr', linger: 0, node: 1 },
  { name: 'Connection: close followed by HTABs', input: `GET /1 HTTP/1.1\r\n${H}Connection: close\t\t\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, expect: 'connection-close-htab-ows', linger: 1, node: 2 },
  { name: 'HTTP/2.0 request line', input: `GET / HTTP/2.0\r\n${H}\r\n`, expect: 'unsupported-major-version', linger: 0, node: 1 },
  { name: 'two Host fields', input: `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`, expect: 'duplicate-host', linger: 0, node: 1 },
  { name: 'Host with a space', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', expect: 'invalid-host', linger: 0, node: 1 },
  { name: 'Transfer-Encoding in HTTP/1.0', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: 'transfer-encoding-in-http10', linger: 0, node: 1 },
  { name: 'empty Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, expect: 'transfer-encoding-not-chunked', linger: 0, node: 2 },
  { name: 'empty Transfer-Encoding with Content-Length', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\nContent-Length: 4\r\n\r\nabcd`, expect: 'content-length-with-transfer-encoding', linger: 0, node: 1 },
  { name: 'gzip, chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, expect: 'unsupported-transfer-coding', linger: 0, node: 1 },
  { name: 'chunk extension without a name', input: `${CHUNKED}3;=x\r\nabc\r\n0\r\n\r\n`, expect: 'chunk-extension-grammar', linger: 0, node: 1 },
  { name: 'Expect member that merely contains 100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 00-continect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`, expect: 'expect-only-100-continue', linger: 0, node: 1 },
  { name: 'six leading empty lines', input: `${'\r\n'.repeat(6)}GET / HTTP/1.1\r\n${H}\r\n`, expect: 'leading-empty-lines', linger: 0, node: 1 },
  // Deliberate: linger follows the RFC where llhttp is stricter.
  { name: 'lower-case method', input: `get / HTTP/1.1\r\n${H}\r\n`, expect: 'any-token-method', linger: 1, node: 0 },
  { name: 'BWS before a chunk extension', input: `${CHUNKED}3 ;x=1\r\nabc\r\n0\r\n\r\n`, expect: 'chunk-extension-bws', linger: 1, node: 0 },
  { name: 'SP and HTABs before a chunk extension', input: `${CHUNKED}3 \t\t;x=1\r\nabc\r\n0\r\n\r\n`, expect: 'chunk-extension-bws', linger: 1, node: 0 },
  { name: 'BWS around "=" in a chunk extension', input: `${CHUNKED}3;x = 1\r\nabc\r\n0\r\n\r\n`, expect: 'chunk-extension-bws', linger: 1, node: 0 },
  { name: 'Content-Length: 3, 3', input: `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, expect: 'identical-content-lengths', linger: 1, node: 0 },
  { name: 'two identical Content-Length fields', input: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, expect: 'identical-content-lengths', linger: 1, node: 0 },
  { name: 'HTAB after the Content-Length digits', input: `POST / HTTP/1.1\r\n${H}Content-Length: 3\t\t\r\n\r\nabc`, expect: 'content-length-htab-ows', linger: 1, node: 0 },
  { name: 'HTAB after chunked', input: `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked\t\t\r\n\r\n0\r\n\r\n`, expect: 'transfer-encoding-htab-ows', linger: 1, node: 0 },
  { name: 'Transfer-Encoding as a trailer', input: `${CHUNKED}3\r\nabc\r\n0\r\nTransfer-Encoding: chunke\xe4\r\n\r\n`, expect: 'framing-fields-in-trailers', linger: 1, node: 0 },
  { name: 'Transfer-Encoding: chunked,,', input: `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked,,\r\n\r\n1\r\nx\r\n0\r\n\r\n`, expect: 'empty-list-elements-in-transfer-encoding', linger: 1, node: 0 },
  { name: 'empty Expect', input: `POST /e HTTP/1.1\r\n${H}Expect: \r\nContent-Length: 0\r\n\r\n`, expect: 'empty-expect', linger: 1, node: 0 },
  { name: 'Connection: close as a trailer', input: `${CHUNKED}1\r\nx\r\n0\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, expect: 'connection-in-trailers', linger: 2, node: 1 },
  { name: 'quote and backslash in an absolute-form authority', input: `GET HTTPS://Example;q="a\\"b".com:8443/ HTTP/1.1\r\n${H}\r\n`, expect: 'visible-ascii-target', linger: 1, node: 0 },
];

let pair: ServerPair;
t.before(async () => {
  pair = await startServers();
});
t.teardown(() => pair.close());

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const input = Buffer.from(c.input, 'latin1');
    // The parser side holds its invariants whole, split and byte by byte.
    checkInput(input, [cutsFor(input.length, () => 0, true), [1], [input.length - 1]]);
    const v = await compare(pair, input);
    t.equal(v.linger.served.length, c.linger, 'requests linger served');
    t.equal(v.node.served.length, c.node, 'requests node served');
    t.same(v.linger.served, v.predicted, "linger's engine serves what its parser predicts");
    t.equal(v.result === 'disagree' ? `disagree: ${v.detail}` : (v.allowedBy?.id ?? 'agree'), c.expect);
  });
}

t.test('every allow-list entry is exercised by a case above and names its RFC section', async (t) => {
  const used = new Set(CASES.map((c) => c.expect));
  for (const e of ALLOW_LIST) {
    t.ok(used.has(e.id), `${e.id} has a regression case`);
    t.match(e.rfc, /^RFC 9\d{3} \d/, `${e.id} cites an RFC section`);
    t.ok(e.why.length > 20, `${e.id} says why`);
  }
});

// The keep-alive policy as a table, without sockets: for each moment of a connection's life, the
// facts in and the decision out (reuse, close after this response, close now) with its reason.

import t from 'tap';
import {
  atPeerEnd, atRequestHead, atResponseEnd, atResponseHead, whenIdle,
  CLOSE_AFTER_RESPONSE, CLOSE_NOW, KEEP, REUSE, type Decision, type RequestFacts, type ResponseFacts,
} from '../../lib/connection/keep-alive-policy.js';
import type { CloseReason } from '../../lib/connection/lifecycle-stats.js';

const limits = { maxRequestsPerSocket: 100, maxConnectionAge: 3_600_000, maxDiscardBody: 65_536 };
const NOW = 10_000_000;
const young = { acceptedAt: NOW - 1_000, pendingClose: null };
const old = { acceptedAt: NOW - 3_600_000, pendingClose: null };

function verdict(d: Decision): string {
  return d.verdict === REUSE ? 'reuse' : d.verdict === CLOSE_AFTER_RESPONSE ? `close after: ${d.reason}` : `close now: ${d.reason}`;
}

t.test('at a request head', async (t) => {
  const head = { method: 'GET', keepAlive: true, upgrade: null };
  const rows: Array<[string, Parameters<typeof atRequestHead>, string]> = [
    ['an ordinary keep-alive request', [head, 1, false, limits], 'reuse'],
    ['Connection: close (or HTTP/1.0 without keep-alive)', [{ ...head, keepAlive: false }, 1, false, limits], 'close after: client-connection-close'],
    ['the request that uses up maxRequestsPerSocket', [head, 100, false, limits], 'close after: max-requests'],
    ['one before the limit', [head, 99, false, limits], 'reuse'],
    ['no limit (0)', [head, 1_000_000, false, { ...limits, maxRequestsPerSocket: 0 }], 'reuse'],
    ['during shutdown', [head, 1, true, limits], 'close after: shutdown-after-response'],
    ['an Upgrade request (if answered normally)', [{ ...head, upgrade: 'websocket' }, 1, false, limits], 'close after: upgrade-declined'],
    ['CONNECT', [{ ...head, method: 'CONNECT' }, 1, false, limits], 'close after: connect-refused'],
    ['the client\'s close wins over the limit', [{ ...head, keepAlive: false }, 100, true, limits], 'close after: client-connection-close'],
  ];
  for (const [name, args, expected] of rows) t.equal(verdict(atRequestHead(...args)), expected, name);
});

t.test('at a response head', async (t) => {
  const response: ResponseFacts = { _closeReason: null, _userClose: false, _continueSent: false };
  const noBody: RequestFacts = { head: { expectContinue: false, chunked: false, contentLength: -1 }, _ended: true, _received: 0, _demanded: false };
  type HeadOver = { expectContinue?: boolean; chunked?: boolean; contentLength?: number };
  const unread = (over: { _demanded?: boolean; head?: HeadOver }): RequestFacts => ({
    ...noBody, _ended: false, ...over, head: { ...noBody.head, contentLength: 1_000_000, ...over.head },
  });
  type Row = [string, ResponseFacts, RequestFacts, { reading?: boolean; tail?: boolean; closeDelimited?: boolean; pending?: CloseReason; shutdown?: boolean; conn?: typeof young }, string];
  const rows: Row[] = [
    ['an ordinary response', response, noBody, {}, 'reuse'],
    ['already the last (decided at its request)', { ...response, _closeReason: 'max-requests' }, noBody, {}, 'close after: max-requests'],
    ['the handler set Connection: close', { ...response, _userClose: true }, noBody, {}, 'close after: response-connection-close'],
    ['a streamed HTTP/1.0 body without a length', response, noBody, { closeDelimited: true }, 'close after: close-delimited'],
    ['the peer half-closed earlier (tail)', response, noBody, { pending: 'client-close' }, 'close after: client-close'],
    ['a pending close does not touch earlier pipelined responses', response, noBody, { pending: 'client-close', tail: false }, 'reuse'],
    ['shutdown, the last response in flight', response, noBody, { shutdown: true }, 'close after: shutdown-after-response'],
    ['shutdown, a response with later ones pipelined', response, noBody, { shutdown: true, tail: false }, 'reuse'],
    ['past maxConnectionAge', response, noBody, { conn: old }, 'close after: max-age'],
    ['a big body nobody asked for', response, unread({}), { reading: true }, 'close after: body-not-read'],
    ['a small unread body is discarded instead', response, unread({ head: { contentLength: 100 } }), { reading: true }, 'reuse'],
    ['a body the handler is reading', response, unread({ _demanded: true }), { reading: true }, 'reuse'],
    ['Expect: 100-continue answered without 100 Continue', response, unread({ head: { expectContinue: true, contentLength: 10 } }), { reading: true }, 'close after: body-not-read'],
    ['Expect: 100-continue after 100 Continue was sent', { ...response, _continueSent: true }, unread({ head: { expectContinue: true, contentLength: 10 } }), { reading: true }, 'reuse'],
  ];
  for (const [name, r, request, f, expected] of rows) {
    const conn = { ...(f.conn ?? young), pendingClose: f.pending ?? null };
    const d = atResponseHead(r, request, f.reading ?? false, f.tail ?? true, f.closeDelimited ?? false, conn, f.shutdown ?? false, NOW, limits);
    t.equal(verdict(d), expected, name);
  }
});

t.test('at the end of a response whose body was not read', async (t) => {
  const request = (contentLength: number, received: number, chunked = false): RequestFacts => ({
    head: { expectContinue: false, chunked, contentLength }, _ended: false, _received: received, _demanded: false,
  });
  t.equal(verdict(atResponseEnd(request(100_000, 50_000), limits)), 'reuse', 'what is left is under maxDiscardBody: discarded');
  t.equal(verdict(atResponseEnd(request(1_000_000, 0), limits)), 'close after: body-not-read', 'too much left: cheaper to close');
  t.equal(verdict(atResponseEnd(request(-1, 10, true), limits)), 'close after: body-not-read', 'a chunked rest is unbounded');
});

t.test('with nothing in flight', async (t) => {
  t.equal(verdict(whenIdle(young, false, NOW, limits)), 'reuse');
  t.equal(verdict(whenIdle({ ...young, pendingClose: 'parse-error' }, false, NOW, limits)), 'close now: parse-error');
  t.equal(verdict(whenIdle(old, false, NOW, limits)), 'close now: max-age');
  t.equal(verdict(whenIdle(old, true, NOW, limits)), 'reuse', 'a request already arriving is served first');
  t.equal(verdict(whenIdle(old, false, NOW, { ...limits, maxConnectionAge: 0 })), 'reuse', 'no age limit');
});

t.test('at the peer\'s FIN', async (t) => {
  t.equal(verdict(atPeerEnd(young, false)), 'close now: client-close');
  t.equal(verdict(atPeerEnd(young, true)), 'close after: client-close', 'responses owed are still sent');
  t.equal(verdict(atPeerEnd({ ...young, pendingClose: 'max-requests' }, true)), 'close after: max-requests', 'an earlier reason stays the reason');
});

t.test('decisions are shared constants: deciding allocates nothing', async (t) => {
  const head = { method: 'GET', keepAlive: false, upgrade: null };
  t.equal(atRequestHead(head, 1, false, limits), atRequestHead(head, 2, false, limits));
  t.equal(whenIdle(young, false, NOW, limits), KEEP);
  t.equal(atPeerEnd(young, false).verdict, CLOSE_NOW);
});

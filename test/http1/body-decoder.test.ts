// Body framing on literal bytes: Content-Length and chunked (extensions, quoted strings, trailers),
// every valid body split at every offset, and each chunked error with its code.

import t from 'tap';
import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from '../../lib/http1/body-decoder.js';

interface Decoded {
  data: string;
  done: boolean;
  error: { code: string; status: number } | null;
  end: number;
  trailers: string[];
}

function run(decoder: BodyDecoder, pieces: Buffer[]): Decoded {
  let data = '';
  let consumedTotal = 0;
  for (const buf of pieces) {
    let pos = 0;
    while (pos < buf.length && !decoder.done && decoder.error === null) {
      pos = decoder.next(buf, pos, buf.length);
      if (decoder.dataEnd > decoder.dataStart) data += buf.toString('latin1', decoder.dataStart, decoder.dataEnd);
    }
    consumedTotal += pos;
    if (decoder.done || decoder.error !== null) break;
  }
  return {
    data,
    done: decoder.done,
    error: decoder.error && { code: decoder.error.code, status: decoder.error.status },
    end: consumedTotal,
    trailers: decoder instanceof ChunkedDecoder ? decoder.trailers : [],
  };
}

t.test('length decoder stops exactly at the length', async (t) => {
  const r = run(new LengthDecoder(5), [Buffer.from('hel'), Buffer.from('loGET /next')]);
  t.equal(r.data, 'hello');
  t.ok(r.done);
  t.equal(r.end, 3 + 2, 'the next request is not touched');
  t.ok(new LengthDecoder(0).done, 'zero length is done at once');
});

const VALID = [
  { name: 'two chunks', text: '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', data: 'abcde', trailers: [] },
  { name: 'upper and lower hex', text: 'A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n', data: '0123456789abcdefghij', trailers: [] },
  { name: 'empty body', text: '0\r\n\r\n', data: '', trailers: [] },
  { name: 'leading zeros in size', text: '0003\r\nabc\r\n0\r\n\r\n', data: 'abc', trailers: [] },
  { name: 'extensions', text: '3;a=1;b\r\nabc\r\n0;last\r\n\r\n', data: 'abc', trailers: [] },
  { name: 'quoted-string extension', text: '3;name="va;l\\"ue"\r\nabc\r\n0\r\n\r\n', data: 'abc', trailers: [] },
  { name: 'BWS in extensions', text: '3 ; a = 1 ;b\r\nabc\r\n0\r\n\r\n', data: 'abc', trailers: [] },
  { name: 'trailers', text: '3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other:v \r\n\r\n', data: 'abc', trailers: ['X-Checksum', '123', 'X-Other', 'v'] },
  { name: 'CRLF bytes inside data', text: '4\r\n\r\n\r\n\r\n0\r\n\r\n', data: '\r\n\r\n', trailers: [] },
];

t.test('valid chunked bodies, whole and split at every byte offset', async (t) => {
  for (const v of VALID) {
    const bytes = Buffer.from(v.text, 'latin1');
    const whole = run(new ChunkedDecoder(), [Buffer.concat([bytes, Buffer.from('NEXT')])]);
    t.same(whole, { data: v.data, done: true, error: null, end: bytes.length, trailers: v.trailers }, v.name);
    let wrong = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = run(new ChunkedDecoder(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      if (r.data !== v.data || !r.done || r.error !== null || JSON.stringify(r.trailers) !== JSON.stringify(v.trailers)) wrong++;
    }
    t.equal(wrong, 0, `${v.name}: every split`);
    const single = run(new ChunkedDecoder(), [...bytes].map((b) => Buffer.from([b])));
    t.equal(single.data, v.data, `${v.name}: one byte at a time`);
    t.ok(single.done);
  }
});

const INVALID = [
  { name: 'non-hex size', text: 'g\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'empty size', text: '\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'negative size', text: '-3\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_SIZE', status: 400 },
  { name: '0x prefix', text: '0x3\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'size too large', text: 'fffffffffffffff\r\n', code: 'ERR_CHUNK_SIZE_TOO_LARGE', status: 400 },
  { name: 'bare LF after size', text: '3\nabc\r\n0\r\n\r\n', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
  { name: 'CR without LF after size', text: '3\rabc\r\n0\r\n\r\n', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
  { name: 'data longer than the size', text: '3\r\nabcd\r\n0\r\n\r\n', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
  { name: 'bare LF after data', text: '3\r\nabc\n0\r\n\r\n', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
  { name: 'trailing space before CRLF', text: '3 \r\nabc\r\n0\r\n\r\n', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
  { name: 'invalid extension name', text: '3;(x)\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_EXTENSION', status: 400 },
  { name: 'control byte in quoted extension', text: '3;a="\x01"\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_EXTENSION', status: 400 },
  { name: 'garbage after quoted extension', text: '3;a="x"y\r\nabc\r\n0\r\n\r\n', code: 'ERR_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'chunk line too long', text: `3;${'a'.repeat(5000)}\r\nabc\r\n0\r\n\r\n`, code: 'ERR_CHUNK_LINE_TOO_LONG', status: 400 },
  { name: 'trailer without colon', text: '0\r\nnocolon\r\n\r\n', code: 'ERR_INVALID_TRAILER', status: 400 },
  { name: 'trailer obs-fold', text: '0\r\nX: a\r\n b\r\n\r\n', code: 'ERR_INVALID_TRAILER', status: 400 },
  { name: 'trailer bare LF', text: '0\r\nX: a\n\r\n', code: 'ERR_INVALID_TRAILER', status: 400 },
  { name: 'trailer NUL', text: '0\r\nX: a\x00\r\n\r\n', code: 'ERR_INVALID_TRAILER', status: 400 },
  { name: 'bare LF at the end', text: '0\r\n\n', code: 'ERR_INVALID_TRAILER', status: 400 },
  { name: 'CR without LF at the end', text: '0\r\n\rX', code: 'ERR_MISSING_CHUNK_CRLF', status: 400 },
];

t.test('chunked errors: literal bytes, status and code, at any split', async (t) => {
  for (const c of INVALID) {
    const bytes = Buffer.from(c.text, 'latin1');
    const r = run(new ChunkedDecoder(), [bytes]);
    t.same(r.error, { code: c.code, status: c.status }, c.name);
    t.notOk(r.done, `${c.name}: not done`);
    let wrong = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = run(new ChunkedDecoder(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      if (s.error?.code !== c.code) wrong++;
    }
    t.equal(wrong, 0, `${c.name}: same error at every split`);
  }
});

t.test('trailer section over its limit is 431', async (t) => {
  const r = run(new ChunkedDecoder({ maxTrailerSize: 100 }), [Buffer.from(`0\r\nX: ${'a'.repeat(200)}\r\n\r\n`)]);
  t.same(r.error, { code: 'ERR_TRAILER_TOO_LARGE', status: 431 });
});

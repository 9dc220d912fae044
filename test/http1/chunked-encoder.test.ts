// The chunked coding for responses: size lines, chunk ends, the last chunk with and without trailers;
// everything it writes decodes again with the ChunkedDecoder.

import t from 'tap';
import { ChunkedDecoder } from '../../lib/http1/body-decoder.js';
import { CHUNK_END, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../../lib/http1/chunked-encoder.js';

t.test('framing strings', async (t) => {
  t.equal(chunkHeader(255), 'ff\r\n');
  t.equal(chunkHeader(1), '1\r\n');
  t.equal(chunkHeader(65536), '10000\r\n');
  t.equal(chunkHeader(0), '0\r\n');
  t.equal(CHUNK_END, '\r\n');
  t.equal(LAST_CHUNK, '0\r\n\r\n');
});

t.test('trailers', async (t) => {
  t.equal(lastChunkWithTrailers([]), LAST_CHUNK);
  t.equal(lastChunkWithTrailers(['X-Sum', 'abc']), '0\r\nX-Sum: abc\r\n\r\n');
  t.equal(lastChunkWithTrailers(['X-A', '1', 'X-B', '']), '0\r\nX-A: 1\r\nX-B: \r\n\r\n');
  t.throws(() => lastChunkWithTrailers(['X-Sum', 'a\r\nb']), { code: 'ERR_INVALID_TRAILER', name: 'UsageError' });
  t.throws(() => lastChunkWithTrailers(['Bad Name', 'v']), { code: 'ERR_INVALID_TRAILER' });
});

t.test('what the encoder writes, the decoder reads', async (t) => {
  const parts = ['hello', '', 'x'.repeat(300), ' world'];
  let wire = '';
  for (const p of parts) if (p.length > 0) wire += chunkHeader(Buffer.byteLength(p)) + p + CHUNK_END;
  wire += lastChunkWithTrailers(['X-Checksum', '42']);
  const buf = Buffer.from(wire, 'latin1');
  const decoder = new ChunkedDecoder();
  let pos = 0;
  let data = '';
  while (pos < buf.length && !decoder.done && decoder.error === null) {
    pos = decoder.next(buf, pos, buf.length);
    data += buf.toString('latin1', decoder.dataStart, decoder.dataEnd);
  }
  t.equal(decoder.error, null);
  t.ok(decoder.done);
  t.equal(pos, buf.length);
  t.equal(data, parts.join(''));
  t.same(decoder.trailers, ['X-Checksum', '42']);
});

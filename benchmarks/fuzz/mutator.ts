// Seeded randomness and the mutations of the fuzzer: byte-level havoc, range edits, splices of two
// corpus entries and HTTP dictionary tokens, so few executions are spent on inputs that die at byte 0.

/** mulberry32: tiny, fast and fully determined by its 32-bit seed, so a run is reproducible from it. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** The grammar's delimiters, framing fields and the numbers that break naive integer parsing. */
export const DICTIONARY: readonly Buffer[] = [
  '\r\n', '\r\n\r\n', '\n', '\r', '\x00', ':', ' ', '\t', ',', ';', '=', '"', '\\', '/',
  'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1\r\n',
  'GET ', 'POST ', 'HEAD ', 'PUT ', 'PATCH ', 'DELETE ', 'TRACE ', 'OPTIONS * ', 'CONNECT a:1 ', 'http://a/', 'https://a:443/x?y',
  'Host:', 'Host: a\r\n', 'Content-Length: ', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip, chunked\r\n', 'chunked', 'identity',
  'Connection: close\r\n', 'Connection: keep-alive\r\n', 'Connection: upgrade\r\nUpgrade: websocket\r\n',
  'Expect: 100-continue\r\n', 'Trailer: x\r\n',
  '0\r\n\r\n', '0\r\nX: y\r\n\r\n', '5\r\nhello\r\n', ';ext', ';ext=val', ';q="a\\"b"', ' = ', ' ; ', 'Upgrade: h2c\r\n',
  '\r\n ', '\r\n\t', // obs-fold
  '0', '1', '00', '-1', '+1', '99999999999999999999', '999999999999999', '1000000000000000',
  '4294967296', '9007199254740993', '18446744073709551616', '1e3', '0x10',
  'f', 'F', 'ff', '7fffffff', 'ffffffffffffffff', '1fffffffffffff', '20000000000000', '1A',
].map((s) => Buffer.from(s, 'latin1'));

const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2f, 0x3a, 0x3b, 0x7f, 0x80, 0xff, 0x30, 0x41, 0x61];

export const MAX_INPUT = 2048;

function insert(buf: Buffer, at: number, piece: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), piece, buf.subarray(at)]);
}

function replace(buf: Buffer, s: number, e: number, piece: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, s), piece, buf.subarray(e)]);
}

/** One mutation; `other` is a second corpus entry for splices. */
function mutateOnce(buf: Buffer, other: Buffer, rng: Rng): Buffer {
  const len = buf.length;
  const at = rng.below(len + 1);
  const end = at + rng.below(Math.min(32, len - at) + 1);
  switch (rng.below(14)) {
    case 13: {
      // A run of one byte, up to past the head and trailer limits, so every limit is met at every offset.
      const run = Buffer.alloc(1 + rng.below(600), rng.pick([0x61, 0x20, 0x30, 0x09, 0x2c]));
      return insert(buf, at, run);
    }
    case 0: {
      if (len === 0) return Buffer.from([rng.below(256)]);
      const out = Buffer.from(buf);
      out[rng.below(len)]! ^= 1 << rng.below(8);
      return out;
    }
    case 1: {
      if (len === 0) return Buffer.from([rng.pick(INTERESTING_BYTES)]);
      const out = Buffer.from(buf);
      out[rng.below(len)] = rng.below(2) === 0 ? rng.pick(INTERESTING_BYTES) : rng.below(256);
      return out;
    }
    case 2:
      return insert(buf, at, Buffer.from(Array.from({ length: 1 + rng.below(4) }, () => rng.below(256))));
    case 3:
      return replace(buf, at, end, Buffer.alloc(0)); // delete a range
    case 4: // duplicate a range in place
      return insert(buf, end, buf.subarray(at, end));
    case 5: // copy a range elsewhere
      return insert(buf, rng.below(len + 1), buf.subarray(at, end));
    case 6:
    case 7:
      return insert(buf, at, rng.pick(DICTIONARY));
    case 8:
      return replace(buf, at, end, rng.pick(DICTIONARY));
    case 9: {
      // splice: a prefix of this entry, a suffix of the other
      const cut = rng.below(other.length + 1);
      return Buffer.concat([buf.subarray(0, at), other.subarray(cut)]);
    }
    case 10: // a range of the other entry inserted
      return insert(buf, at, other.subarray(rng.below(other.length + 1)).subarray(0, 1 + rng.below(64)));
    case 11: {
      // A line ending turned into another: where lenient and strict parsers part ways.
      const crlf = buf.indexOf('\r\n', rng.below(len + 1));
      if (crlf < 0) return insert(buf, at, rng.pick(DICTIONARY));
      const endings = ['\n', '\r', '\r\r\n', '\r\n\r\n', '\r\n ', ''];
      return replace(buf, crlf, crlf + 2, Buffer.from(rng.pick(endings), 'latin1'));
    }
    default: {
      // A run of digits replaced by another number (sizes and lengths are where framing goes wrong).
      let s = at;
      while (s < len && !(buf[s]! >= 0x30 && buf[s]! <= 0x39)) s++;
      let e = s;
      while (e < len && ((buf[e]! >= 0x30 && buf[e]! <= 0x39) || (buf[e]! | 0x20) >= 0x61 && (buf[e]! | 0x20) <= 0x66)) e++;
      const numbers = ['0', '1', '3', '10', '65535', '4294967296', '99999999999999999999', 'ffffffffffffffff', '00', '-0', String(rng.below(100_000))];
      return replace(buf, s, e, Buffer.from(rng.pick(numbers), 'latin1'));
    }
  }
}

/** 1 to 4 stacked mutations (havoc), truncated to MAX_INPUT bytes. */
export function mutate(buf: Buffer, other: Buffer, rng: Rng): Buffer {
  let out = buf;
  const n = 1 + rng.below(4);
  for (let i = 0; i < n; i++) out = mutateOnce(out, other, rng);
  return out.length > MAX_INPUT ? out.subarray(0, MAX_INPUT) : out;
}

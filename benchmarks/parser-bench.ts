// Micro-benchmark of the request parser (and the response head writer): heads per second for a typical
// browser request and a minimal one, median of several rounds, so a parser regression shows up as a
// number. No assertions. ITERATIONS and ROUNDS can be set in the environment.

import { serializeHead } from '../lib/http1/head-writer.js';
import { RequestParser } from '../lib/http1/request-parser.js';

const BROWSER = Buffer.from(
  'GET /search?q=linger&lang=en HTTP/1.1\r\nHost: www.example.com\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\nReferer: https://www.example.com/\r\nConnection: keep-alive\r\n' +
    'Cookie: session=abc123; theme=dark\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n' +
    'Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\n\r\n',
);
const MINIMAL = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
const ITERATIONS = Number(process.env.ITERATIONS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

function parseRate(buf: Buffer, iterations: number): number {
  const parser = new RequestParser();
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    sink += parser.execute(buf, 0, buf.length);
    parser.reset();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink !== buf.length * iterations) throw new Error('parser did not consume whole heads');
  return iterations / seconds;
}

function writeRate(iterations: number): number {
  const headers = ['Content-Type', 'text/plain; charset=utf-8'];
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    sink += serializeHead(200, undefined, headers, 'Date: Wed, 25 Nov 2026 00:00:00 GMT\r\nContent-Length: 13\r\n').length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 0) throw new Error('unreachable');
  return iterations / seconds;
}

function median(run: () => number): number {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(run());
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]!;
}

// Warm-up, so the figures are for optimized code.
parseRate(BROWSER, 100_000);
parseRate(MINIMAL, 100_000);
writeRate(100_000);

const results = {
  browserHeadsPerSec: Math.round(median(() => parseRate(BROWSER, ITERATIONS))),
  minimalHeadsPerSec: Math.round(median(() => parseRate(MINIMAL, ITERATIONS))),
  headsWrittenPerSec: Math.round(median(() => writeRate(ITERATIONS))),
};
console.log(`parse typical browser request (${BROWSER.length} B, 12 fields): ${(results.browserHeadsPerSec / 1e6).toFixed(2)} M/s`);
console.log(`parse minimal request (${MINIMAL.length} B): ${(results.minimalHeadsPerSec / 1e6).toFixed(2)} M/s`);
console.log(`serialize a response head: ${(results.headsWrittenPerSec / 1e6).toFixed(2)} M/s`);
console.log(JSON.stringify(results));

// The ceiling: a bare net server that answers every "\r\n\r\n" it sees with one precomputed response,
// parsing nothing. No JavaScript server on Node can do less work per request. CASE picks the response.

import net from 'node:net';
import { BIG, ECHO_BODY, HELLO, port } from './routes.js';

function response(contentType: string, body: Buffer | string): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nDate: Wed, 25 Nov 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nContent-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

const RESPONSES: Record<string, Buffer> = {
  hello: response('text/plain; charset=utf-8', HELLO),
  '64k': response('application/octet-stream', BIG),
  json: response('application/json; charset=utf-8', ECHO_BODY),
  router: response('application/json; charset=utf-8', JSON.stringify({ route: 37, id: '12345' })),
};
const answer = RESPONSES[process.env.CASE ?? 'hello'] ?? RESPONSES.hello!;
const CLOSE = Buffer.from('onnection: close');
const END = Buffer.from('\r\n\r\n');

const server = net.createServer({ noDelay: true }, (socket) => {
  // Only "Connection: close" is looked for, so connection-per-request ends like it does elsewhere.
  // A "\r\n\r\n" split across two reads is still one request: up to 3 trailing bytes carry over.
  let carry: Buffer | null = null;
  socket.on('data', (data: Buffer) => {
    const chunk: Buffer = carry === null ? data : Buffer.concat([carry, data]);
    carry = null;
    const last = chunk[chunk.length - 1];
    if (last === 13 || last === 10) carry = chunk.subarray(Math.max(0, chunk.length - 3));
    let count = 0;
    for (let i = chunk.indexOf(END); i !== -1; i = chunk.indexOf(END, i + 4)) count++;
    if (count > 0 && carry !== null && chunk.lastIndexOf(END) >= chunk.length - 4) carry = null;
    if (count === 0) return;
    socket.write(count === 1 ? answer : Buffer.concat(Array.from({ length: count }, () => answer)));
    if (chunk.indexOf(CLOSE) !== -1) socket.end();
  });
  socket.on('error', () => {});
});
server.listen({ port: port(), host: '127.0.0.1', backlog: 4096 }, () => console.log('ready'));
process.once('SIGTERM', () => process.exit(0));

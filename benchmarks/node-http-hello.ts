// Baseline for the comparison: node:http answering GET / with the same 13-byte text as examples/hello.

import http from 'node:http';

const body = 'Hello, World!';
const server = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  } else {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`node:http hello listening on ${process.env.PORT ?? 3001}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));

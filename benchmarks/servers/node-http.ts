// node:http serving the benchmark routes, with the small amount of routing node:http leaves to the user.

import http, { type RequestListener } from 'node:http';
import https from 'node:https';
import { BIG, HELLO, port, ROUTE_COUNT, tlsFiles } from './routes.js';

const routeRe = /^\/r(\d+)\/([^/]+)$/;
const handler: RequestListener = (req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(HELLO) });
    res.end(HELLO);
  } else if (req.method === 'GET' && url === '/64k') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG.length });
    res.end(BIG);
  } else if (req.method === 'POST' && url === '/echo') {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.stringify(JSON.parse(Buffer.concat(parts).toString()));
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  } else {
    const m = req.method === 'GET' ? routeRe.exec(url) : null;
    if (m !== null && Number(m[1]) < ROUTE_COUNT) {
      const body = JSON.stringify({ route: Number(m[1]), id: m[2] });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(404, { 'Content-Length': 0 });
      res.end();
    }
  }
};
// With TLS_CERT/TLS_KEY: node:https, the same handler.
const tls = tlsFiles();
const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler);
server.keepAliveTimeout = 65_000;
server.listen({ port: port(), host: '127.0.0.1', backlog: 4096 }, () => console.log('ready'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));

// What every benchmarked server answers, so the comparison is the same work everywhere.

import { readFileSync } from 'node:fs';

export const HELLO = 'Hello, World!';
export const BIG = Buffer.alloc(64 * 1024, 'x');
/** 50 parameterized routes, /r0/:id .. /r49/:id; the router case hits one in the middle. */
export const ROUTE_COUNT = 50;
export const ROUTER_PATH = '/r37/12345';
export const ECHO_BODY = JSON.stringify({ user: 'linger', items: [1, 2, 3], nested: { ok: true, text: 'a JSON body of a typical size' } });

/** The HTTPS cases: every server gets the same certificate and key (TLS_CERT, TLS_KEY: PEM files). */
export function tlsFiles(): { key: Buffer; cert: Buffer } | undefined {
  const cert = process.env.TLS_CERT;
  const key = process.env.TLS_KEY;
  return cert === undefined || key === undefined ? undefined : { cert: readFileSync(cert), key: readFileSync(key) };
}

/** About 16 KiB of JSON, as an API list response: what compression is for. */
export const COMPRESSIBLE = JSON.stringify(Array.from({ length: 160 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['alpha', 'beta'], price: (i * 7.31) % 100 })));

export function port(): number {
  return Number(process.env.PORT ?? 3100);
}

// The two routes of the Hono bench cases as a bare fetch handler, no framework: what the adapter
// costs by itself, apart from Hono's own work (its Context, router and helpers).

import { HELLO } from './routes.js';

const NOT_FOUND_TYPE = { 'Content-Type': 'text/plain; charset=UTF-8' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

/**
 * `/` answers as Hono's c.text(HELLO) does (the fetch default type), `/users/:id` as its
 * c.json({ id, name }), anything else as its 404; test/app/fetch-bench-apps.test.ts holds them equal.
 */
export function bareFetch(request: Request): Response {
  const url = request.url;
  // The path starts at the first slash after "scheme://"; a query ends it.
  const start = url.indexOf('/', url.indexOf(':') + 3);
  const query = url.indexOf('?', start);
  const path = query === -1 ? url.slice(start) : url.slice(start, query);
  if (path === '/') return new Response(HELLO);
  if (path.startsWith('/users/') && path.indexOf('/', 7) === -1 && path.length > 7) {
    return new Response(JSON.stringify({ id: path.slice(7), name: 'linger' }), { headers: JSON_TYPE });
  }
  return new Response('404 Not Found', { status: 404, headers: NOT_FOUND_TYPE });
}

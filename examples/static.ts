// A static file server for examples/public (or STATIC_ROOT): validators, 304s, ranges, index.html,
// and paths that cannot leave the root.

import { fileURLToPath } from 'node:url';
import { isMain, serveExample } from './serve-example.js';
import { createServer, serveStatic, type AppOptions } from '../lib/index.js';

/** examples/public in the source tree, from both examples/ and dist/examples/. */
export const DEFAULT_STATIC_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../examples/public/' : './public/', import.meta.url));

export function buildStaticApp(root = process.env.STATIC_ROOT ?? DEFAULT_STATIC_ROOT, options?: AppOptions) {
  const app = createServer(options);
  app.get('/*', serveStatic(root, { maxAge: 60 }));
  return app;
}

if (isMain(import.meta.url)) await serveExample(buildStaticApp(), 'linger static files');

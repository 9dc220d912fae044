// A handler that serves a directory tree for a wildcard route: safe path resolution (no escape
// from the root, no dotfiles, regular files only), index.html for directories, and file responses
// with validators.

import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { HttpError } from '../connection/http-error.js';
import { sendFile, type FileOptions } from './file-response.js';
import type { Request } from './request.js';
import type { Response } from './response.js';

export interface StaticOptions extends FileOptions {
  /** File served for a directory. Default 'index.html'; false disables it. */
  index?: string | false;
  /** Serve names starting with "." (.env, .git). Default false: they answer 404. */
  dotfiles?: boolean;
}

/** `app.get('/assets/*', serveStatic('./public'))`: the wildcard tail is the path under root. */
export function serveStatic(root: string, options: StaticOptions = {}): (req: Request<{ '*': string }>, res: Response) => Promise<void> {
  const base = resolve(root);
  const index = options.index ?? 'index.html';
  return async (req, res) => {
    const relative = req.params['*'];
    if (typeof relative !== 'string') throw new TypeError('serveStatic needs a route ending in "/*"');
    const segments: string[] = [];
    for (const raw of relative.split('/')) {
      if (raw.length === 0) continue;
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        throw new HttpError(400, 'ERR_INVALID_PATH', 'Bad Request: malformed percent-encoding in the path');
      }
      // An encoded "/" or "\" would let one segment climb; NUL truncates paths in some syscalls.
      if (segment === '..' || segment === '.' || /[/\\\0]/.test(segment)) throw notFound();
      if (segment.charCodeAt(0) === 46 /* . */ && options.dotfiles !== true) throw notFound();
      segments.push(segment);
    }
    let path = segments.length === 0 ? base : resolve(base, ...segments);
    if (path !== base && !path.startsWith(base + sep)) throw notFound();
    const directoryRequested = relative.length === 0 || relative.endsWith('/');
    let stats: Stats | undefined;
    try {
      stats = await stat(path);
    } catch {
      throw notFound();
    }
    if (stats.isDirectory()) {
      if (index === false) throw notFound();
      if (!directoryRequested) {
        // Relative links in the index page resolve against the directory only with a trailing "/".
        const query = req.url.indexOf('?');
        res.redirect(`${sameOriginPath(req.path)}/${query === -1 ? '' : req.url.slice(query)}`, 301);
        return;
      }
      path = resolve(path, index);
      stats = undefined;
    } else if (directoryRequested || !stats.isFile()) {
      // FIFOs, sockets and devices are not content: 404 without opening them.
      throw notFound();
    }
    await sendFile(req as Request<unknown>, res, path, options, stats);
  };
}

/**
 * The request path with any run of leading "/" or "\" cut to one "/": "//host/x" on a "/*" mount
 * names the directory "host/x", but as a Location it would be protocol-relative and send the browser
 * to another host (browsers read "\" as "/" there too).
 */
function sameOriginPath(path: string): string {
  let i = 0;
  for (let c = path.charCodeAt(0); c === 0x2f || c === 0x5c; c = path.charCodeAt(++i));
  return i === 1 && path.charCodeAt(0) === 0x2f ? path : `/${path.slice(i)}`;
}

function notFound(): HttpError {
  return new HttpError(404, 'ERR_NOT_FOUND', 'Not Found');
}

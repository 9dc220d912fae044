// CORS (the Fetch standard's CORS protocol): an onRequest hook that answers preflights and adds
// the Access-Control-* headers to actual responses for allowed origins only.

import { UsageError } from '../http1/protocol-error.js';
import type { OnRequestHook } from './dispatch.js';
import type { Request } from './request.js';
import type { Response } from './response.js';

export type CorsOrigin = string | RegExp | readonly (string | RegExp)[] | ((origin: string, req: Request) => boolean);

export interface CorsOptions {
  /** Which origins may read responses: '*' (any, never with credentials), an origin, a RegExp, a list of either, or a function. */
  origin: CorsOrigin;
  /** Methods a preflight allows. Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: readonly string[];
  /** Request headers a preflight allows. Default: the ones the preflight asks for (reflected, with Vary). */
  allowedHeaders?: readonly string[];
  /** Response headers the page's script may read besides the CORS-safelisted ones. */
  exposedHeaders?: readonly string[];
  /** Allow cookies and HTTP auth: Access-Control-Allow-Credentials: true, and the origin named, never '*'. */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight answer. Default 600 (Chromium caps at 7200, Firefox at 86400). */
  maxAge?: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];
const OPTION_KEYS = new Set(['origin', 'methods', 'allowedHeaders', 'exposedHeaders', 'credentials', 'maxAge']);

function invalid(message: string): UsageError {
  return new UsageError('ERR_INVALID_OPTION', `cors: ${message}`);
}

function tokenList(value: unknown, name: string): string {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !TOKEN.test(item))) {
    throw invalid(`${name} must be a list of HTTP tokens`);
  }
  return value.join(', ');
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/i;
const AUTHORITY = /^[^/\s?#]+$/;

/** An origin as the Origin header serialises it (RFC 6454 6.1): scheme://host[:port], no path. */
function checkOrigin(origin: string): string {
  const sep = origin.indexOf('://');
  if (sep <= 0 || !SCHEME.test(origin.slice(0, sep)) || !AUTHORITY.test(origin.slice(sep + 3))) {
    throw invalid(`origin ${JSON.stringify(origin)} is not scheme://host[:port]`);
  }
  return origin;
}

/** The hook; everything is checked and joined here, once, so a request pays comparisons only. */
export function cors(options: CorsOptions): OnRequestHook {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object with an origin');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) throw invalid(`unknown option ${key}`);
  const credentials = options.credentials === true;
  if (options.credentials !== undefined && typeof options.credentials !== 'boolean') throw invalid('credentials must be a boolean');
  const origin = options.origin;
  let allows: (value: string, req: Request) => boolean;
  let anyOrigin = false;
  if (origin === '*') {
    // Fetch standard 3.2.5: a credentialed request fails against '*'; naming every origin instead would hand credentials to any site.
    if (credentials) throw invalid('origin \'*\' cannot be combined with credentials: list the origins allowed');
    anyOrigin = true;
    allows = () => true;
  } else if (typeof origin === 'string') {
    const only = checkOrigin(origin);
    allows = (value) => value === only;
  } else if (origin instanceof RegExp) {
    allows = (value) => origin.test(value);
  } else if (Array.isArray(origin)) {
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const item of origin as readonly unknown[]) {
      if (typeof item === 'string') exact.add(checkOrigin(item));
      else if (item instanceof RegExp) patterns.push(item);
      else throw invalid('an origin list holds strings and RegExps only');
    }
    allows = (value) => exact.has(value) || patterns.some((p) => p.test(value));
  } else if (typeof origin === 'function') {
    allows = (value, req) => origin(value, req) === true;
  } else {
    throw invalid('origin must be \'*\', a string, a RegExp, a list or a function');
  }
  const methods = tokenList(options.methods ?? DEFAULT_METHODS, 'methods');
  const allowedHeaders = options.allowedHeaders === undefined ? null : tokenList(options.allowedHeaders, 'allowedHeaders');
  const exposed = options.exposedHeaders === undefined || options.exposedHeaders.length === 0 ? null : tokenList(options.exposedHeaders, 'exposedHeaders');
  const maxAge = options.maxAge ?? 600;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw invalid('maxAge must be an integer number of seconds >= 0');

  return function corsHook(req: Request, res: Response): Response | void {
    const requestOrigin = req.header('origin');
    const preflight = req.method === 'OPTIONS' && requestOrigin !== undefined && req.header('access-control-request-method') !== undefined;
    // The answer depends on Origin unless every origin gets the same '*': caches must key on it,
    // for responses to requests without Origin too, or a cached one would be served cross-origin.
    if (!anyOrigin) addVary(res, 'Origin');
    if (requestOrigin === undefined) return;
    if (!allows(requestOrigin, req)) {
      // No CORS headers at all: the browser blocks the read. A preflight ends here, unanswered for CORS.
      if (preflight) return void res.status(204).end();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : requestOrigin);
    if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (!preflight) {
      if (exposed !== null) res.setHeader('Access-Control-Expose-Headers', exposed);
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', methods);
    if (allowedHeaders !== null) {
      res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
    } else {
      const asked = req.header('access-control-request-headers');
      addVary(res, 'Access-Control-Request-Headers');
      // Reflected only when it is a clean token list: nothing else reaches the response head.
      if (asked !== undefined && asked.split(',').every((name) => TOKEN.test(name.trim()))) {
        res.setHeader('Access-Control-Allow-Headers', asked.trim());
      }
    }
    res.setHeader('Access-Control-Max-Age', String(maxAge));
    res.status(204).end();
  };
}

/** One Vary field listing every name (RFC 9110 12.5.5), whoever added the others. */
export function addVary(res: Response, name: string): void {
  const existing = res.getHeader('Vary');
  if (existing === undefined || existing === '') {
    res.setHeader('Vary', name);
    return;
  }
  const lower = name.toLowerCase();
  for (const item of existing.split(',')) {
    const token = item.trim().toLowerCase();
    if (token === lower || token === '*') return;
  }
  res.setHeader('Vary', `${existing}, ${name}`);
}

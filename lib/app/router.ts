// Maps a method and a path to a handler: static paths by one Map lookup, `:param` and `*` routes by
// segment matching. The full radix-tree router arrives with the app layer; this one is already exact.

import { UsageError } from '../http1/protocol-error.js';

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
}

interface PatternRoute<H> {
  segments: string[];
  /** Index of the segment holding `*` (the tail wildcard), or -1. */
  wildcard: number;
  handler: H;
}

interface MethodTable<H> {
  exact: Map<string, H>;
  patterns: PatternRoute<H>[];
}

const NO_PARAMS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

export class Router<H> {
  private readonly methods = new Map<string, MethodTable<H>>();

  add(method: string, path: string, handler: H): void {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new UsageError('ERR_INVALID_ROUTE', `route path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== 'function') throw new UsageError('ERR_INVALID_HANDLER', `handler for ${method} ${path} is not a function`);
    let table = this.methods.get(method);
    if (table === undefined) {
      table = { exact: new Map(), patterns: [] };
      this.methods.set(method, table);
    }
    const segments = path.split('/').slice(1);
    const dynamic = segments.some((s) => s.startsWith(':') || s === '*');
    if (!dynamic) {
      if (table.exact.has(path)) throw new UsageError('ERR_DUPLICATE_ROUTE', `route ${method} ${path} is already defined`);
      table.exact.set(path, handler);
      return;
    }
    const wildcard = segments.indexOf('*');
    if (wildcard !== -1 && wildcard !== segments.length - 1) {
      throw new UsageError('ERR_INVALID_ROUTE', `"*" must be the last segment of ${path}`);
    }
    table.patterns.push({ segments, wildcard, handler });
  }

  find(method: string, path: string): RouteMatch<H> | null {
    const table = this.methods.get(method);
    if (table === undefined) return null;
    const exact = table.exact.get(path);
    if (exact !== undefined) return { handler: exact, params: NO_PARAMS };
    if (table.patterns.length === 0) return null;
    const parts = path.split('/');
    for (const route of table.patterns) {
      const params = matchSegments(route, parts);
      if (params !== null) return { handler: route.handler, params };
    }
    return null;
  }

  /** Methods that have a route for this path, for 405's Allow header (RFC 9110 15.5.6). */
  allowed(path: string): string[] {
    const methods: string[] = [];
    for (const method of this.methods.keys()) if (this.find(method, path) !== null) methods.push(method);
    return methods;
  }
}

function matchSegments<H>(route: PatternRoute<H>, parts: string[]): Record<string, string> | null {
  const segments = route.segments;
  // parts[0] is the empty string before the leading "/".
  const count = parts.length - 1;
  if (route.wildcard === -1 ? count !== segments.length : count < segments.length - 1) return null;
  let params: Record<string, string> | null = null;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (i === route.wildcard) {
      (params ??= Object.create(null) as Record<string, string>)['*'] = parts.slice(i + 1).join('/');
      break;
    }
    const part = parts[i + 1]!;
    if (segment.charCodeAt(0) === 58 /* : */) {
      if (part.length === 0) return null;
      let value = part;
      if (part.indexOf('%') !== -1) {
        try {
          value = decodeURIComponent(part);
        } catch {
          return null;
        }
      }
      (params ??= Object.create(null) as Record<string, string>)[segment.slice(1)] = value;
    } else if (segment !== part) {
      return null;
    }
  }
  return params ?? NO_PARAMS;
}

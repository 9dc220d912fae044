// Maps a method and a path to a route: a tree with one level per path segment, so a lookup costs
// the number of segments, not the number of routes. Static segments win over `:param`, which wins over `*`.

import { UsageError } from '../http1/protocol-error.js';

export interface RouteMatch<H> {
  readonly handler: H;
  readonly params: Record<string, string>;
}

interface Entry<H> {
  handler: H;
  /** Names of the `:param` segments in order, then '*' for a wildcard tail. */
  names: readonly string[];
}

class SegmentNode<H> {
  /** Literal segment → child; null until the first one, so leaves stay small. */
  literal: Map<string, SegmentNode<H>> | null = null;
  param: SegmentNode<H> | null = null;
  /** Routes ending in `*` below this node, by method. */
  tail: Map<string, Entry<H>> | null = null;
  /** Routes ending at this node, by method. */
  routes: Map<string, Entry<H>> | null = null;
}

const NO_PARAMS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

export class Router<H> {
  private readonly root = new SegmentNode<H>();
  /** Static paths by method, then path, with their match made once: the common request walks no tree and allocates nothing. */
  private readonly exact = new Map<string, Map<string, RouteMatch<H>>>();
  private readonly methods = new Set<string>();

  add(method: string, path: string, handler: H): void {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new UsageError('ERR_INVALID_ROUTE', `route path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== 'function' && (typeof handler !== 'object' || handler === null)) {
      throw new UsageError('ERR_INVALID_HANDLER', `handler for ${method} ${path} is not a function`);
    }
    const segments = path.split('/').slice(1);
    const names: string[] = [];
    let node = this.root;
    let table: 'routes' | 'tail' = 'routes';
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment === '*') {
        if (i !== segments.length - 1) throw new UsageError('ERR_INVALID_ROUTE', `"*" must be the last segment of ${path}`);
        names.push('*');
        table = 'tail';
        break;
      }
      if (segment.charCodeAt(0) === 58 /* : */) {
        const name = segment.slice(1);
        if (name.length === 0 || names.includes(name)) {
          throw new UsageError('ERR_INVALID_ROUTE', `parameter names must be non-empty and unique in ${path}`);
        }
        names.push(name);
        node = node.param ??= new SegmentNode<H>();
      } else {
        const literal = (node.literal ??= new Map());
        let child = literal.get(segment);
        if (child === undefined) literal.set(segment, (child = new SegmentNode<H>()));
        node = child;
      }
    }
    const byMethod = (node[table] ??= new Map());
    if (byMethod.has(method)) throw new UsageError('ERR_DUPLICATE_ROUTE', `route ${method} ${path} is already defined`);
    byMethod.set(method, { handler, names });
    if (names.length === 0) {
      let paths = this.exact.get(method);
      if (paths === undefined) this.exact.set(method, (paths = new Map()));
      paths.set(path, Object.freeze({ handler, params: NO_PARAMS }));
    }
    this.methods.add(method);
  }

  find(method: string, path: string): RouteMatch<H> | null {
    const exact = this.exact.get(method)?.get(path);
    if (exact !== undefined) return exact;
    const values: string[] = [];
    const entry = search(this.root, method, path, 1, values);
    if (entry === null) return null;
    if (entry.names.length === 0) return { handler: entry.handler, params: NO_PARAMS };
    const params = Object.create(null) as Record<string, string>;
    const names = entry.names;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const raw = values[i]!;
      if (name === '*' || raw.indexOf('%') === -1) {
        params[name] = raw;
        continue;
      }
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        return null;
      }
    }
    return { handler: entry.handler, params };
  }

  /** Methods that have a route for this path, for 405's Allow header (RFC 9110 15.5.6). */
  allowed(path: string): string[] {
    const methods: string[] = [];
    for (const method of this.methods) if (this.find(method, path) !== null) methods.push(method);
    return methods;
  }
}

/**
 * Depth-first over the segments from `start` (just after a "/"), backtracking when a more specific
 * branch has no route for the method, so /a/b for POST only does not hide /a/:x for GET.
 */
function search<H>(node: SegmentNode<H>, method: string, path: string, start: number, values: string[]): Entry<H> | null {
  let end = path.indexOf('/', start);
  if (end === -1) end = path.length;
  const last = end === path.length;
  const segment = path.slice(start, end);
  const literal = node.literal?.get(segment);
  if (literal !== undefined) {
    const found = last ? (literal.routes?.get(method) ?? null) : search(literal, method, path, end + 1, values);
    if (found !== null) return found;
  }
  const param = node.param;
  if (param !== null && segment.length > 0) {
    values.push(segment);
    const found = last ? (param.routes?.get(method) ?? null) : search(param, method, path, end + 1, values);
    if (found !== null) return found;
    values.pop();
  }
  const tail = node.tail?.get(method);
  if (tail !== undefined) {
    values.push(path.slice(start));
    return tail;
  }
  return null;
}

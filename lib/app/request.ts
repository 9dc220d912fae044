// The request handlers see: the engine's request plus route params, the path and a lazily parsed query.

import { IncomingRequest } from '../connection/incoming-request.js';

export class Request extends IncomingRequest {
  params: Record<string, string> = EMPTY_PARAMS;
  private pathCache: string | null = null;
  private queryCache: URLSearchParams | null = null;

  /** The target's path, without the query; for absolute-form targets, the path part of the URL. */
  get path(): string {
    if (this.pathCache === null) {
      let target = this.url;
      if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
        // absolute-form (RFC 9112 3.2.2): the origin server uses the path of the URL.
        const slash = target.indexOf('/', target.indexOf('//') + 2);
        target = slash === -1 ? '/' : target.slice(slash);
      }
      const q = target.indexOf('?');
      this.pathCache = q === -1 ? target : target.slice(0, q);
    }
    return this.pathCache;
  }

  get query(): URLSearchParams {
    if (this.queryCache === null) {
      const q = this.url.indexOf('?');
      this.queryCache = new URLSearchParams(q === -1 ? '' : this.url.slice(q + 1));
    }
    return this.queryCache;
  }
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

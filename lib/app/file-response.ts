// File responses: regular files only (a FIFO or device is never opened for reading), validators
// (ETag, Last-Modified), conditional requests answered with 304 (RFC 9110 13), single byte ranges
// with 206/416 (RFC 9110 14), and the body sent with Content-Length.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { formatHttpDate } from '../http1/date-cache.js';
import { HttpError } from '../connection/http-error.js';
import { contentTypeFor } from './mime-types.js';
import type { Request } from './request.js';
import type { OutgoingResponse } from '../connection/outgoing-response.js';

/**
 * What a file is written to: the engine's response plus a stream pipe (the app's Response). Named
 * here rather than imported from response.ts, which calls sendFile: the two files stay a layer apart.
 */
export interface FileTarget extends Pick<OutgoingResponse, 'setHeader' | 'status' | 'end'> {
  stream(source: AsyncIterable<unknown>): Promise<void>;
}

export interface FileOptions {
  /** Content-Type; by default from the file's extension. */
  contentType?: string;
  /** Cache-Control max-age in seconds. Default 0: caches must revalidate, which the validators make cheap. */
  maxAge?: number;
  /** Adds `immutable` to Cache-Control, for fingerprinted asset names. */
  immutable?: boolean;
  /** Send ETag and answer If-None-Match. Default true. */
  etag?: boolean;
  /** Send Last-Modified and answer If-Modified-Since. Default true. */
  lastModified?: boolean;
  /** Answer Range requests with 206. Default true. */
  ranges?: boolean;
}

/** Files up to this size are read whole and go out with their head in one write. */
const WHOLE_READ_LIMIT = 64 * 1024;

// A blocking open of a FIFO waits for a writer while holding one of libuv's four fs threads, so a
// few requests for one would stall every file operation of the process. O_NONBLOCK makes such an open
// return at once; reads of regular files ignore the flag. O_NOCTTY: a terminal swapped in for a file
// never becomes the process's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Tries to open a path whose stat and descriptor disagree (replaced between the two) before giving up. */
const OPEN_ATTEMPTS = 2;

/**
 * Opens `path` only if it is a regular file: stat first (a FIFO, socket or device is never opened),
 * open without blocking, then fstat the descriptor and require a regular file with the inode that was
 * checked, so a file swapped for something else in between is caught. `known` is a stat the caller
 * already made. Null when there is no regular file to serve; other failures reject as fileError().
 */
export async function openRegularFile(path: string, known?: Stats): Promise<{ handle: FileHandle; stats: Stats } | null> {
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
    let handle: FileHandle;
    let checked: Stats;
    try {
      checked = attempt === 0 && known !== undefined ? known : await stat(path);
      if (!checked.isFile()) return null;
      handle = await open(path, OPEN_FLAGS);
    } catch (err) {
      throw fileError(err, path);
    }
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (err) {
      await handle.close();
      throw fileError(err, path);
    }
    if (stats.isFile() && stats.ino === checked.ino && stats.dev === checked.dev) return { handle, stats };
    // Replaced since the stat (a deploy renaming files into place, or a swap meant to trick us):
    // the next attempt starts over from a fresh stat.
    await handle.close();
  }
  return null;
}

/** `known`: the path's stat when the caller already has it (serveStatic), saving one system call. */
export async function sendFile(req: Request<unknown>, res: FileTarget, path: string, options: FileOptions = {}, known?: Stats): Promise<void> {
  const opened = await openRegularFile(path, known);
  if (opened === null) throw new HttpError(404, 'ERR_NOT_FOUND', 'Not Found');
  const { handle, stats } = opened;
  let handedOver = false;
  try {
    const etag = options.etag === false ? null : entityTag(stats);
    const lastModified = options.lastModified === false ? null : formatHttpDate(Math.floor(stats.mtimeMs / 1000) * 1000);
    const maxAge = options.maxAge ?? 0;
    if (!Number.isInteger(maxAge) || maxAge < 0) throw new TypeError('maxAge must be an integer number of seconds >= 0');
    res.setHeader('Cache-Control', `public, max-age=${maxAge}${options.immutable === true ? ', immutable' : ''}`);
    if (etag !== null) res.setHeader('ETag', etag);
    if (lastModified !== null) res.setHeader('Last-Modified', lastModified);

    const method = req.method;
    if ((method === 'GET' || method === 'HEAD') && notModified(req, etag, stats)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', options.contentType ?? contentTypeFor(path));
    const size = stats.size;
    let start = 0;
    let end = size - 1;
    if (options.ranges !== false) {
      res.setHeader('Accept-Ranges', 'bytes');
      const range = method === 'GET' ? req.header('range') : undefined;
      if (range !== undefined && rangeApplies(req, etag, lastModified)) {
        const parsed = parseRange(range, size);
        if (parsed === 'unsatisfiable') {
          res.status(416).setHeader('Content-Range', `bytes */${size}`).end();
          return;
        }
        if (parsed !== null) {
          [start, end] = parsed;
          res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
        }
      }
    }
    const length = end - start + 1;
    res.setHeader('Content-Length', length);
    if (method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    if (length <= WHOLE_READ_LIMIT) {
      const body = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(body, filled, length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled !== length) throw new Error(`${path} shrank while it was being read`);
      res.end(body);
      return;
    }
    handedOver = true;
    await res.stream(handle.createReadStream({ start, end, autoClose: true }));
  } finally {
    if (!handedOver) await handle.close();
  }
}

/** Strong validator from size and modification time, as nginx does: changes whenever either does. */
function entityTag(stats: Stats): string {
  return `"${Math.floor(stats.mtimeMs).toString(16)}-${stats.size.toString(16)}"`;
}

/** RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it. */
function notModified(req: Request<unknown>, etag: string | null, stats: Stats): boolean {
  const ifNoneMatch = req.header('if-none-match');
  if (ifNoneMatch !== undefined) return etag !== null && weakMatch(ifNoneMatch, etag);
  const ifModifiedSince = req.header('if-modified-since');
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds; an unparseable date is ignored (RFC 9110 13.1.3).
  return !Number.isNaN(since) && Math.floor(stats.mtimeMs / 1000) * 1000 <= since;
}

/** Weak comparison (RFC 9110 8.8.3.2): W/ prefixes are ignored. */
function weakMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  for (const item of header.split(',')) {
    let tag = item.trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === etag) return true;
  }
  return false;
}

/** If-Range (RFC 9110 13.1.5): the range applies only to the representation the client has. */
function rangeApplies(req: Request<unknown>, etag: string | null, lastModified: string | null): boolean {
  const ifRange = req.header('if-range');
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return etag !== null && value === etag;
  if (value.startsWith('W/')) return false;
  return lastModified !== null && value === lastModified;
}

/**
 * One `bytes=` range (RFC 9110 14.1.2) as [first, last]; null means "send the whole file"
 * (other units, syntax errors, several ranges: all allowed to be ignored). SP/HTAB are tolerated
 * around the unit, "=" and "-". A forward-only scan: every character is looked at once, so a crafted
 * value at the head limit costs microseconds (an expression with adjacent `\s*` groups backtracked
 * in the cube of its length).
 */
export function parseRange(header: string, size: number): [number, number] | null | 'unsatisfiable' {
  let i = skipBlanks(header, 0);
  if (!isBytesUnit(header, i)) return null;
  i = skipBlanks(header, i + 5);
  if (header.charCodeAt(i) !== 0x3d /* = */) return null;
  i = skipBlanks(header, i + 1);
  // Digits are summed as they are passed; a value past 2^53 is beyond any file size anyway.
  const firstStart = i;
  let first = 0;
  for (let c = header.charCodeAt(i); c >= 0x30 && c <= 0x39; c = header.charCodeAt(++i)) first = first * 10 + (c - 0x30);
  const hasFirst = i > firstStart;
  i = skipBlanks(header, i);
  if (header.charCodeAt(i) !== 0x2d /* - */) return null;
  i = skipBlanks(header, i + 1);
  const lastStart = i;
  let last = 0;
  for (let c = header.charCodeAt(i); c >= 0x30 && c <= 0x39; c = header.charCodeAt(++i)) last = last * 10 + (c - 0x30);
  const hasLast = i > lastStart;
  if (skipBlanks(header, i) !== header.length) return null;
  if (!hasFirst) {
    if (!hasLast) return null;
    if (last === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : [Math.max(0, size - last), size - 1];
  }
  if (first >= size) return 'unsatisfiable';
  const end = hasLast ? Math.min(last, size - 1) : size - 1;
  if (end < first) return null;
  return [first, end];
}

/** "bytes" at `i`, in any case (range units are case-insensitive, RFC 9110 14.1). */
function isBytesUnit(text: string, i: number): boolean {
  return (text.charCodeAt(i) | 0x20) === 0x62 && (text.charCodeAt(i + 1) | 0x20) === 0x79 && (text.charCodeAt(i + 2) | 0x20) === 0x74
    && (text.charCodeAt(i + 3) | 0x20) === 0x65 && (text.charCodeAt(i + 4) | 0x20) === 0x73;
}

function skipBlanks(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

function fileError(err: unknown, path: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') {
    // The message reaches the client: it names no filesystem path.
    return new HttpError(404, 'ERR_NOT_FOUND', 'Not Found');
  }
  if (code === 'EACCES' || code === 'EPERM') return new HttpError(403, 'ERR_FORBIDDEN', 'Forbidden');
  return err instanceof Error ? err : new Error(String(err));
}

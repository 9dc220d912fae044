// Form bodies: application/x-www-form-urlencoded parsed whole, and multipart/form-data (RFC 7578)
// streamed part by part through busboy, with its limits answered 413 and backpressure from the
// consumer of a file stream back to the socket. Nothing is written to disk.

import type { Readable, Writable } from 'node:stream';
import { HttpError } from '../connection/http-error.js';
import type { IncomingRequest } from '../connection/incoming-request.js';

/**
 * What a form is read from: the request's headers and body (request.ts's Request, with its body
 * limit). Named by shape here rather than imported from request.ts, which calls these readers.
 */
export interface FormSource extends Pick<IncomingRequest, 'header' | 'text'>, AsyncIterable<Buffer> {}

export interface FormOptions {
  /** Most fields accepted (413 beyond). Default 1000. */
  fields?: number;
}

export interface MultipartLimits {
  /** Most non-file fields. Default 1000. */
  fields?: number;
  /** Largest non-file field value in bytes. Default 1 MiB. */
  fieldSize?: number;
  /** Most files. Default 10. */
  files?: number;
  /** Largest file in bytes. Default 10 MiB. */
  fileSize?: number;
  /** Most parts, fields and files together. Default 1010. */
  parts?: number;
}

export interface FieldPart {
  kind: 'field';
  name: string;
  value: string;
  mimeType: string;
}

export interface FilePart {
  kind: 'file';
  name: string;
  filename: string | undefined;
  mimeType: string;
  /** The file's bytes as they arrive: read it (or pipe it) before asking for the next part, or it is discarded. */
  stream: Readable;
}

export type Part = FieldPart | FilePart;

const DEFAULT_LIMITS: Required<MultipartLimits> = {
  fields: 1000,
  fieldSize: 1_048_576,
  files: 10,
  fileSize: 10_485_760,
  parts: 1010,
};

function mediaType(req: FormSource): string {
  const type = req.header('content-type') ?? '';
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase();
}

function unsupported(expected: string): HttpError {
  return new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `expected a ${expected} body`);
}

function limitReached(what: string): HttpError {
  return new HttpError(413, 'ERR_FORM_LIMIT', `${what} over the limit`);
}

/** The urlencoded body's fields; 415 for another media type, 413 past `fields` or the body limit. */
export async function readForm(req: FormSource, options: FormOptions | undefined): Promise<URLSearchParams> {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') throw unsupported('application/x-www-form-urlencoded');
  const maxFields = options?.fields ?? DEFAULT_LIMITS.fields;
  const text = await req.text();
  let fields = text.length === 0 ? 0 : 1;
  for (let at = text.indexOf('&'); at !== -1 && fields <= maxFields; at = text.indexOf('&', at + 1)) fields++;
  if (fields > maxFields) throw limitReached(`more than ${maxFields} fields:`);
  return new URLSearchParams(text);
}

interface FileInfo { filename: string | undefined; encoding: string; mimeType: string }
interface FieldInfo { nameTruncated: boolean; valueTruncated: boolean; encoding: string; mimeType: string }
type Busboy = Writable & {
  on(event: 'field', listener: (name: string, value: string, info: FieldInfo) => void): Busboy;
  on(event: 'file', listener: (name: string, stream: Readable & { truncated?: boolean }, info: FileInfo) => void): Busboy;
  on(event: string, listener: (...args: any[]) => void): Busboy;
};
type BusboyFactory = (config: { headers: Record<string, string>; limits: Record<string, number>; defParamCharset: string }) => Busboy;

let busboyFactory: Promise<BusboyFactory> | null = null;

/** Loaded on the first multipart body: an app that takes none never loads it. */
function loadBusboy(): Promise<BusboyFactory> {
  // A specifier in a variable: the narrow types above are all this file needs, not @types/busboy.
  const specifier = 'busboy';
  return (busboyFactory ??= import(specifier).then((m: { default: unknown }) => m.default as BusboyFactory));
}

/**
 * The parts of a multipart/form-data body in order. The body is fed to busboy one chunk at a time
 * and the next chunk is read only when busboy has taken the last one, which it does only once the
 * file stream being written has room: a slow consumer slows the upload down to its own pace.
 */
export async function* readMultipart(req: FormSource, limits: MultipartLimits | undefined): AsyncGenerator<Part, void, undefined> {
  if (mediaType(req) !== 'multipart/form-data') throw unsupported('multipart/form-data');
  const l = { ...DEFAULT_LIMITS, ...limits };
  const createBusboy = await loadBusboy();
  let parser: Busboy;
  try {
    // fieldSize + 1 and fileSize + 1: busboy reports a limit when it is reached; one byte over it is what exceeds.
    parser = createBusboy({
      headers: { 'content-type': req.header('content-type')! },
      limits: { fields: l.fields, fieldSize: l.fieldSize + 1, files: l.files, fileSize: l.fileSize + 1, parts: l.parts },
      defParamCharset: 'utf8',
    });
  } catch (err) {
    throw new HttpError(400, 'ERR_INVALID_MULTIPART', `invalid multipart/form-data: ${(err as Error).message}`);
  }
  const queue: Part[] = [];
  let failure: unknown = null;
  let finished = false;
  let wake: (() => void) | null = null;
  let currentFile: Readable | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (err: unknown): void => {
    if (failure !== null) return;
    failure = err;
    // A consumer in the middle of a file hears it there; the iterator throws it next.
    if (currentFile !== null && !currentFile.destroyed) currentFile.destroy(err as Error);
    notify();
  };
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) return fail(limitReached(`field ${name}: more than ${l.fieldSize} bytes,`));
    if (info.nameTruncated) return fail(limitReached('a field name'));
    queue.push({ kind: 'field', name, value, mimeType: info.mimeType });
    notify();
  });
  parser.on('file', (name, stream, info) => {
    stream.on('limit', () => fail(limitReached(`file ${name}: more than ${l.fileSize} bytes,`)));
    queue.push({ kind: 'file', name, filename: info.filename, mimeType: info.mimeType, stream });
    notify();
  });
  parser.on('fieldsLimit', () => fail(limitReached(`more than ${l.fields} fields:`)));
  parser.on('filesLimit', () => fail(limitReached(`more than ${l.files} files:`)));
  parser.on('partsLimit', () => fail(limitReached(`more than ${l.parts} parts:`)));
  parser.on('error', (err: Error) => fail(new HttpError(400, 'ERR_INVALID_MULTIPART', `invalid multipart/form-data: ${err.message}`)));
  parser.on('close', () => {
    finished = true;
    notify();
  });
  let stopped = false;
  const pump = async (): Promise<void> => {
    try {
      for await (const chunk of req) {
        if (stopped || failure !== null) return;
        await new Promise<void>((resolve, reject) => parser.write(chunk, (err) => (err ? reject(err) : resolve())));
      }
      if (!stopped && failure === null) parser.end();
    } catch (err) {
      fail(err);
    }
  };
  void pump();
  try {
    for (;;) {
      if (currentFile !== null && currentFile.readableFlowing === null && !currentFile.destroyed) {
        // Not read by the consumer: drained so the parts after it can arrive.
        currentFile.resume();
      }
      if (failure !== null) throw failure;
      const part = queue.shift();
      if (part !== undefined) {
        currentFile = part.kind === 'file' ? part.stream : null;
        yield part;
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stopped = true;
    if (!finished) parser.destroy();
    for (const part of queue) if (part.kind === 'file') part.stream.resume();
  }
}

// A JSON REST API over an in-memory store: params, body validation answered with 422 and the
// problems found, 201 with Location, 204 on delete; a signed session cookie naming the author,
// CORS for a browser front end, compressed responses and a request log. Tested through inject().

import { isMain, serveExample } from './serve-example.js';
import { createServer, HttpError, type AppOptions, type Request } from '../lib/index.js';

export interface Note {
  id: number;
  title: string;
  body: string;
  tags: string[];
  updatedAt: string;
  /** The user of the signed session cookie that created the note, or null. */
  author: string | null;
}

/** Development only: a real deployment reads its keys from the environment, newest first. */
const DEV_COOKIE_SECRET = 'development-only-cookie-secret-0123456789';

/** The problems with a note payload, or an empty list when it is valid. */
export function validateNote(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return ['the body must be a JSON object'];
  const { title, body, tags } = input as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof title !== 'string' || title.trim().length === 0) problems.push('title: a non-empty string is required');
  else if (title.length > 200) problems.push('title: at most 200 characters');
  if (body !== undefined && typeof body !== 'string') problems.push('body: must be a string');
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))) problems.push('tags: must be an array of strings');
  for (const key of Object.keys(input)) if (!['title', 'body', 'tags'].includes(key)) problems.push(`${key}: unknown field`);
  return problems;
}

export function buildRestApp(options?: AppOptions & { corsOrigin?: string }) {
  // corsOrigin is this example's own option, not the server's: createServer() refuses keys it does not know.
  const { corsOrigin, ...serverOptions } = options ?? {};
  const secrets = process.env.COOKIE_SECRETS?.split(',') ?? [DEV_COOKIE_SECRET];
  const app = createServer({ bodyLimit: 64 * 1024, cookieSecret: secrets, ...serverOptions });
  const notes = new Map<number, Note>();
  let nextId = 1;

  // A browser front end on another origin may call the API with its cookie.
  app.cors({ origin: corsOrigin ?? 'http://localhost:5173', credentials: true, exposedHeaders: ['Location'] });
  app.compress();
  // Validation failures answer with the list of problems, in the same JSON shape as every error.
  app.setErrorHandler((err, _req, res) => {
    const problems = (err as { problems?: string[] }).problems;
    return { error: res.statusCode === 500 ? 'internal error' : (err as Error).message, ...(problems ? { problems } : {}) };
  });

  function find(id: string): Note {
    const note = notes.get(Number(id));
    if (note === undefined || !/^[1-9][0-9]*$/.test(id)) throw new HttpError(404, 'ERR_NOT_FOUND', `note ${id} not found`);
    return note;
  }

  async function readNote(req: Request<unknown>): Promise<Pick<Note, 'title' | 'body' | 'tags'>> {
    const input = await req.json<Record<string, unknown>>();
    const problems = validateNote(input);
    if (problems.length > 0) throw Object.assign(new HttpError(422, 'ERR_VALIDATION', 'invalid note'), { problems });
    return { title: (input.title as string).trim(), body: (input.body as string | undefined) ?? '', tags: (input.tags as string[] | undefined) ?? [] };
  }

  app.post('/session', async (req, res) => {
    const form = await req.form();
    const user = form.get('user') ?? '';
    if (!/^[a-z0-9_-]{1,32}$/i.test(user)) throw new HttpError(422, 'ERR_VALIDATION', 'user: 1-32 letters, digits, - or _');
    res.cookie('session', user, { signed: true, httpOnly: true, sameSite: 'Lax', maxAge: 86_400 });
    return { user };
  });
  app.delete('/session', (_req, res) => {
    res.clearCookie('session', { httpOnly: true, sameSite: 'Lax' });
    res.status(204).end();
  });

  app.get('/notes', (req) => {
    const tag = req.query.get('tag');
    const list = [...notes.values()];
    return tag === null ? list : list.filter((note) => note.tags.includes(tag));
  });
  app.get('/notes/:id', (req) => find(req.params.id));
  app.post('/notes', async (req, res) => {
    const author = req.signedCookies.session ?? null;
    const note: Note = { id: nextId++, ...(await readNote(req)), updatedAt: new Date().toISOString(), author };
    notes.set(note.id, note);
    res.status(201).setHeader('Location', `/notes/${note.id}`);
    return note;
  });
  app.put('/notes/:id', async (req) => {
    const existing = find(req.params.id);
    const note: Note = { ...existing, ...(await readNote(req)), updatedAt: new Date().toISOString() };
    notes.set(note.id, note);
    return note;
  });
  app.delete('/notes/:id', (req, res) => {
    notes.delete(find(req.params.id).id);
    res.status(204).end();
  });
  return app;
}

if (isMain(import.meta.url)) {
  await serveExample(buildRestApp({ logger: true, corsOrigin: process.env.CORS_ORIGIN }), 'linger REST API');
}

// Type tests: the public API compiled by TypeScript against snippets, asserting that correct use
// compiles cleanly and that wrong handler signatures and unknown route params fail to compile.

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import t from 'tap';
import ts from 'typescript';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  lib: ['lib.es2023.d.ts'],
};

/** Compiles each snippet as its own module next to the test sources; returns its diagnostics. */
function diagnose(snippets: Record<string, string>): Map<string, string[]> {
  const files = new Map<string, string>();
  for (const [name, code] of Object.entries(snippets)) files.set(join(repoRoot, 'test', `__types_${name}.ts`), code);
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = files.get(f);
    return text === undefined ? getSourceFile(f, lang, onError, create) : ts.createSourceFile(f, text, lang);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const result = new Map<string, string[]>();
  for (const [file] of files) {
    const sf = program.getSourceFile(file)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    result.set(file.slice(file.lastIndexOf('__types_') + 8, -3), diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')));
  }
  return result;
}

const header = "import { createServer, serve, serveStatic, type Handler } from '../lib/index.js';\nconst app = createServer();\n";

t.test('correct handlers compile; wrong signatures and unknown params do not', async (t) => {
  const results = diagnose({
    good: header + `
      app.get('/', () => 'hello');
      app.get('/count', () => 42);
      app.get('/flag', async () => true);
      app.get('/users/:id', (req) => ({ id: req.params.id.toUpperCase() }));
      app.get('/orgs/:org/repos/:repo', (req) => req.params.org + req.params.repo);
      app.get('/files/*', (req) => req.params['*']);
      app.get('/assets/*', serveStatic('./public'));
      app.post('/echo', { bodyLimit: 1024, timeout: 1000 }, async (req, res) => res.send(await req.buffer()));
      app.get('/stream', (_req, res) => { res.status(200).type('text/plain'); res.write('a'); res.end(); });
      app.onRequest((req) => { req.locals.user = 'x'; });
      app.onResponse((req, res) => void [req.path, res.statusCode]);
      app.setErrorHandler((err, _req, res) => ({ error: String(err), status: res.statusCode }));
      const h: Handler = (req) => req.query.get('q');
      app.get('/generic', h);
      app.group('/orgs/:org', { bodyLimit: 10 }, (org) => {
        org.onRequest((req) => { req.locals.user = 'x'; });
        org.onSend((_req, res, body) => { res.setHeader('X-A', '1'); return typeof body === 'string' ? body.trim() : undefined; });
        org.get('/repos/:repo', (req) => req.params.org + req.params.repo);
        org.group('/teams/:team', (team) => team.get('/', (req) => [req.params.org, req.params.team]));
        org.ws('/live/:channel', (socket, req) => socket.send(req.params.org + req.params.channel));
      });
      app.ws('/chat/:room', (socket, req) => socket.send(req.params.room));
      void serve({ fetch: (request) => new Response(request.url), port: 0 });
    `,
    unknownParam: header + "app.get('/users/:id', (req) => req.params.nope);\n",
    paramOnStatic: header + "app.get('/about', (req) => req.params.id);\n",
    wrongRequestType: header + "app.get('/', (req: number) => String(req));\n",
    wrongReturn: header + "app.get('/', () => 10n);\n",
    wrongOption: header + "app.get('/', { bodyLimit: '1mb' }, () => 'x');\n",
    wrongHook: header + "app.onRequest((req: string) => req);\n",
    wrongFetch: header + "void serve({ fetch: (request: Request) => 'not a response', port: 0 });\n",
    groupUnknownParam: header + "app.group('/orgs/:org', (org) => org.get('/repos/:repo', (req) => req.params.nope));\n",
    wsUnknownParam: header + "app.ws('/chat/:room', (socket, req) => socket.send(req.params.nope));\n",
    asyncOnSend: header + "app.onSend(async () => 'x');\n",
  });
  t.same(results.get('good'), [], 'the correct snippet compiles without diagnostics');
  for (const name of ['unknownParam', 'paramOnStatic', 'wrongRequestType', 'wrongReturn', 'wrongOption', 'wrongHook', 'wrongFetch', 'groupUnknownParam', 'wsUnknownParam', 'asyncOnSend']) {
    const diags = results.get(name)!;
    t.ok(diags.length > 0, `${name} fails to compile: ${diags[0]?.split('\n')[0] ?? 'no diagnostic'}`);
  }
  t.match(results.get('unknownParam')![0], /nope/, 'the diagnostic names the unknown param');
  t.match(results.get('groupUnknownParam')![0], /nope/, 'params through a group prefix are typed too');
});

// The published typings as a consumer gets them: dist/lib/index.d.ts and every declaration file it
// reaches, type-checked (no skipLibCheck), with @internal members stripped and no global augmentation.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const distLib = join(repoRoot, 'dist', 'lib');
const consumerFile = join(repoRoot, 'test', '__published_consumer.ts');

const CONSUMER = `
import { createServer, HttpError, ProtocolError, UsageError } from '../dist/lib/index.js';
const app = createServer({ keepAliveTimeout: 65_000 });
app.get('/', () => 'hello');
// One error shape: statusCode and code, constructed in the same order.
const errors: Array<{ statusCode: number; code: string }> = [new ProtocolError(400, 'ERR_BARE_LF', 'm'), new HttpError(413, 'ERR_BODY_TOO_LARGE', 'm')];
const usage: string = new UsageError('ERR_INVALID_OPTION', 'm').code;
// @ts-expect-error ProtocolError has no separate 'status'
void new ProtocolError(400, 'ERR_BARE_LF', 'm').status;
// @ts-expect-error importing linger does not add Node's internal latin1Slice to the global Buffer type
Buffer.alloc(1).latin1Slice(0, 1);
// @ts-expect-error engine counters are @internal: stripped from the published types
void app.counters;
void [errors, usage];
`;

function check(): { reached: string[]; diagnostics: string[] } {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    lib: ['lib.es2023.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === consumerFile ? CONSUMER : readFile(f));
  host.fileExists = (f) => f === consumerFile || fileExists(f);
  host.getSourceFile = (f, lang, onError, create) =>
    f === consumerFile ? ts.createSourceFile(f, CONSUMER, lang) : getSourceFile(f, lang, onError, create);
  const program = ts.createProgram([consumerFile], options, host);
  // Checked: the consumer and linger's declaration files (not @types/node, which is not ours).
  const ours = program.getSourceFiles().filter((sf) => sf.fileName === consumerFile || sf.fileName.startsWith(distLib));
  const diagnostics = ours.flatMap((sf) =>
    [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(
      (d) => `${sf.fileName.slice(repoRoot.length)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    ),
  );
  return { reached: ours.map((sf) => sf.fileName.slice(distLib.length + 1)).filter((f) => f.endsWith('.d.ts')), diagnostics };
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarationFiles(join(dir, e.name)) : e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

t.test('the published declaration files type-check as a consumer sees them', async (t) => {
  const { reached, diagnostics } = check();
  t.ok(reached.includes('index.d.ts') && reached.length > 5, `index.d.ts and what it reaches (${reached.length} files)`);
  t.same(diagnostics, [], 'no errors: nothing an exported type needs was stripped, and every expectation above holds');
});

t.test('no @internal declaration is left in dist/lib (stripInternal is on)', async (t) => {
  const files = declarationFiles(distLib);
  t.ok(files.length > 10, 'declaration files were emitted');
  t.same(files.filter((f) => readFileSync(f, 'utf8').includes('@internal')).map((f) => f.slice(distLib.length + 1)), []);
});

t.test('no declaration file augments a global', async (t) => {
  const files = declarationFiles(distLib);
  t.same(files.filter((f) => /declare global/.test(readFileSync(f, 'utf8'))).map((f) => f.slice(distLib.length + 1)), []);
});

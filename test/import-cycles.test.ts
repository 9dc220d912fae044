// No file in lib/ imports itself through others: the layers point one way. Every edge counts,
// `import type` and `export ... from` too, since a type-only circle is still two files that cannot
// be understood (or moved) one without the other. Sources are read with the TypeScript parser.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

function sources(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

/** The module specifiers a source names: imports (type-only too), export-from, import() calls and import('x') types. */
function specifiers(fileName: string, text: string): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const first = node.arguments[0];
      if (first !== undefined && ts.isStringLiteralLike(first)) found.push(first.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Relative specifiers as lib-relative .ts paths ('./x.js' is x.ts under NodeNext); packages and node: builtins are left out. */
function libGraph(): { graph: Map<string, string[]>; unresolved: string[] } {
  const paths = sources(LIB);
  const known = new Set(paths.map((p) => relative(LIB, p).split('\\').join('/')));
  const graph = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const path of paths) {
    const file = relative(LIB, path).split('\\').join('/');
    const targets: string[] = [];
    for (const specifier of specifiers(path, readFileSync(path, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(LIB, resolve(dirname(path), specifier)).split('\\').join('/').replace(/\.js$/u, '.ts');
      if (known.has(target)) targets.push(target);
      else unresolved.push(`${file}: ${specifier}`);
    }
    graph.set(file, [...new Set(targets)]);
  }
  return { graph, unresolved };
}

/**
 * The strongly connected components with more than one file, or one file that imports itself
 * (Tarjan's algorithm): each is a circle, listed with the edges that close it.
 */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    if (members.length === 1 && !(graph.get(v) ?? []).includes(v)) return;
    const inside = new Set(members);
    const edges = members.sort().flatMap((m) => (graph.get(m) ?? []).filter((to) => inside.has(to)).map((to) => `${m} -> ${to}`));
    found.push(edges.join('; '));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return found.sort();
}

t.test('no import cycle among the files of lib/, type-only imports and re-exports included', async (t) => {
  const { graph, unresolved } = libGraph();
  t.ok(graph.size > 50, `${graph.size} files read`);
  t.same(unresolved, [], 'every relative specifier names a file of lib/ (no edge is silently dropped)');
  // The kinds of edge that make circles easy to miss are seen on the real tree.
  t.ok(graph.get('app/dispatch.ts')?.includes('app/response.ts'), 'an import type edge: dispatch.ts -> response.ts');
  t.ok(graph.get('index.ts')?.includes('app/dispatch.ts'), 'an export type ... from edge: index.ts -> app/dispatch.ts');
  t.ok(graph.get('app/response.ts')?.includes('app/response-hooks.ts'), 'response.ts runs the send hooks from response-hooks.ts');
  t.same(cycles(graph), [], 'no circles');
});

t.test('the specifier scan sees every way a file can name another', async (t) => {
  const text = [
    "import a from './a.js';",
    "import type { B } from './b.js';",
    "import { type C } from './c.js';",
    "export { d } from './d.js';",
    "export type { E } from './e.js';",
    "export * from './f.js';",
    "type G = import('./g.js').G;",
    "const h = await import('./h.js');",
    "import i = require('./i.js');",
    "import 'node:fs';",
  ].join('\n');
  t.same(specifiers('x.ts', text), ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js', './i.js', 'node:fs']);
});

t.test('the cycle finder reports circles of every length and only those', async (t) => {
  const graph = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));
  t.same(cycles(graph({ a: ['b'], b: ['a'] })), ['a -> b; b -> a'], 'two files');
  t.same(cycles(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] })), ['a -> b; b -> c; c -> a'], 'three files, and one outside that points in');
  t.same(cycles(graph({ a: ['a'] })), ['a -> a'], 'a file importing itself');
  t.same(cycles(graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] })), [], 'a diamond is no circle');
  t.same(cycles(graph({ a: ['b'], b: ['a'], c: ['d'], d: ['c'] })), ['a -> b; b -> a', 'c -> d; d -> c'], 'two separate circles');
});

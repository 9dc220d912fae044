// Every regular expression in lib/, found with the TypeScript scanner, must be one reviewed here and
// must be structurally unable to backtrack super-linearly: at most one quantifier, so no two
// quantified parts can trade characters between them (what made the old Range expression cubic).
// A new expression fails this test until it is reviewed and listed.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

/** file → expressions in it, each with why its cost is linear in the input. */
const REVIEWED: Record<string, Record<string, string>> = {
  'app/app.ts': { "/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/": 'route method token: one class, anchored; input is code, not requests' },
  'app/cookies.ts': {
    "/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/": 'a cookie name is a token: one class, anchored',
    '/^[\\x20-\\x3a\\x3c-\\x7e]+$/': 'an attribute value: one class, anchored',
    '/^[A-Za-z0-9-]+$/': 'one DNS label: one class, anchored',
  },
  'app/cors.ts': {
    "/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/": 'a method or header name (and each name of Access-Control-Request-Headers, split on commas first): one class, anchored',
    '/^[a-z][a-z0-9+.-]*$/i': 'a configured origin\'s scheme: one class, anchored',
    '/^[^/\\s?#]+$/': 'a configured origin\'s host[:port]: one class, anchored',
  },
  'app/request-log.ts': {
    "/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/": 'the request-id header name from options: one class, anchored',
    '/^[\\x21-\\x7e]{1,128}$/': 'an incoming request id: anchored, at most 128 characters examined',
  },
  'inject/request-bytes.ts': {
    "/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/": 'a method name given to inject(): one class, anchored',
    '/[\\r\\n\\0]/': 'one class, no quantifier',
    '/[\\s\\0]/': 'one class, no quantifier',
  },
  'inject/response-parser.ts': { '/chunked/i': 'a literal, no quantifier' },
  'inject/inject.ts': {
    '/chunked/i': 'a literal, no quantifier',
    '/\\bclose\\b/i': 'a literal between word boundaries, no quantifier',
  },
  'app/fetch-adapter.ts': { '/chunked/i': 'a literal, no quantifier' },
  'app/fetch-url.ts': {
    '/\\/(?:\\.|%2e)(?:\\.|%2e)?(?:[/?]|$)/i': 'a dot segment: at most 8 characters examined from each start',
  },
  'app/response.ts': { '/[^\\x21-\\x7e]/gu': 'one class, no quantifier: each character is tested once' },
  'app/static-files.ts': { '/[/\\\\\\0]/': 'one class, no quantifier' },
  'cluster/upgrade.ts': {
    '/\\s+/': 'one class, one quantifier: a split of /proc/net/tcp lines (kernel output, not requests)',
    '/^socket:\\[(\\d+)\\]$/': 'anchored, one quantifier: a readlink of /proc/self/fd',
  },
  'socket-activation.ts': { '/^\\d+$/': 'anchored, one class: LISTEN_PID and LISTEN_FDS from the supervisor' },
  'connection/outgoing-response.ts': { '/^\\d{1,15}$/': 'anchored, at most 15 characters examined' },
  'connection/response-framing.ts': { '/^[\\x00-\\x7f]*$/': 'one class, anchored: one pass' },
  'ws/websocket-hub.ts': { '/^[+/0-9A-Za-z]{21}[AQgw]==$/': 'anchored, fixed length: at most 24 characters examined' },
};

interface Found {
  file: string;
  text: string;
}

function sources(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sources(path));
    else if (name.endsWith('.ts')) files.push(path);
  }
  return files;
}

function expressions(): Found[] {
  const found: Found[] = [];
  for (const path of sources(LIB)) {
    const file = relative(LIB, path).split('\\').join('/');
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) found.push({ file, text: node.getText(source) });
      if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.expression.getText(source) === 'RegExp') {
        found.push({ file, text: node.getText(source) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** Quantifiers outside character classes: *, +, ? (not after "(" as in "(?:"), and {n,m}. */
function quantifiers(pattern: string): number {
  let count = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '*' || c === '+' || c === '{' || (c === '?' && pattern[i - 1] !== '(')) count++;
  }
  return count;
}

t.test('every regular expression in lib/ is reviewed and has at most one quantifier', async (t) => {
  const found = expressions();
  t.ok(found.length > 0, `${found.length} expressions found (the scan works)`);
  for (const { file, text } of found) {
    const reason = REVIEWED[file]?.[text];
    t.ok(reason !== undefined, `${file}: ${text} is reviewed${reason === undefined ? '' : ` (${reason})`}`);
    const body = text.slice(1, text.lastIndexOf('/'));
    t.ok(text.startsWith('/') && quantifiers(body) <= 1, `${file}: ${text} has at most one quantifier`);
  }
  const listed = Object.entries(REVIEWED).flatMap(([file, list]) => Object.keys(list).map((text) => `${file} ${text}`));
  const present = new Set(found.map((f) => `${f.file} ${f.text}`));
  t.same(listed.filter((entry) => !present.has(entry)), [], 'no stale entries in the review list');
});

t.test('the quantifier count catches the shape that backtracks', async (t) => {
  t.equal(quantifiers(String.raw`^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$`), 8, 'the old Range expression');
  t.equal(quantifiers(String.raw`(^|,)\s*close\s*(,|$)`), 2, 'the old Connection expression');
  t.equal(quantifiers(String.raw`^[a*+?]+$`), 1, 'characters inside a class are not quantifiers');
  t.equal(quantifiers(String.raw`(?:ab)\?`), 0, 'a group marker and an escaped "?" are not quantifiers');
});

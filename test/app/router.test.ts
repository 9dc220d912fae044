// Router: exact and parameter routes, wildcard tails, percent-decoding, and what does not match.

import t from 'tap';
import { Router } from '../../lib/app/router.js';

const h = (name: string) => Object.assign(() => name, { routeName: name });

t.test('static, param and wildcard routes', async (t) => {
  const router = new Router<ReturnType<typeof h>>();
  router.add('GET', '/', h('root'));
  router.add('GET', '/users', h('users'));
  router.add('GET', '/users/:id', h('user'));
  router.add('GET', '/users/:id/posts/:post', h('post'));
  router.add('GET', '/files/*', h('files'));
  router.add('POST', '/users', h('create'));

  t.equal(router.find('GET', '/')?.handler.routeName, 'root');
  t.equal(router.find('GET', '/users')?.handler.routeName, 'users');
  t.same(router.find('GET', '/users/42')?.params, { id: '42' });
  t.same(router.find('GET', '/users/7/posts/9')?.params, { id: '7', post: '9' });
  t.same(router.find('GET', '/users/a%20b')?.params, { id: 'a b' }, 'params are percent-decoded');
  t.equal(router.find('GET', '/users/%E0%A4%A'), null, 'a malformed escape matches nothing');
  t.same(router.find('GET', '/files/a/b/c.txt')?.params, { '*': 'a/b/c.txt' });
  t.equal(router.find('GET', '/users/42/extra'), null);
  t.equal(router.find('GET', '/users/'), null, 'an empty param segment does not match');
  t.equal(router.find('POST', '/users')?.handler.routeName, 'create');
  t.equal(router.find('DELETE', '/users'), null);
  t.same(router.allowed('/users').sort(), ['GET', 'POST']);
  t.same(router.allowed('/nothing'), []);
});

t.test('invalid routes are typed errors', async (t) => {
  const router = new Router<() => string>();
  t.throws(() => router.add('GET', 'x', () => ''), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => router.add('GET', '/a/*/b', () => ''), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => router.add('GET', '/a', 'nope' as unknown as () => string), { code: 'ERR_INVALID_HANDLER' });
});

t.test('a more specific branch without the method backtracks to a general one', async (t) => {
  const router = new Router<ReturnType<typeof h>>();
  router.add('POST', '/a/b', h('post-ab'));
  router.add('GET', '/a/:x', h('get-ax'));
  router.add('GET', '/a/b/c', h('get-abc'));
  router.add('GET', '/a/:x/d', h('get-axd'));
  router.add('GET', '/a/*', h('get-a-tail'));
  t.same(router.find('GET', '/a/b')?.params, { x: 'b' }, 'static /a/b has no GET: the param route answers');
  t.equal(router.find('POST', '/a/b')?.handler.routeName, 'post-ab');
  t.equal(router.find('GET', '/a/b/c')?.handler.routeName, 'get-abc', 'static wins over param');
  t.same(router.find('GET', '/a/b/d')?.params, { x: 'b' }, 'static b has no d child: the param branch does');
  t.same(router.find('GET', '/a/b/zzz')?.params, { '*': 'b/zzz' }, 'neither branch matches: the wildcard does');
  t.same(router.allowed('/a/b').sort(), ['GET', 'POST']);
});

t.test('wildcard tails match one or more segments below their prefix, not the prefix itself', async (t) => {
  const router = new Router<ReturnType<typeof h>>();
  router.add('GET', '/files/*', h('files'));
  t.same(router.find('GET', '/files/')?.params, { '*': '' });
  t.same(router.find('GET', '/files/x/y%20z')?.params, { '*': 'x/y%20z' }, 'the tail stays encoded: its slashes are meaningful');
  t.equal(router.find('GET', '/files'), null);
  t.equal(router.find('GET', '/filesx/y'), null);
});

t.test('duplicate routes and duplicate param names are typed errors', async (t) => {
  const router = new Router<() => string>();
  router.add('GET', '/u/:id', () => '');
  t.throws(() => router.add('GET', '/u/:id', () => ''), { code: 'ERR_DUPLICATE_ROUTE' });
  t.throws(() => router.add('GET', '/u/:id/:id', () => ''), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => router.add('GET', '/u/:', () => ''), { code: 'ERR_INVALID_ROUTE' });
  t.doesNotThrow(() => router.add('POST', '/u/:id', () => ''), 'the same path for another method is fine');
});

t.test('5,000 routes: every one is found with its own params, and misses stay misses', async (t) => {
  const router = new Router<ReturnType<typeof h>>();
  for (let i = 0; i < 1000; i++) {
    router.add('GET', `/r${i}`, h(`static-${i}`));
    router.add('GET', `/r${i}/:id`, h(`param-${i}`));
    router.add('POST', `/r${i}/:id/items/:item`, h(`nested-${i}`));
    router.add('GET', `/v${i}/x/y`, h(`deep-${i}`));
    router.add('GET', `/w${i}/*`, h(`tail-${i}`));
  }
  let wrong = 0;
  for (let i = 0; i < 1000; i++) {
    if (router.find('GET', `/r${i}`)?.handler.routeName !== `static-${i}`) wrong++;
    const param = router.find('GET', `/r${i}/u${i}`);
    if (param?.handler.routeName !== `param-${i}` || param.params.id !== `u${i}`) wrong++;
    const nested = router.find('POST', `/r${i}/a/items/b${i}`);
    if (nested?.handler.routeName !== `nested-${i}` || nested.params.item !== `b${i}`) wrong++;
    if (router.find('GET', `/v${i}/x/y`)?.handler.routeName !== `deep-${i}`) wrong++;
    if (router.find('GET', `/w${i}/a/b`)?.params['*'] !== 'a/b') wrong++;
    if (router.find('GET', `/v${i}/x/z`) !== null) wrong++;
    if (router.find('PUT', `/r${i}`) !== null) wrong++;
  }
  t.equal(wrong, 0);
});

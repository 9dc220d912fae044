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

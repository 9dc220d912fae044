// The `Keep-Alive: timeout=` rule (options.ts, KeepAliveLines): a whole second, never 0, strictly
// below the enforced timeout minus the reap guard, left out when no such second exists; explicit
// values outside that range are a typed error, not a silent header a client would misread.

import t from 'tap';
import { fakeApp, settle } from '../helpers/fake-socket.js';
import { get } from '../helpers/raw-client.js';
import { resolveOptions, safeAdvertisedTimeout } from '../../lib/connection/options.js';
import { createServer } from '../../lib/index.js';

t.test('the advertised timeout for each enforced timeout and guard', async (t) => {
  const table: Array<[keepAliveTimeout: number, idleReapGuard: number | undefined, advertised: number | null]> = [
    [65_000, undefined, 60], // enforced - 5 s
    [20_000, undefined, 15],
    [10_000, undefined, 5], // half below 10 s
    [5_000, undefined, 2],
    [3_000, undefined, 1],
    [2_500, undefined, 1], // 1000 < 2500 - 1000
    [2_000, undefined, null], // 1000 is not below 2000 - 1000: no safe second, the parameter is left out
    [1_000, undefined, null], // the value that used to advertise timeout=0
    [150, undefined, null],
    [1_500, 250, 1], // a shorter guard makes room for one second
    [1_500, 0, 1],
    [1_000, 0, null], // 1000 is not below 1000
    [65_000, 30_000, 34], // the guard caps the preferred 60
    [4_500, 1_000, 2], // preferred floor(2250 / 1000) = 2, cap 3
  ];
  for (const [keepAliveTimeout, idleReapGuard, advertised] of table) {
    const resolved = resolveOptions({ keepAliveTimeout, idleReapGuard });
    t.equal(resolved.keepAliveAdvertisedTimeout, advertised, `keepAliveTimeout ${keepAliveTimeout}, guard ${idleReapGuard ?? 'default'}`);
    if (advertised !== null) {
      t.ok(advertised >= 1 && advertised * 1000 < keepAliveTimeout - resolved.idleReapGuard, 'within the rule');
    }
  }
  t.equal(safeAdvertisedTimeout(3_250, 0), 3);
  t.equal(safeAdvertisedTimeout(3_000, 0), 2);
});

t.test('explicit values: a whole second within the safe range, or a typed error saying which', async (t) => {
  t.equal(resolveOptions({ keepAliveTimeout: 3_500, idleReapGuard: 250, keepAliveAdvertisedTimeout: 3 }).keepAliveAdvertisedTimeout, 3);
  t.equal(resolveOptions({ keepAliveAdvertisedTimeout: 1 }).keepAliveAdvertisedTimeout, 1);
  t.equal(resolveOptions({ keepAliveAdvertisedTimeout: 63 }).keepAliveAdvertisedTimeout, 63, '63 s < 65 s - 1 s');
  t.throws(() => createServer({ keepAliveAdvertisedTimeout: 0 }), { code: 'ERR_INVALID_OPTION', message: /from 1 to 63/ }, '0 is "no limit" to HttpClient');
  t.throws(() => createServer({ keepAliveAdvertisedTimeout: 64 }), { code: 'ERR_INVALID_OPTION' }, 'not below enforced - guard');
  t.throws(() => createServer({ keepAliveAdvertisedTimeout: 1.5 }), { code: 'ERR_INVALID_OPTION' }, 'clients parse an integer');
  t.throws(() => createServer({ keepAliveTimeout: 1_000, keepAliveAdvertisedTimeout: 1 }), { code: 'ERR_INVALID_OPTION', message: /left unset/ });
  t.throws(() => createServer({ keepAliveAdvertisedTimeout: '5' as unknown as number }), { code: 'ERR_INVALID_OPTION' });
});

t.test('on the wire: timeout and max, max alone, or no Keep-Alive header at all', async (t) => {
  const cases: Array<[options: Parameters<typeof fakeApp>[0], request: string, keepAlive: string | undefined]> = [
    [{ keepAliveTimeout: 2_500 }, get('/'), 'timeout=1, max=999'],
    [{ keepAliveTimeout: 1_000 }, get('/'), 'max=999'],
    [{ keepAliveTimeout: 1_000, maxRequestsPerSocket: 0 }, get('/'), undefined],
    [{ keepAliveTimeout: 2_500, maxRequestsPerSocket: 0 }, get('/'), 'timeout=1'],
    [{ keepAliveTimeout: 1_000 }, get('/', 'Connection: keep-alive\r\n', '1.0'), 'max=999'],
  ];
  for (const [options, request, keepAlive] of cases) {
    const { app, connect } = fakeApp(options, (app) => app.get('/', () => 'hi'));
    const socket = connect();
    socket.send(request);
    await settle();
    const [res] = socket.responses();
    t.equal(res?.headers.connection, 'keep-alive', `${JSON.stringify(options)}: still persistent`);
    t.equal(res?.headers['keep-alive'], keepAlive, `${JSON.stringify(options)}: Keep-Alive ${keepAlive ?? 'absent'}`);
    await app.close({ timeout: 0 });
  }
});

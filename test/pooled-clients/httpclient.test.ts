// Apache HttpClient 4.5 (Debian libhttpclient-java, compiled with javac at test time) with its
// default DefaultConnectionKeepAliveStrategy, which honours Keep-Alive: timeout, through the
// pooled-client scenarios.

import t from 'tap';
import { checkClient } from './harness.js';
import { buildProbe } from './httpclient-build.js';

t.test('Apache HttpClient 4.5, default keep-alive strategy', async (t) => {
  const probe = await buildProbe(t);
  if (probe === null) return;
  await checkClient(t, 'HttpClient, default strategy', true, probe('hint'));
});

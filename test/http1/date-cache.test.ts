// The Date header value: IMF-fixdate (RFC 9110 5.6.7) for the current second, from a per-second cache.

import t from 'tap';
import { formatHttpDate, httpDate } from '../../lib/http1/date-cache.js';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

t.test('httpDate is IMF-fixdate for the current second', async (t) => {
  // Retried across a second boundary, so the comparison is always for the same second.
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = new Date().toUTCString();
    const value = httpDate();
    const after = new Date().toUTCString();
    if (before !== after) continue;
    t.match(value, IMF_FIXDATE);
    t.equal(value, before, 'equals new Date().toUTCString() in the same second');
    t.equal(httpDate(), value, 'cached within the second');
    return;
  }
  t.fail('the clock kept crossing second boundaries');
});

t.test('formatHttpDate', async (t) => {
  t.equal(formatHttpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  t.equal(formatHttpDate(784111777000), 'Sun, 06 Nov 1994 08:49:37 GMT', 'the RFC 9110 example');
  t.equal(formatHttpDate(784111777999), 'Sun, 06 Nov 1994 08:49:37 GMT', 'milliseconds are dropped');
  t.equal(formatHttpDate(Date.UTC(2024, 1, 29, 23, 59, 59)), 'Thu, 29 Feb 2024 23:59:59 GMT');
  t.match(formatHttpDate(Date.UTC(2099, 11, 31)), IMF_FIXDATE);
});

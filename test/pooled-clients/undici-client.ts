// A pooled undici client (Client per worker, or a Pool) for the pooled-clients tests: runs one
// scenario against a linger server and prints {"requests","ok","failures","refused","retries","resets","errors"}
// as JSON. undici retries nothing by itself here; like the other clients' defaults, an idempotent
// request that fails on a socket error is retried up to 3 times, and each retry is counted.
// Usage: node undici-client.js <idle|limit|close> <url> <workers> <arg>

import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool, type Dispatcher } from 'undici';

const result = { requests: 0, ok: 0, failures: 0, refused: 0, retries: 0, resets: 0, errors: [] as string[] };

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return `${e.code ?? ''} ${e.message ?? String(err)}${e.cause?.code !== undefined ? ` (${e.cause.code})` : ''}`.trim();
}

async function get(dispatcher: Dispatcher, path: string): Promise<void> {
  result.requests++;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await dispatcher.request({ path, method: 'GET' });
      await res.body.text();
      if (res.statusCode === 200) result.ok++;
      else {
        result.failures++;
        if (result.errors.length < 5) result.errors.push(`status ${res.statusCode}`);
      }
      return;
    } catch (err) {
      const message = describe(err);
      if (/reset/i.test(message)) result.resets++;
      if (/ECONNREFUSED/.test(message)) {
        // A new connection after the server stopped listening: the request never left the client.
        result.refused++;
        if (result.errors.length < 5) result.errors.push(message);
        return;
      }
      if (result.errors.length < 5) result.errors.push(attempt < 3 ? `retried: ${message}` : message);
      if (attempt >= 3) {
        result.failures++;
        return;
      }
      result.retries++;
    }
  }
}

const [mode, base, workersArg, arg] = process.argv.slice(2) as [string, string, string, string];
const workers = Number(workersArg);
const lanes = Array.from({ length: workers }, (_v, w) => w);

if (mode === 'idle') {
  // One connection per worker, so its idle time is exactly the gap before its next request.
  const gaps = arg.split(',').map(Number);
  await Promise.all(lanes.map(async (w) => {
    const client = new Client(base);
    await get(client, '/');
    for (let i = 0; i < gaps.length; i++) {
      await sleep(gaps[(i + w) % gaps.length]!);
      await get(client, '/');
    }
    await client.close();
  }));
} else if (mode === 'limit') {
  const pool = new Pool(base, { connections: workers });
  await Promise.all(lanes.map(async () => {
    for (let i = 0; i < Number(arg); i++) await get(pool, '/');
  }));
  await pool.close();
} else {
  const pool = new Pool(base, { connections: workers });
  await Promise.all(lanes.map(() => get(pool, '/warm')));
  await Promise.all(lanes.map(async (w) => {
    if (w % 2 === 0) await get(pool, `/slow?ms=${arg}`);
    else {
      await sleep(200);
      await get(pool, '/');
    }
  }));
  await pool.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);

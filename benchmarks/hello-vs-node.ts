// examples/hello against node:http on the same route, measured in one run: servers pinned to core 0,
// wrk pinned to core 1, a warm-up each, rounds interleaved A B A B, medians and their ratio.
// Env: ROUNDS (3), DURATION seconds (5), CONNECTIONS (50), PIPELINE (unset = no pipelining).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const PIPELINE = process.env.PIPELINE ? Number(process.env.PIPELINE) : 0;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

interface Target {
  name: string;
  script: string;
  port: number;
  child?: ChildProcess;
  results: number[];
}

const targets: Target[] = [
  { name: 'linger', script: here('../examples/hello.js'), port: 3101, results: [] },
  { name: 'node:http', script: here('./servers/node-http.js'), port: 3102, results: [] },
];

function hasTaskset(): Promise<boolean> {
  return new Promise((resolve) => execFile('taskset', ['-c', '0', 'true'], (err) => resolve(err === null)));
}

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} never opened`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function wrk(port: number, seconds: number, pin: boolean): Promise<number> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`];
  if (PIPELINE > 0) args.push('-s', here('../../benchmarks/pipeline.lua'));
  args.push(`http://127.0.0.1:${port}/`);
  if (PIPELINE > 0) args.push('--', String(PIPELINE));
  const [cmd, full] = pin ? ['taskset', ['-c', '1', 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    execFile(cmd, full as string[], { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      if (/Socket errors|Non-2xx/.test(stdout)) return reject(new Error(`wrk saw errors:\n${stdout}`));
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      if (m === null) return reject(new Error(`unexpected wrk output:\n${stdout}`));
      resolve(Number(m[1]));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const pin = await hasTaskset();
  try {
    for (const target of targets) {
      const env = { ...process.env, PORT: String(target.port), HOST: '127.0.0.1' };
      target.child = pin
        ? spawn('taskset', ['-c', '0', process.execPath, target.script], { env, stdio: 'ignore' })
        : spawn(process.execPath, [target.script], { env, stdio: 'ignore' });
      await waitForPort(target.port);
      await wrk(target.port, 2, pin); // warm-up: JIT and connection setup out of the measurement
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) target.results.push(await wrk(target.port, DURATION, pin));
    }
  } finally {
    for (const target of targets) if (target.child?.pid !== undefined) process.kill(target.child.pid, 'SIGTERM');
  }
  const [linger, node] = targets.map((t) => median(t.results)) as [number, number];
  const mode = PIPELINE > 0 ? `pipelined depth ${PIPELINE}` : 'keep-alive';
  console.log(`\n${mode}, ${CONNECTIONS} connections, ${ROUNDS} x ${DURATION}s rounds, pinned: ${pin}`);
  for (const target of targets) {
    console.log(`${target.name.padEnd(10)} median ${median(target.results).toFixed(0).padStart(8)} req/s   rounds ${target.results.map((r) => r.toFixed(0)).join(', ')}`);
  }
  console.log(`ratio linger / node:http: ${(linger / node).toFixed(2)}`);
  console.log(JSON.stringify({ mode, connections: CONNECTIONS, pinned: pin, linger, node, ratio: linger / node }));
}

await main();

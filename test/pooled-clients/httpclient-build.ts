// Compiles HttpClientProbe.java against Debian's libhttpclient-java jars into a temp dir, and
// builds the command that runs it with a keep-alive policy.

import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { missing, runProcess, source, tempDir, type Mode } from './harness.js';

const JARS = ['httpclient', 'httpcore', 'commons-logging', 'commons-codec'].map((name) => `/usr/share/java/${name}.jar`);

export type ProbeCommand = (policy: 'hint' | 'ignore', tunedMs?: number) => (mode: Mode, url: string, workers: number, arg: string) => [string, string[]];

/** Null when HttpClient or javac is missing (the test has been told, see missing()). */
export async function buildProbe(t: Test): Promise<ProbeCommand | null> {
  const absent = JARS.filter((jar) => !existsSync(jar));
  if (absent.length > 0) {
    missing(t, `Apache HttpClient 4.5 (Debian libhttpclient-java: ${absent.join(', ')})`);
    return null;
  }
  const javac = await runProcess('javac', ['-version'], 30_000);
  if (javac.code !== 0) {
    missing(t, 'javac (Debian default-jdk-headless)');
    return null;
  }
  const dir = tempDir(t, 'linger-httpclient-');
  const classpath = JARS.join(':');
  const compile = await runProcess('javac', ['-d', dir, '-cp', classpath, source('HttpClientProbe.java')], 120_000);
  t.equal(compile.code, 0, `javac: ${compile.stderr}`);
  if (compile.code !== 0) return null;
  return (policy, tunedMs) => (mode, url, workers, arg) =>
    ['java', ['-cp', `${dir}:${classpath}`, 'HttpClientProbe', mode, url, String(workers), arg, policy, ...(tunedMs === undefined ? [] : [String(tunedMs)])]];
}

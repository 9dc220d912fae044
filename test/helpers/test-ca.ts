// A throwaway certificate authority made with `openssl` at test time (no private key is committed):
// a CA, server certificates for localhost / 127.0.0.1, and client certificates for mutual TLS.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCa {
  dir: string;
  /** PEM of the CA certificate, and its file for curl --cacert / s_client -CAfile. */
  ca: Buffer;
  caFile: string;
  /** Issues a certificate signed by this CA; `server` adds the localhost / 127.0.0.1 names. */
  issue(name: string, kind: 'server' | 'client'): { key: Buffer; cert: Buffer; keyFile: string; certFile: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** EC P-256 keys: fast to generate and to sign with, so the suite does not wait on RSA key generation. */
export function createTestCa(label = 'linger test'): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-ca-'));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', `/CN=${label} CA`, '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let serial = 1;
  return {
    dir,
    ca: readFileSync(path.join(dir, 'ca.pem')),
    caFile: path.join(dir, 'ca.pem'),
    issue(name, kind) {
      const keyFile = path.join(dir, `${name}.key`);
      const certFile = path.join(dir, `${name}.pem`);
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
      const ext = kind === 'server'
        ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n';
      writeFileSync(path.join(dir, `${name}.ext`), ext);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', '2',
        '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
      return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

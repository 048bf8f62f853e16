/**
 * A throw-away certificate authority made with `openssl` at test time, and servers whose
 * certificate it signs: for tests of custom CAs (`caPem`, the Prometheus `ca.crt`). Nothing is
 * kept on disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Handler, type TestServer, listenRecorded } from './server.fixture.ts';

/** A CA certificate and one server certificate it issued. */
export interface TestPki {
  /** The CA certificate (PEM): what a client must trust. */
  readonly caPem: string;
  /** The server certificate (PEM, leaf only), SAN `IP:127.0.0.1` and `DNS:localhost`. */
  readonly certPem: string;
  /** The server's private key (PEM). */
  readonly keyPem: string;
}

/**
 * Creates a CA (`CN=<name> test CA`) and a server certificate signed by it, valid for `san`
 * (default `IP:127.0.0.1,DNS:localhost`).
 */
export function createTestPki(name = 'fledge', san = 'IP:127.0.0.1,DNS:localhost'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-pki-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  try {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt')]
        .concat(['-days', '2', '-subj', `/CN=${name} test CA`])
        .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    );
    openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr')].concat([
        '-subj',
        '/CN=127.0.0.1',
      ]),
    );
    writeFileSync(
      f('ext.cnf'),
      `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    );
    openssl(
      ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial'].concat([
        '-out',
        f('server.crt'),
        '-days',
        '2',
        '-extfile',
        f('ext.cnf'),
      ]),
    );
    return {
      caPem: readFileSync(f('ca.crt'), 'utf8'),
      certPem: readFileSync(f('server.crt'), 'utf8'),
      keyPem: readFileSync(f('server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts an HTTPS server on 127.0.0.1 presenting the PKI's server certificate (without the CA in the chain). */
export function startCaSignedServer(pki: TestPki, handler: Handler): Promise<TestServer> {
  return listenRecorded((serve) => createHttpsServer({ key: pki.keyPem, cert: pki.certPem }, serve), 'https', handler);
}

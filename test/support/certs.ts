/**
 * Test certificates made at test time with openssl (never committed: the keys live in a temp dir):
 * a CA, a server certificate for 127.0.0.1 and localhost (subjectAltName, as TLS name checks need),
 * and client certificates signed by the same CA, CN = the name given.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.ts';

export interface CertFiles {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate and key files by CN. */
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
  /** A file's text. */
  read(file: string): string;
}

const openssl = (args: string[], cwd: string): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** EC P-256 keys: made in milliseconds, where RSA 2048 takes a noticeable moment each. */
function keyAndCsr(dir: string, name: string, cn: string): void {
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
}

function sign(dir: string, name: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`], dir);
}

export function makeCerts(clientNames: readonly string[] = []): CertFiles {
  const dir = tempDir('vigil-certs-');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=vigil test CA'], dir);
  keyAndCsr(dir, 'server', 'localhost');
  sign(dir, 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const clients: Record<string, { cert: string; key: string }> = {};
  clientNames.forEach((cn, i) => {
    keyAndCsr(dir, `client${i}`, cn);
    sign(dir, `client${i}`, 'extendedKeyUsage=clientAuth\n');
    clients[cn] = { cert: join(dir, `client${i}.crt`), key: join(dir, `client${i}.key`) };
  });
  return {
    dir, ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'), clients,
    read: (file) => readFileSync(file, 'utf8'),
  };
}

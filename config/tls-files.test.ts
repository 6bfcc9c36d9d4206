import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type CertFiles } from '../test/support/certs.ts';
import { mergeTlsFiles, readTlsFiles } from './tls-files.ts';
import { vigilErrorOf } from '../test/support/vigil-error.ts';

let certs: CertFiles;
let client: { cert: string; key: string };
let other: { cert: string; key: string };
beforeAll(() => {
  certs = makeCerts(['fleet', 'other']);
  client = certs.clients.fleet as { cert: string; key: string };
  other = certs.clients.other as { cert: string; key: string };
});

const refusal = vigilErrorOf;

describe('readTlsFiles', () => {
  it('reads a CA, a client certificate and its key', () => {
    const m = readTlsFiles({ ca: { path: certs.ca, from: '--ca' }, cert: { path: client.cert, from: '--cert' }, key: { path: client.key, from: '--key' } });
    expect(m?.ca).toContain('BEGIN CERTIFICATE');
    expect(m?.key).toContain('PRIVATE KEY');
    expect(readTlsFiles({})).toBeUndefined();
  });

  it('names the file and the flag of a missing file, a file that does not parse, and a key of another certificate', () => {
    const missing = refusal(() => readTlsFiles({ ca: { path: '/nonexistent/ca.pem', from: '--ca' } }));
    expect(missing.message).toBe('--ca /nonexistent/ca.pem: no such file');
    expect(missing.fix).toMatch(/PEM CA certificate/);

    const garbage = join(certs.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    expect(refusal(() => readTlsFiles({ ca: { path: garbage, from: 'scenario tls.ca' } })).message).toBe(`scenario tls.ca ${garbage}: does not parse as a certificate`);
    expect(refusal(() => readTlsFiles({ cert: { path: client.cert, from: '--cert' }, key: { path: garbage, from: '--key' } })).message).toMatch(/^--key .*garbage\.pem: does not parse as a private key$/);
    expect(refusal(() => readTlsFiles({ cert: { path: client.cert, from: '--cert' }, key: { path: other.key, from: '--key' } })).message).toMatch(/is not the key of --cert/);
    expect(refusal(() => readTlsFiles({ cert: { path: client.cert, from: '--cert' } })).message).toMatch(/without its key/);
  });
});

describe('mergeTlsFiles', () => {
  it('takes each flag over the scenario entry, scenario paths relative to the scenario folder', () => {
    const files = mergeTlsFiles({ ca: 'flag-ca.pem' }, { ca: 'scn-ca.pem', cert: 'certs/c.pem', key: '/abs/k.pem' }, '/proj/scenarios');
    expect(files.ca).toEqual({ path: expect.stringMatching(/\/flag-ca\.pem$/), from: '--ca' });
    expect(files.cert).toEqual({ path: '/proj/scenarios/certs/c.pem', from: 'scenario tls.cert' });
    expect(files.key).toEqual({ path: '/abs/k.pem', from: 'scenario tls.key' });
  });
});

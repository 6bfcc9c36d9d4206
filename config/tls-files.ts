/**
 * TLS files a run or a pipeline is given (issue 8 item 1): `--ca`, `--cert`, `--key` on the command
 * line, or the scenario's `tls: { ca, cert, key }` (paths relative to the scenario file); a flag wins
 * over the scenario, one file at a time. Each file is read and parsed here, before anything
 * connects: a missing or unreadable file, or one that is not a PEM certificate or key, stops the run
 * (exit 2) naming the file and where it came from.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { VigilError } from '../protocol/errors.ts';
import type { TlsMaterial } from '../protocol/tls.ts';

export type TlsRole = 'ca' | 'cert' | 'key';

/** One file: its path, and where it was given ("--ca", "scenario tls.ca"). */
export interface TlsFile {
  readonly path: string;
  readonly from: string;
}

export type TlsFiles = Partial<Record<TlsRole, TlsFile>>;

const WHAT: Record<TlsRole, string> = {
  ca: 'a PEM CA certificate (-----BEGIN CERTIFICATE-----)',
  cert: 'a PEM client certificate (-----BEGIN CERTIFICATE-----)',
  key: 'a PEM private key (-----BEGIN PRIVATE KEY----- or an RSA/EC key), without a passphrase',
};

function bad(role: TlsRole, f: TlsFile, why: string): VigilError {
  return new VigilError('VIGIL_USAGE', `${f.from} ${f.path}: ${why}`, `give ${f.from} ${WHAT[role]}`);
}

function readOne(role: TlsRole, f: TlsFile): string {
  let text: string;
  try {
    text = readFileSync(f.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw bad(role, f, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable (permission denied)' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? 'error'})`);
  }
  try {
    if (role === 'key') createPrivateKey(text);
    // A CA file may hold several certificates; the first must parse, and Node's TLS checks the rest.
    else new X509Certificate(text);
  } catch {
    throw bad(role, f, `does not parse as ${role === 'key' ? 'a private key' : 'a certificate'}`);
  }
  return text;
}

/** Reads and checks every file; a client certificate needs its key and the other way round. */
export function readTlsFiles(files: TlsFiles): TlsMaterial | undefined {
  if (!files.ca && !files.cert && !files.key) return undefined;
  if ((files.cert === undefined) !== (files.key === undefined)) {
    const given = (files.cert ?? files.key) as TlsFile;
    throw new VigilError('VIGIL_USAGE', `${given.from} ${given.path} is given without its ${files.cert ? 'key' : 'certificate'}`, 'give a certificate and its key together: --cert and --key (tls.cert and tls.key in a scenario), or --https-cert and --https-key');
  }
  const material = {
    ca: files.ca && readOne('ca', files.ca),
    cert: files.cert && readOne('cert', files.cert),
    key: files.key && readOne('key', files.key),
  };
  if (material.cert !== undefined && material.key !== undefined) {
    const cert = new X509Certificate(material.cert);
    if (!cert.checkPrivateKey(createPrivateKey(material.key))) {
      throw new VigilError('VIGIL_USAGE', `${files.key?.from} ${files.key?.path} is not the key of ${files.cert?.from} ${files.cert?.path}`, 'give the key the client certificate was made for');
    }
  }
  return material;
}

/**
 * The files of a run: each flag given, else the scenario's entry resolved against the scenario's
 * folder. Paths are absolute, so a pipeline child started elsewhere reads the same files.
 */
export function mergeTlsFiles(flags: Partial<Record<TlsRole, string | undefined>>, scenario: Partial<Record<TlsRole, string | undefined>> | undefined, scenarioDir: string): TlsFiles {
  const files: TlsFiles = {};
  for (const role of ['ca', 'cert', 'key'] as const) {
    const flag = flags[role];
    const fromScenario = scenario?.[role];
    if (flag !== undefined) files[role] = { path: resolve(flag), from: `--${role}` };
    else if (fromScenario !== undefined) files[role] = { path: resolve(scenarioDir, fromScenario), from: `scenario tls.${role}` };
  }
  return files;
}

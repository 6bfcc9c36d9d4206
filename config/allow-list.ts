/**
 * The safety interlock's allow-list (issue 8 item 4): which hosts Vigil may send load and inject
 * faults toward. Loopback always (127.0.0.0/8, ::1, localhost); any other host only when the
 * project config names it (config/project-config.ts, `targets.allow`).
 *
 * An entry is a host name, an IP address, or a CIDR range ("10.1.0.0/16"). Names are matched as
 * written — case aside — and never resolved: a name is allowed when that name is listed, an
 * address when it falls in a listed address or range. Resolving would make the check depend on
 * what DNS answers at one moment, which can change between the check and the connection (the very
 * endpoint move Vigil rehearses), and a name that points at loopback today may point at production
 * tomorrow. So `staging.example` must be listed even if it resolves to 127.0.0.1; only `localhost`
 * is allowed by name out of the box. Anything that is neither a listed name nor an address in a
 * listed range ("127.1", "0x7f.1", "localhost.") is refused: the simplest rule that cannot be fooled.
 *
 * Addresses and ranges are matched by Node's net.BlockList (IPv4, IPv6, and IPv4-mapped IPv6
 * alike) rather than hand-written prefix arithmetic.
 */
import { BlockList, isIP } from 'node:net';

/** Loopback, allowed without any config. */
export const LOOPBACK_ENTRIES = ['127.0.0.0/8', '::1', 'localhost'] as const;

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

type Parsed = { kind: 'name'; name: string } | { kind: 'address'; address: string; family: 'ipv4' | 'ipv6' } | { kind: 'range'; network: string; prefix: number; family: 'ipv4' | 'ipv6' };

function parseEntry(entry: string): Parsed | string {
  const text = entry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return `"${entry}" is a URL: write its host alone, like "${hostOf(text) ?? 'staging-broker.example'}"`;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const network = text.slice(0, slash);
    const prefixText = text.slice(slash + 1);
    const v = isIP(network);
    const max = v === 4 ? 32 : 128;
    if (v === 0 || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `"${entry}" is not a CIDR range: expected an address, "/" and a prefix length, like "10.1.0.0/16"`;
    return { kind: 'range', network, prefix: Number(prefixText), family: v === 4 ? 'ipv4' : 'ipv6' };
  }
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  const v = isIP(bare);
  if (v !== 0) return { kind: 'address', address: bare, family: v === 4 ? 'ipv4' : 'ipv6' };
  if (HOST_NAME.test(text) && !/^[\d.]+$/.test(text)) return { kind: 'name', name: text.toLowerCase() };
  return `"${entry}" is not a host name, an IP address or a CIDR range (like "staging-broker.example", "10.1.2.3" or "10.1.0.0/16")`;
}

/** Why an allow-list entry is not one, or undefined when it is. */
export function allowEntryProblem(entry: string): string | undefined {
  const p = parseEntry(entry);
  return typeof p === 'string' ? p : undefined;
}

/** The host of a URL as Vigil would dial it: brackets off an IPv6 literal, lower case; undefined when the URL has none. */
export function hostOf(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === '' ? undefined : host;
}

export class AllowList {
  private readonly names = new Set<string>();
  private readonly addresses = new BlockList();

  /** Loopback plus `extra`; throws a TypeError on an invalid entry (the config schema checks them first, naming the field). */
  constructor(extra: readonly string[] = []) {
    for (const entry of [...LOOPBACK_ENTRIES, ...extra]) {
      const p = parseEntry(entry);
      if (typeof p === 'string') throw new TypeError(p);
      if (p.kind === 'name') this.names.add(p.name);
      else if (p.kind === 'address') this.addresses.addAddress(p.address, p.family);
      else this.addresses.addSubnet(p.network, p.prefix, p.family);
    }
  }

  /** Whether Vigil may connect to `host` (as hostOf gives it): a listed name, or an address in a listed address or range. */
  allows(host: string): boolean {
    const v = isIP(host);
    if (v === 0) return this.names.has(host.toLowerCase());
    return this.addresses.check(host, v === 4 ? 'ipv4' : 'ipv6');
  }
}

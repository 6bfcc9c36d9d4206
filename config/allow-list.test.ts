import { describe, expect, it } from 'vitest';
import { allowEntryProblem, AllowList, hostOf } from './allow-list.ts';

const allowed = (url: string, extra: readonly string[] = []): boolean => {
  const host = hostOf(url);
  return host !== undefined && new AllowList(extra).allows(host);
};

describe('the safety allow-list', () => {
  it('allows loopback without any config: 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost', () => {
    for (const url of ['mqtt://127.0.0.1:1883', 'mqtt://127.255.1.2', 'http://[::1]:8080', 'http://[::ffff:127.0.0.1]:80', 'mqtt://localhost:1883', 'mqtt://LOCALHOST', 'http://0x7f.1:80']) {
      expect(allowed(url), url).toBe(true);
    }
  });

  it('refuses every other host by default, and whatever only resolves to loopback (names are never resolved)', () => {
    // "mqtt://127.1" is not normalised by URL for mqtt: (http: is): it is a name, not listed.
    for (const url of ['mqtt://10.255.255.1:1883', 'mqtt://staging-broker.example', 'mqtt://127.1', 'mqtt://localhost.', 'http://[::2]', 'http://0.0.0.0:80', 'mqtt://a%2eb', 'http://localhost.localdomain']) {
      expect(allowed(url), url).toBe(false);
    }
  });

  it('allows the configured names, addresses and CIDR ranges — a name never allows its address, nor an address its name', () => {
    const extra = ['Staging-Broker.example', '10.1.2.3', '192.168.0.0/16', 'fd00::/8'];
    expect(allowed('mqtt://staging-broker.example:1883', extra)).toBe(true);
    expect(allowed('mqtt://10.1.2.3:1883', extra)).toBe(true);
    expect(allowed('http://192.168.44.5:8080', extra)).toBe(true);
    expect(allowed('http://[fd12::1]:8080', extra)).toBe(true);
    expect(allowed('mqtt://10.1.2.4', extra)).toBe(false);
    expect(allowed('mqtt://broker.staging-broker.example', extra)).toBe(false);
    expect(allowed('mqtt://192.169.0.1', extra)).toBe(false);
  });

  it('says what is wrong with an entry that is not a host, an address or a range', () => {
    expect(allowEntryProblem('staging-broker.example')).toBeUndefined();
    expect(allowEntryProblem('10.0.0.0/8')).toBeUndefined();
    expect(allowEntryProblem('[::1]')).toBeUndefined();
    expect(allowEntryProblem('mqtt://staging-broker.example:1883')).toBe('"mqtt://staging-broker.example:1883" is a URL: write its host alone, like "staging-broker.example"');
    expect(allowEntryProblem('10.0.0.0/33')).toMatch(/is not a CIDR range/);
    expect(allowEntryProblem('host:1883')).toMatch(/is not a host name, an IP address or a CIDR range/);
    expect(allowEntryProblem('*')).toMatch(/is not a host name/);
    expect(allowEntryProblem('*.example')).toMatch(/is not a host name/);
    expect(allowEntryProblem('10.1.2')).toMatch(/is not a host name/);
    expect(allowEntryProblem('')).toMatch(/is not a host name/);
  });
});

/**
 * The safety interlock (issue 8 item 4): before a run connects anywhere or starts anything, every
 * host it would connect to must be on the allow-list (config/allow-list.ts: loopback, plus the
 * project config's `targets.allow`). Otherwise Vigil stops (exit 2) naming each host, the flag it
 * came from, and the config line that allows it — Vigil must never load-test production by mistake.
 */
import { VigilError } from '../protocol/errors.ts';
import { redactUrl } from '../protocol/redact.ts';
import { AllowList, hostOf } from './allow-list.ts';
import type { LoadedProjectConfig } from './project-config.ts';

/** One place a run would connect to. */
export interface Target {
  /** What it is, for a person: "the MQTT broker". */
  readonly what: string;
  readonly url: string;
  /** Where the URL came from: the flag or setting a person would change, "--broker". */
  readonly from: string;
}

/** Throws VIGIL_TARGET_NOT_ALLOWED naming every target whose host is not allowed; returns when all are. */
export function checkTargets(targets: readonly Target[], loaded: LoadedProjectConfig): void {
  const allowList = new AllowList(loaded.config.targets.allow);
  const refused = targets.flatMap((t) => {
    const host = hostOf(t.url);
    return host !== undefined && allowList.allows(host) ? [] : [{ ...t, host: host ?? '(no host)' }];
  });
  if (refused.length === 0) return;
  const hosts = [...new Set(refused.map((r) => r.host))];
  const allow = (list: readonly string[]): string => `targets: { allow: [${list.map((h) => `'${h}'`).join(', ')}] }`;
  const fix = loaded.file === undefined
    ? `create ${loaded.path} with: export default { ${allow(hosts)} }`
    : `add ${hosts.length > 1 ? 'them' : 'it'} to ${loaded.file}: ${allow([...loaded.config.targets.allow, ...hosts])}`;
  throw new VigilError(
    'VIGIL_TARGET_NOT_ALLOWED',
    `safety interlock: ${refused.map((r) => `${r.what} ${r.host} (${r.from} ${redactUrl(r.url)})`).join(' and ')} ${refused.length > 1 ? 'are' : 'is'} not on the allow-list; Vigil sends load and injects faults only toward loopback and the hosts of targets.allow in ${loaded.file ?? 'vigil.config.ts'}, and connected to nothing`,
    `if ${hosts.length > 1 ? 'these are test systems' : 'it is a test system'} you may load, ${fix}`,
  );
}

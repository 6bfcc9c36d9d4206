/**
 * The oracle: which alarms must follow from what each device did and reported — every rule of
 * docs/RULES.md, one file per rule family under rules/, composed here.
 *
 * Written from docs/RULES.md, separately from the reference pipeline's rules (pipeline/rules/) and
 * never sharing code with them: two independent implementations that agree alarm by alarm are
 * evidence; one shared implementation would agree with itself and prove nothing (DESIGN.md).
 * It also uses different geometry and time code (@turf, luxon offsets) from the pipeline's.
 *
 * Streaming: the fleet hands it every record a device makes, in that device's seq order, as it is
 * made; devices interleave in roughly time order. Per-device state is a few fields; only BAR keeps
 * positions, and only until the pair's watermark passes them.
 */
import { point } from '@turf/helpers';
import type { DeviceType } from '../../../protocol/alarms.ts';
import type { z } from 'zod';
import type { BarPair, Curfew, ProvisionedDevice, Window, Zone } from '../../../protocol/provisioning.ts';
import type { UplinkRecord } from '../../../protocol/uplink.ts';
import { atRecord, type Expectation } from './expectation.ts';
import { LocalTime, WindowSchedule } from './local-windows.ts';
import { battery } from './rules/battery.ts';
import { BarRule } from './rules/bar.ts';
import { CurfewRule } from './rules/curfew.ts';
import { eventAlarm } from './rules/events.ts';
import { silenceAtEnd, silenceBefore } from './rules/silence.ts';
import { ZoneRule, zoneShape } from './rules/zones.ts';

export type { Expectation } from './expectation.ts';

export interface OracleConfig {
  /** Silence before communication_loss (RULES.md default 600,000). */
  readonly offlineTimeoutMs: number;
  /** Time zone of every local-time window. */
  readonly timeZone: 'Europe/Paris';
  readonly devices: readonly z.input<typeof ProvisionedDevice>[];
  readonly zones: readonly Zone[];
  readonly curfews: readonly Curfew[];
  readonly barPairs: readonly BarPair[];
}

interface DeviceState {
  readonly type: DeviceType;
  lastSeq: number;
  lastTime: number;
  lowBattery: boolean;
  readonly zones: ZoneRule[];
  curfew: CurfewRule | undefined;
  readonly pairs: BarRule[];
}

/**
 * The stable identity of an alarm: docs/RULES.md "(device, kind, triggering seq), plus the zone
 * for zone alarms and the pair for BAR distance alarms".
 */
export function alarmKey(a: { deviceId: string; kind: string; seq: number; zoneId?: string | undefined; pairId?: string | undefined }): string {
  return `${a.deviceId}|${a.kind}|${a.seq}|${a.zoneId ?? ''}|${a.pairId ?? ''}`;
}

export class Oracle {
  private readonly devices = new Map<string, DeviceState>();
  private readonly pairs: BarRule[] = [];
  private readonly local: LocalTime;
  /** Schedules by their windows: devices with the same windows share the day caches. */
  private readonly schedules = new Map<string, WindowSchedule>();
  private readonly offlineTimeoutMs: number;
  private finished = false;

  constructor(cfg: OracleConfig) {
    this.offlineTimeoutMs = cfg.offlineTimeoutMs;
    this.local = new LocalTime(cfg.timeZone);
    for (const d of cfg.devices) {
      this.devices.set(d.deviceId, { type: d.type, lastSeq: (d.firstSeq ?? 1) - 1, lastTime: Number.NaN, lowBattery: false, zones: [], curfew: undefined, pairs: [] });
    }
    for (const z of cfg.zones) {
      this.known(z.deviceId, `zone ${z.zoneId}`).zones.push(new ZoneRule(z.zoneId, z.kind, zoneShape(z), z.windows && this.schedule(z.windows)));
    }
    // A device's curfew periods are all its curfew windows, however many curfew entries hold them.
    const curfewWindows = new Map<string, Window[]>();
    for (const c of cfg.curfews) {
      this.known(c.deviceId, 'a curfew');
      curfewWindows.set(c.deviceId, [...(curfewWindows.get(c.deviceId) ?? []), ...c.windows]);
    }
    for (const [id, windows] of curfewWindows) this.known(id, 'a curfew').curfew = new CurfewRule(this.schedule(windows));
    for (const p of cfg.barPairs) {
      const rule = new BarRule(p);
      this.pairs.push(rule);
      this.known(p.perpetratorId, `pair ${p.pairId}`).pairs.push(rule);
      this.known(p.victimId, `pair ${p.pairId}`).pairs.push(rule);
    }
  }

  private known(id: string, what: string): DeviceState {
    const d = this.devices.get(id);
    if (!d) throw new Error(`oracle: ${what} names device ${id}, which is not provisioned`);
    return d;
  }

  private schedule(windows: readonly Window[]): WindowSchedule {
    const key = JSON.stringify(windows.map((w) => [[...w.days].sort(), w.from, w.to, w.crossesMidnight]));
    let s = this.schedules.get(key);
    if (!s) {
      s = new WindowSchedule(windows, this.local);
      this.schedules.set(key, s);
    }
    return s;
  }

  /**
   * One record of one device, in that device's seq order, as it is made; returns the alarms it
   * makes due (a BAR alarm may name the other unit of the pair: the watermark released its record).
   */
  observe(r: UplinkRecord): Expectation[] {
    if (this.finished) throw new Error('oracle: a record after finish()');
    const d = this.devices.get(r.device);
    if (!d) throw new Error(`oracle: a record of ${r.device}, which is not provisioned`);
    if (r.seq !== d.lastSeq + 1) {
      throw new Error(`oracle: ${r.device} seq ${r.seq} after ${d.lastSeq}: records must come in seq order, once each`);
    }
    const out: Expectation[] = [];
    const loss = silenceBefore(r.device, d, r.time, this.offlineTimeoutMs);
    if (loss) out.push(loss);
    d.lastSeq = r.seq;
    d.lastTime = r.time;

    const b = battery(d.lowBattery, r);
    d.lowBattery = b.low;
    if (b.alarm) out.push(b.alarm);

    if (r.type === 'event') {
      const kind = eventAlarm(d.type, r.event);
      if (kind) out.push(atRecord(r, kind));
    }
    if (d.curfew) {
      const e = d.curfew.observe(r);
      if (e) out.push(e);
    }
    if (r.type === 'position' && d.zones.length > 0) {
      const p = point([r.lon, r.lat]);
      for (const z of d.zones) {
        const e = z.observe(r, p);
        if (e) out.push(e);
      }
    }
    for (const pair of d.pairs) pair.observe(r, out);
    return out;
  }

  /**
   * End of the run's timeline (virtual ms): BAR pairs evaluated up to their final watermark, and
   * communication_loss for every device heard from whose last record is more than
   * offlineTimeoutMs before `end`.
   */
  finish(end: number): Expectation[] {
    if (this.finished) throw new Error('oracle: finish() twice');
    this.finished = true;
    const out: Expectation[] = [];
    for (const p of this.pairs) p.finish(out);
    for (const [id, d] of this.devices) {
      const e = silenceAtEnd(id, d, end, this.offlineTimeoutMs);
      if (e) out.push(e);
    }
    return out;
  }
}

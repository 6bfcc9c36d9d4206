import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import { Firmware, type FirmwareConfig } from './firmware.ts';
import { Trajectory } from './mobility.ts';
import { rng } from './random.ts';
import { DEVICE_DEFAULTS } from './defaults.ts';
import { BraceletBattery } from './battery.ts';
import { GpsDevice } from './gps-device.ts';
import { GpsOutages } from './incidents.ts';
import { localDay, localInstant } from './localtime.ts';
import { BaseRoutine, PlaceTimeline, type RoutineProfile } from './routine.ts';

const T0 = Date.UTC(2021, 9, 25, 12);
const home = { lat: 48.85, lon: 2.35 };
const routine: RoutineProfile = {
  home, workDays: [], leaveMin: 480, workEndMin: 1020, earliestOutMin: 420, homeByMin: 1260, places: [{ lat: 48.86, lon: 2.36 }], errandsPerDay: 1.5,
};

/** A quiet PSEM (errands, no violations, no incidents) whose first fix is at T0. */
function device(cfg: Partial<FirmwareConfig> = {}): { fw: Firmware; made: UplinkRecord[] } {
  const c = { ...DEVICE_DEFAULTS, ...cfg };
  const day = localDay(T0) - 1;
  const trajectory = new Trajectory(new PlaceTimeline(new BaseRoutine(routine, rng(1, 'm'), day), undefined, home), home, localInstant(day, 0));
  const source = new GpsDevice({
    deviceId: 'PSEM-00001', cfg: c, start: T0, firstFixDelayMs: 0, trajectory, noise: rng(1, 'g'),
    battery: new BraceletBattery({ start: T0, drainPerHour: c.batteryDrainPerHour, chargePerHour: c.batteryChargePerHour, plugInMin: 21 * 60, forgetPerDay: 0 }, rng(1, 'b')),
    zones: [], gps: new GpsOutages(rng(1, 'o'), 0, c.gpsLostAfterMs, T0), event: undefined, faultAt: Infinity,
  });
  return { fw: new Firmware('PSEM-00001', c, source), made: [] };
}

describe('firmware (store-and-forward)', () => {
  it('numbers records from 1 without gaps and sends each once while acks come', () => {
    const { fw, made } = device();
    const sent: number[] = [];
    for (let t = T0; t <= T0 + 10 * 60_000; t += 1_000) {
      for (const b of fw.wake(t, true, (r) => made.push(r))) {
        sent.push(...b.map((r) => r.seq));
        fw.onAck(b[b.length - 1]!.seq);
      }
    }
    expect(made.map((r) => r.seq)).toEqual(made.map((_, i) => i + 1));
    expect(sent).toEqual(made.map((r) => r.seq));
    expect(fw.pending).toBe(0);
  });

  it('keeps records while the link is down and sends them all after it comes up, one batch per ack', () => {
    const { fw, made } = device({ maxBatch: 4 });
    for (let t = T0; t <= T0 + 30 * 60_000; t += 5_000) expect(fw.wake(t, false, (r) => made.push(r))).toEqual([]);
    expect(fw.pending).toBe(made.length);
    expect(made.length).toBeGreaterThan(8);
    const up = T0 + 30 * 60_000;
    fw.onLinkUp();
    expect(fw.nextWakeAt()).toBe(-Infinity);
    const sent: UplinkRecord[][] = [];
    for (let i = 0; i < 100 && fw.pending > 0; i++) {
      const batches = fw.wake(up, true, (r) => made.push(r));
      // The window: one batch out, nothing more until its ack.
      expect(batches).toHaveLength(1);
      expect(fw.wake(up, true, () => {})).toEqual([]);
      expect(fw.nextWakeAt()).toBeGreaterThan(up);
      sent.push(...batches);
      fw.onAck(batches[0]!.at(-1)!.seq);
    }
    expect(sent.flat().map((r) => r.seq)).toEqual(made.map((r) => r.seq));
    expect(sent.every((b) => b.length <= 4)).toBe(true);
  });

  it('times out from the oldest unacked send: a batch sent after an ack gets its whole timeout', () => {
    const { fw, made } = device({ maxBatch: 1 });
    for (let t = T0; t <= T0 + 10 * 60_000; t += 60_000) fw.wake(t, false, (r) => made.push(r));
    expect(made.length).toBeGreaterThanOrEqual(3);
    const up = T0 + 10 * 60_000;
    fw.onLinkUp();
    expect(fw.wake(up, true, () => {}).flat().map((r) => r.seq)).toEqual([1]);
    // Acked 4 s later: seq 2 goes at +4 s and times out 5 s after that, not at +5 s.
    fw.onAck(1);
    expect(fw.wake(up + 4_000, true, () => {}).flat().map((r) => r.seq)).toEqual([2]);
    expect(fw.wake(up + 8_000, true, () => {})).toEqual([]);
    expect(fw.wake(up + 9_000, true, () => {}).flat().map((r) => r.seq)).toEqual([2]);
    expect(fw.counters.resent).toBe(1);
  });

  it('a path that acks nothing is noticed although the device keeps reporting, and after 3 timeouts it redials', () => {
    // A moving device reports every 60 s, faster than its 120 s ack timeout: new records must not
    // push the timeout back (DOMAIN.md: response timeout 5 s, 3 retries).
    const { fw, made } = device({ ackTimeoutMs: 120_000, maxAckTimeoutMs: 600_000 });
    let resent = 0;
    let redials = 0;
    for (let t = T0; t <= T0 + 30 * 60_000; t += 1_000) {
      for (const b of fw.wake(t, true, (r) => made.push(r))) resent += b.filter((r) => r.seq <= fw.counters.sent && b.length > 1).length;
      if (fw.takeReconnect()) redials++;
    }
    expect(fw.counters.resent).toBeGreaterThan(0);
    // Timeouts at +2, +6 and +14 min (backing off 2, 4, 8 min): one redial by +30 min.
    expect(redials).toBe(1);
    expect(fw.takeReconnect()).toBe(false);
    expect(resent).toBeGreaterThan(0);
  });

  it('an ack resets the retry count: no redial on a path that answers late but answers', () => {
    const { fw, made } = device({ ackTimeoutMs: 120_000, maxAckTimeoutMs: 600_000 });
    let redials = 0;
    for (let t = T0; t <= T0 + 60 * 60_000; t += 1_000) {
      fw.wake(t, true, (r) => made.push(r));
      // The pipeline acks everything made so far every 10 minutes.
      if ((t - T0) % 600_000 === 0 && fw.lastSeq > 0) fw.onAck(fw.lastSeq);
      if (fw.takeReconnect()) redials++;
    }
    expect(redials).toBe(0);
  });

  it('resends everything unacked after the ack timeout, backing off', () => {
    const { fw, made } = device();
    const first = fw.wake(T0, true, (r) => made.push(r)).flat();
    expect(first).toHaveLength(1);
    expect(fw.wake(T0 + 4_000, true, () => {})).toEqual([]);
    const resend1 = fw.wake(T0 + 5_000, true, () => {}).flat();
    expect(resend1.map((r) => r.seq)).toEqual([1]);
    // Backed off to 10 s: nothing at +14 s, again at +15 s.
    expect(fw.wake(T0 + 14_000, true, () => {})).toEqual([]);
    expect(fw.wake(T0 + 15_000, true, () => {}).flat().map((r) => r.seq)).toEqual([1]);
    fw.onAck(1);
    expect(fw.pending).toBe(0);
    expect(fw.nextWakeAt()).toBeGreaterThan(T0 + 15_000);
  });

  it('bounds the outbox, dropping the oldest and counting it', () => {
    const { fw, made } = device({ outboxLimit: 5 });
    for (let t = T0; t <= T0 + 20 * 60_000; t += 60_000) fw.wake(t, false, (r) => made.push(r));
    expect(made.length).toBeGreaterThan(5);
    expect(fw.pending).toBe(5);
    expect(fw.counters.evicted).toBe(made.length - 5);
    expect(fw.pendingSeqs).toEqual(made.slice(-5).map((r) => r.seq));
  });

  it('makes no records after the end of the timeline but still resends', () => {
    const { fw, made } = device();
    fw.stopRecordingAfter(T0 + 5 * 60_000);
    for (let t = T0; t <= T0 + 60 * 60_000; t += 10_000) fw.wake(t, false, (r) => made.push(r));
    expect(made.every((r) => r.time <= T0 + 5 * 60_000)).toBe(true);
    fw.onLinkUp();
    const resent: UplinkRecord[] = [];
    for (let i = 0; i < 100 && fw.pending > 0; i++) {
      const batch = fw.wake(T0 + 60 * 60_000, true, () => {}).flat();
      resent.push(...batch);
      fw.onAck(batch.at(-1)!.seq);
    }
    expect(resent.map((r) => r.seq)).toEqual(made.map((r) => r.seq));
  });

  it('never stays silent longer than the 180 s heartbeat, moving or at rest', () => {
    const { fw, made } = device();
    for (let t = T0; t <= T0 + 2 * 3_600_000; t += 5_000) fw.wake(t, false, (r) => made.push(r));
    const hbs = made.filter((r) => r.type === 'heartbeat');
    expect(hbs.length).toBeGreaterThan(10);
    for (let i = 1; i < made.length; i++) expect(made[i]!.time - made[i - 1]!.time).toBeLessThanOrEqual(DEVICE_DEFAULTS.heartbeatMs);
  });
});

describe('device config for a speed', () => {
  it('keeps DOMAIN.md\'s 5 s ack timeout at real time and floors it at 2 s of real time when faster', async () => {
    const { deviceConfigForSpeed } = await import('./defaults.ts');
    expect(deviceConfigForSpeed(1).ackTimeoutMs).toBe(5_000);
    expect(deviceConfigForSpeed(60).ackTimeoutMs).toBe(120_000);
    expect(deviceConfigForSpeed(240).maxAckTimeoutMs).toBeGreaterThanOrEqual(480_000);
  });
});

describe('clock skew', () => {
  it('stamps records with the skewed time from the moment it is set, and not before or after', () => {
    const { fw, made } = device();
    for (let t = T0; t <= T0 + 10 * 60_000; t += 1_000) fw.wake(t, true, (r) => made.push(r));
    const before = made.length;
    fw.setClockSkew(-3_600_000);
    for (let t = T0 + 10 * 60_000 + 1_000; t <= T0 + 20 * 60_000; t += 1_000) fw.wake(t, true, (r) => made.push(r));
    const skewed = made.slice(before);
    fw.setClockSkew(0);
    for (let t = T0 + 20 * 60_000 + 1_000; t <= T0 + 30 * 60_000; t += 1_000) fw.wake(t, true, (r) => made.push(r));
    const after = made.slice(before + skewed.length);
    expect(skewed.length).toBeGreaterThan(0);
    expect(skewed.every((r) => r.time < T0)).toBe(true);
    expect(made.slice(0, before).every((r) => r.time >= T0 && r.time <= T0 + 10 * 60_000)).toBe(true);
    expect(after.every((r) => r.time > T0 + 20 * 60_000)).toBe(true);
  });
});

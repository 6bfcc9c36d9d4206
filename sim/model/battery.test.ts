import { describe, expect, it } from 'vitest';
import { BackupBattery, BraceletBattery, type Battery, type BatteryEvent } from './battery.ts';
import { rng } from './random.ts';

const H = 3_600_000;
const T0 = Date.parse('2021-10-25T14:00:00+02:00');

/** The battery's transitions up to `until`, and its level sampled every 5 min. */
function walk(b: Battery, until: number): { events: { t: number; e: BatteryEvent | 'dead' }[]; levels: [number, number][] } {
  const events: { t: number; e: BatteryEvent | 'dead' }[] = [];
  const levels: [number, number][] = [];
  let t = T0;
  while (t <= until) {
    while (b.nextAt() <= t) {
      const at = b.nextAt();
      events.push({ t: at, e: b.apply() ?? 'dead' });
    }
    levels.push([t, b.percentAt(t)]);
    t += 5 * 60_000;
  }
  return { events, levels };
}

const bracelet = (forgetPerDay: number, seed = 1): BraceletBattery =>
  new BraceletBattery({ start: T0, drainPerHour: 2, chargePerHour: 50, plugInMin: 21 * 60, forgetPerDay }, rng(seed, 'battery'));

describe('GPS bracelet battery (DOMAIN.md: ≤ 50 h on a charge, ≥ 2 h charging a day)', () => {
  it('is charged every evening for 2–3 h, rising while charging, and never runs low', () => {
    const { events, levels } = walk(bracelet(0), T0 + 72 * H);
    const on = events.filter((e) => e.e === 'charger_connected');
    const off = events.filter((e) => e.e === 'charger_disconnected');
    expect(on).toHaveLength(3);
    expect(off).toHaveLength(3);
    on.forEach((c, i) => {
      const hours = (off[i]!.t - c.t) / H;
      expect(hours).toBeGreaterThanOrEqual(2);
      expect(hours).toBeLessThanOrEqual(3);
      expect(new Date(c.t).toLocaleTimeString('fr-FR', { timeZone: 'Europe/Paris' }) >= '20:40').toBe(true);
    });
    expect(Math.min(...levels.map(([, l]) => l))).toBeGreaterThan(40);
    for (let i = 1; i < levels.length; i++) {
      const [t0, l0] = levels[i - 1]!;
      const [t1, l1] = levels[i]!;
      const charging = on.some((c, k) => c.t <= t0 && t1 <= off[k]!.t);
      if (charging) expect(l1).toBeGreaterThanOrEqual(l0);
      else if (!on.some((c, k) => c.t < t1 && t0 < off[k]!.t)) expect(l0 - l1).toBeLessThanOrEqual(1); // 2 %/h: ≥ 50 h a charge
    }
  });

  it('runs low when the wearer forgets, dies for some, and comes back when charged', () => {
    let low = 0;
    let died = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const b = bracelet(24, seed); // the first low battery within the hour, on average
      const { events, levels } = walk(b, T0 + 16 * H);
      const lowAt = levels.find(([, l]) => l <= 15)?.[0];
      if (lowAt !== undefined) low++;
      const dead = events.find((e) => e.e === 'dead');
      if (dead) {
        died++;
        const back = events.find((e) => e.t > dead.t);
        expect(back?.e).toBe('charger_connected');
        const between = levels.filter(([t]) => t > dead.t && t < back!.t);
        expect(between.every(([, l]) => l === 0)).toBe(true);
      }
    }
    expect(low).toBeGreaterThanOrEqual(35);
    expect(died).toBeGreaterThan(3);
    expect(died).toBeLessThan(25);
  });

  it('makes forgetPerDay the rate of low batteries from the first day', () => {
    let lows = 0;
    const n = 400;
    for (let seed = 1; seed <= n; seed++) {
      const { levels } = walk(bracelet(0.5, seed), T0 + 24 * H);
      if (levels[0]![1] > 15 && levels.some(([, l]) => l <= 15)) lows++;
    }
    expect(lows / n).toBeGreaterThan(0.3); // 1 − e^−0.5 ≈ 0.39 devices with one in the day
    expect(lows / n).toBeLessThan(0.48);
  });
});

describe('PSE home unit backup battery', () => {
  it('drains on backup, recharges on mains, and an empty one stays empty until the mains return', () => {
    let sawDead = false;
    for (let seed = 1; seed <= 30 && !sawDead; seed++) {
      const b = new BackupBattery({ start: T0, cutsPerDay: 6 }, rng(seed, 'backup'));
      const { events, levels } = walk(b, T0 + 72 * H);
      const lost = events.filter((e) => e.e === 'mains_lost');
      expect(lost.length).toBeGreaterThan(5);
      for (const cut of lost) {
        const back = events.find((e) => e.t > cut.t && e.e === 'mains_restored');
        const during = levels.filter(([t]) => t > cut.t && t < (back?.t ?? Infinity));
        for (let i = 1; i < during.length; i++) expect(during[i]![1]).toBeLessThanOrEqual(during[i - 1]![1]);
      }
      const dead = events.find((e) => e.e === 'dead');
      if (dead) {
        sawDead = true;
        expect(events[events.indexOf(dead) + 1]?.e).toBe('mains_restored');
      }
    }
    expect(sawDead).toBe(true);
  });
});

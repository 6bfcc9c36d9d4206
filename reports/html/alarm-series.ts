/**
 * Alarms over virtual time, from the journal: per time bin, how many alarms the oracle expected
 * (by trigger time), how many of those reached the feed (first arrival, by the time it was seen),
 * and how many were pending at the bin's end (triggered, not yet seen). Matched by the ledger's own
 * alarm identity (verify/alarm-index.ts), so "detected" means what the ledger means by it.
 *
 * communication_loss alarms under faults are judged from what the network forwarded, not journaled
 * as expectations (verify/network.ts): they are not in these series, but in the absence chart.
 */
import { AlarmIndex, type AlarmIdentity } from '../../verify/alarm-index.ts';
import type { JournalLine } from '../run-dir.ts';

export interface AlarmBin {
  /** Virtual ms at the bin's start. */
  readonly from: number;
  readonly expected: number;
  readonly detected: number;
  readonly pending: number;
}

export interface AlarmSeries {
  readonly binMs: number;
  readonly from: number;
  readonly until: number;
  readonly bins: readonly AlarmBin[];
  readonly expected: number;
  /** Expected alarms that reached the feed at all. */
  readonly detected: number;
}

const MINUTE = 60_000;
/** More bins than this and bars are thinner than a pixel: bins then grow by whole minutes. */
const MAX_BINS = 360;

function isIdentity(line: JournalLine): line is JournalLine & AlarmIdentity {
  return typeof line['deviceId'] === 'string' && typeof line['kind'] === 'string' && typeof line['seq'] === 'number';
}

/**
 * Alarm trigger and first-arrival times by alarm, in any order: the journal read back after a run
 * (alarmSeries below), or the live dashboard fed as the run goes (reports/dashboard/live-state.ts),
 * so both draw their charts from one binning. An observation may come before its expectation
 * (a worker fleet relays records late): each identity gets its slot from whichever comes first.
 */
export class AlarmTimes {
  private readonly index = new AlarmIndex();
  /** By slot: trigger time (undefined: never expected, so far), kind, and first arrival. */
  private readonly triggers: (number | undefined)[] = [];
  private readonly kinds: string[] = [];
  private readonly seenAt: (number | undefined)[] = [];

  /** An expected alarm; the first expectation of an identity counts, a repeat does not. */
  expect(alarm: AlarmIdentity, triggerTime: number): void {
    const slot = this.index.slot(alarm);
    if (this.triggers[slot] === undefined) {
      this.triggers[slot] = triggerTime;
      this.kinds[slot] = alarm.kind;
    }
  }

  /** An alarm seen on the feed at virtual `at`; only its first arrival counts. */
  observe(alarm: AlarmIdentity, at: number): void {
    const slot = this.index.slot(alarm);
    this.seenAt[slot] = Math.min(this.seenAt[slot] ?? Infinity, at);
  }

  /** Per kind, first arrival − trigger time of every expected alarm seen so far (the ledger's latency, verify/ledger.ts). */
  latencies(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    this.triggers.forEach((t, slot) => {
      const seen = this.seenAt[slot];
      if (t === undefined || seen === undefined) return;
      const kind = this.kinds[slot] as string;
      const list = out.get(kind) ?? [];
      list.push(Math.max(0, seen - t));
      out.set(kind, list);
    });
    return out;
  }

  /** `window`: the scenario's start and end (virtual ms); the series stretches past the end to the last arrival. */
  series(window: { readonly start: number; readonly end: number }): AlarmSeries {
    const triggers: number[] = [];
    const seenAt: (number | undefined)[] = [];
    this.triggers.forEach((t, slot) => {
      if (t === undefined) return;
      triggers.push(t);
      seenAt.push(this.seenAt[slot]);
    });
    return binned(triggers, seenAt, window);
  }
}

/** `window`: the scenario's start and end (virtual ms); the series stretches past the end to the last arrival. */
export function alarmSeries(journal: readonly JournalLine[], window: { readonly start: number; readonly end: number }): AlarmSeries {
  const times = new AlarmTimes();
  for (const line of journal) {
    if (line.t !== 'expectation' || !isIdentity(line)) continue;
    times.expect(line, typeof line['triggerTime'] === 'number' ? line['triggerTime'] : line.at);
  }
  for (const line of journal) if (line.t === 'observation' && isIdentity(line)) times.observe(line, line.at);
  return times.series(window);
}

/** Expected alarms (by trigger time) and their first arrivals (undefined: not seen), in bins over virtual time. */
function binned(triggers: readonly number[], seenAt: readonly (number | undefined)[], window: { readonly start: number; readonly end: number }): AlarmSeries {
  const from = window.start;
  // A loop, not Math.max(...list): a long run's hundreds of thousands of alarms overflow the call stack.
  let lastEvent = -Infinity;
  for (const t of [...triggers, ...seenAt]) if (t !== undefined && t > lastEvent) lastEvent = t;
  const binMs = MINUTE * Math.max(1, Math.ceil((Math.max(window.end, lastEvent) - from) / MINUTE / MAX_BINS));
  // Up to the scenario's end, or past it to the bin that holds the last event (one exactly on a bin's edge opens it).
  const count = Math.max(1, Math.ceil((window.end - from) / binMs), Math.floor((lastEvent - from) / binMs) + 1);
  const binOf = (t: number): number => Math.min(count - 1, Math.max(0, Math.floor((t - from) / binMs)));
  const expected = new Array<number>(count).fill(0);
  const detected = new Array<number>(count).fill(0);
  triggers.forEach((t, slot) => {
    expected[binOf(t)]!++;
    const seen = seenAt[slot];
    if (seen !== undefined) detected[binOf(seen)]!++;
  });
  let pending = 0;
  const bins = expected.map((e, i): AlarmBin => {
    pending += e - detected[i]!;
    return { from: from + i * binMs, expected: e, detected: detected[i]!, pending };
  });
  return { binMs, from, until: from + count * binMs, bins, expected: triggers.length, detected: seenAt.filter((t) => t !== undefined).length };
}

/** Test helpers for the oracle's tests: record makers per device, and a config with defaults. */
import type { UplinkRecord } from '../../../protocol/uplink.ts';
import type { OracleConfig } from './oracle.ts';

export interface RecordMaker {
  pos(time: number, lat: number, lon: number, battery?: number): UplinkRecord;
  hb(time: number, battery?: number): UplinkRecord;
  ev(time: number, event: string, battery?: number): UplinkRecord;
}

/** Records of one device, seq from 1. */
export function recordsOf(device: string): RecordMaker {
  let seq = 0;
  return {
    pos: (time, lat, lon, battery = 90) => ({ device, seq: ++seq, time, battery, type: 'position', lat, lon, accuracy: 5 }),
    hb: (time, battery = 90) => ({ device, seq: ++seq, time, battery, type: 'heartbeat' }),
    ev: (time, event, battery = 90) => ({ device, seq: ++seq, time, battery, type: 'event', event }),
  };
}

export function config(c: Partial<OracleConfig>): OracleConfig {
  return { offlineTimeoutMs: 600_000, timeZone: 'Europe/Paris', devices: [], zones: [], curfews: [], barPairs: [], ...c };
}

/** An ISO time with an explicit offset, so the tests never lean on a time-zone library. */
export const at = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad time ${iso}`);
  return t;
};

export const MIN = 60_000;
export const HOUR = 3_600_000;

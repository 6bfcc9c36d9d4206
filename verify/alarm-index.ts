/**
 * Alarm identities as dense numbers: docs/RULES.md's identity of an alarm — (device, kind,
 * triggering seq), plus the zone for zone alarms and the pair for BAR distance alarms — mapped to
 * slots 0, 1, 2, … in the order first met, so the ledger keeps per-alarm state in plain arrays.
 *
 * Why not `alarmKey()` strings in a Map: a million alarms meant a million concatenated strings,
 * each hashed and flattened, and a million map entries' garbage — most of a 1M-alarm ledger's time
 * (bench/ledger.bench.ts). Here a lookup is the device's map of seq → slot (small integers, nothing
 * allocated per alarm), then the few alarms of that record compared field by field. It is the same
 * identity as alarmKey's, except where an id itself contains alarmKey's separator "|": two
 * different alarms alarmKey would run together stay two here.
 */

/** What names an alarm: an Expectation and a FeedAlarm both have these fields. */
export interface AlarmIdentity {
  readonly deviceId: string;
  readonly kind: string;
  readonly seq: number;
  readonly zoneId?: string | undefined;
  readonly pairId?: string | undefined;
}

export class AlarmIndex {
  /** Device → its number and its records: seq → the first slot of that record. */
  private readonly devices = new Map<string, { readonly no: number; readonly bySeq: Map<number, number> }>();
  /** By slot: its device's number. */
  private readonly deviceNos: number[] = [];
  /** By slot: the rest of the identity, and the next slot of the same record (-1: none). */
  private readonly kinds: string[] = [];
  private readonly zones: string[] = [];
  private readonly pairs: string[] = [];
  private readonly next: number[] = [];

  /** Slots handed out so far: the next new identity gets this number. */
  get size(): number {
    return this.kinds.length;
  }

  /** The device of a slot as a number, 0, 1, 2, … in the order devices were first met: per-device state can live in an array. */
  deviceOf(slot: number): number {
    return this.deviceNos[slot] as number;
  }

  /** The identity's slot, or -1 when it was never met. */
  find(a: AlarmIdentity): number {
    const head = this.devices.get(a.deviceId)?.bySeq.get(a.seq);
    if (head === undefined) return -1;
    const w = this.walk(head, a);
    return w >= 0 ? w : -1;
  }

  /** The identity's slot, a new one if it was never met. */
  slot(a: AlarmIdentity): number {
    let device = this.devices.get(a.deviceId);
    if (device === undefined) {
      device = { no: this.devices.size, bySeq: new Map() };
      this.devices.set(a.deviceId, device);
    }
    const head = device.bySeq.get(a.seq);
    const slot = this.kinds.length;
    if (head === undefined) device.bySeq.set(a.seq, slot);
    else {
      const w = this.walk(head, a);
      if (w >= 0) return w;
      this.next[-1 - w] = slot;
    }
    this.kinds.push(a.kind);
    this.zones.push(a.zoneId ?? '');
    this.pairs.push(a.pairId ?? '');
    this.next.push(-1);
    this.deviceNos.push(device.no);
    return slot;
  }

  /** Along one record's slots: the one matching `a`, or when none does −1 − the last one (a number, not an object: this runs per alarm). */
  private walk(head: number, a: AlarmIdentity): number {
    const zone = a.zoneId ?? '';
    const pair = a.pairId ?? '';
    let s = head;
    for (;;) {
      if (this.kinds[s] === a.kind && this.zones[s] === zone && this.pairs[s] === pair) return s;
      const n = this.next[s] as number;
      if (n < 0) return -1 - s;
      s = n;
    }
  }
}

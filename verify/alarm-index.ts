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
 *
 * A slot's identity is four numbers in typed arrays (kind, zone and pair as numbers of their
 * names): in the 1,000,000-alarm bench that left 135–156 MiB less heap after `judge()` than five
 * JavaScript arrays of a million entries each, and `judge()` took 7.44–8.24 s against 7.97–8.91 s
 * (three runs each, interleaved, 2026-12-02).
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
  /**
   * Kinds, zone ids and pair ids as small numbers (0: none), so a slot's identity is four Int32s:
   * typed arrays grown by doubling hold a million slots without a million pointers for the
   * collector to trace, and compare by number.
   */
  private readonly names = new Map<string, number>([['', 0]]);
  private used = 0;
  /** By slot: its device's number; the kind's, zone's and pair's numbers; the next slot of the same record (-1: none). */
  private deviceNos = new Int32Array(1024);
  private kinds = new Int32Array(1024);
  private zones = new Int32Array(1024);
  private pairs = new Int32Array(1024);
  private next = new Int32Array(1024);

  /** Slots handed out so far: the next new identity gets this number. */
  get size(): number {
    return this.used;
  }

  /** The device of a slot as a number, 0, 1, 2, … in the order devices were first met: per-device state can live in an array. */
  deviceOf(slot: number): number {
    return this.deviceNos[slot] as number;
  }

  /** The identity's slot, or -1 when it was never met. */
  find(a: AlarmIdentity): number {
    const head = this.devices.get(a.deviceId)?.bySeq.get(a.seq);
    if (head === undefined) return -1;
    const kind = this.names.get(a.kind);
    const zone = this.names.get(a.zoneId ?? '');
    const pair = this.names.get(a.pairId ?? '');
    // A name never met is an identity never met.
    if (kind === undefined || zone === undefined || pair === undefined) return -1;
    const w = this.walk(head, kind, zone, pair);
    return w >= 0 ? w : -1;
  }

  /** The identity's slot, a new one if it was never met. */
  slot(a: AlarmIdentity): number {
    let device = this.devices.get(a.deviceId);
    if (device === undefined) {
      device = { no: this.devices.size, bySeq: new Map() };
      this.devices.set(a.deviceId, device);
    }
    const kind = this.nameNo(a.kind);
    const zone = this.nameNo(a.zoneId ?? '');
    const pair = this.nameNo(a.pairId ?? '');
    const head = device.bySeq.get(a.seq);
    const slot = this.used;
    if (head === undefined) device.bySeq.set(a.seq, slot);
    else {
      const w = this.walk(head, kind, zone, pair);
      if (w >= 0) return w;
      this.next[-1 - w] = slot;
    }
    if (slot === this.kinds.length) this.grow();
    this.kinds[slot] = kind;
    this.zones[slot] = zone;
    this.pairs[slot] = pair;
    this.next[slot] = -1;
    this.deviceNos[slot] = device.no;
    this.used++;
    return slot;
  }

  private nameNo(name: string): number {
    let no = this.names.get(name);
    if (no === undefined) {
      no = this.names.size;
      this.names.set(name, no);
    }
    return no;
  }

  private grow(): void {
    const twice = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.deviceNos = twice(this.deviceNos);
    this.kinds = twice(this.kinds);
    this.zones = twice(this.zones);
    this.pairs = twice(this.pairs);
    this.next = twice(this.next);
  }

  /** Along one record's slots: the one matching, or when none does −1 − the last one (a number, not an object: this runs per alarm). */
  private walk(head: number, kind: number, zone: number, pair: number): number {
    let s = head;
    for (;;) {
      if (this.kinds[s] === kind && this.zones[s] === zone && this.pairs[s] === pair) return s;
      const n = this.next[s] as number;
      if (n < 0) return -1 - s;
      s = n;
    }
  }
}

/**
 * One shard of a `--workers N` fleet in its own process (forked by fleet-shards.ts, run through
 * tsx): a `Fleet` of the devices it is given, their firmwares built from the plan exactly as the
 * runner builds them in one process. Records go back to the parent in batches (FLUSH_MS), the
 * counters and moved acks every STATE_MS. Exits when told to close or when its parent goes away.
 */
import { virtualClock } from '../protocol/clock.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { Fleet } from './fleet.ts';
import { tuneHeapForFleet } from './fleet-heap.ts';
import type { FromShard, ToShard } from './fleet-shards.ts';
import { planFirmwares } from './model/seed-replay.ts';
import type { Firmware } from './model/firmware.ts';

const FLUSH_MS = 20;
const STATE_MS = 100;

if (process.send === undefined) {
  process.stderr.write('fleet-worker.ts is started by ShardedFleet (sim/fleet-shards.ts), not by hand\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
// This process holds devices and nothing else (sim/fleet-heap.ts).
tuneHeapForFleet();
// A terminal's Ctrl-C reaches the whole foreground process group, this worker too: the run stops
// it itself once it has drained, read and reported (and a second Ctrl-C exits the run, which ends
// this worker through 'disconnect'). Dying on the first one would cut the run's devices mid-stop.
process.on('SIGINT', () => {});

const send = (m: FromShard): void => {
  if (process.connected) process.send?.(m);
};

let fleet: Fleet | undefined;
let firmwares: Firmware[] = [];
let lastAcked: number[] = [];
let records: UplinkRecord[] = [];
const flush = (): void => {
  if (records.length === 0) return;
  send({ t: 'records', records });
  records = [];
};
const state = (): void => {
  if (!fleet) return;
  const acked: [number, number][] = [];
  firmwares.forEach((fw, i) => {
    if (fw.ackedSeq !== lastAcked[i]) {
      lastAcked[i] = fw.ackedSeq;
      acked.push([i, fw.ackedSeq]);
    }
  });
  send({ t: 'state', stats: { ...fleet.stats }, minutes: fleet.recordMinutes, pending: fleet.pending, acked });
};
const timers = [setInterval(flush, FLUSH_MS), setInterval(state, STATE_MS)];

process.on('message', (m: ToShard) => {
  try {
    switch (m.t) {
      case 'init': {
        const i = m.init;
        firmwares = planFirmwares({ devices: [...i.devices] }, i.seed, i.start, i.end, i.speed);
        lastAcked = firmwares.map(() => 0);
        fleet = new Fleet({
          endpointOf: (slot) => i.endpoints[slot] as string, firmwares, modes: i.modes, keepaliveS: i.keepaliveS, seed: i.seed, speed: i.speed,
          connectRatePerS: i.connectRatePerS, redialRatePerS: i.redialRatePerS, onRecord: (r) => records.push(r), ...(i.link ? { link: i.link } : {}), login: i.login,
          onLinkError: (deviceId, err) => send({ t: 'link-error', deviceId, message: err.message }),
        });
        send({ t: 'ready' });
        return;
      }
      case 'connect':
        void fleet?.connect(m.timeoutMs);
        return;
      case 'run':
        fleet?.run(virtualClock(m.clock));
        return;
      case 'stop-recording':
        for (const fw of firmwares) fw.stopRecordingAfter(m.after);
        return;
      case 'reconnect-all':
        fleet?.reconnectAll();
        return;
      case 'sync':
        void fleet?.sync();
        flush();
        state();
        send({ t: 'synced', id: m.id });
        return;
      case 'progress':
        state();
        send({ t: 'progress', devices: fleet?.progress() ?? [] });
        return;
      case 'close':
        for (const t of timers) clearInterval(t);
        flush();
        void (fleet?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        return;
    }
  } catch (err) {
    send({ t: 'error', message: (err as Error).message });
  }
});

/**
 * The HIL device contract (docs/PROTOCOL.md "Serial protocol"): what any device Vigil drives must
 * do, as one suite that runs against every implementation (STYLE.md §2) — a real device on
 * HIL_PORT (test/hil/contract.test.ts, `npm run test:hil`) and the emulator on a socat pty
 * (test/e2e/hil-pty.test.ts, in `npm test`).
 *
 * The device may hold records from an earlier session: the suite acknowledges them first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HilError } from '../../hil/errors.ts';
import { openHilSession, type DeviceSession } from '../../hil/session.ts';
import { parseHilMatch } from '../../hil/match.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';

export interface ContractOptions {
  /** Real ms a record may take to arrive (a real device at speed 1 may need its fix cadence). */
  readonly recordTimeoutMs?: number;
}

export function hilContractSuite(device: string, o: ContractOptions = {}): void {
  const timeoutMs = o.recordTimeoutMs ?? 5000;
  describe(`HIL device contract on ${device}`, () => {
    let session: DeviceSession;
    const deviceId = `hil-contract-${process.pid}`;

    beforeAll(async () => {
      session = await openHilSession(parseHilMatch(device), { ackTimeoutMs: 500, retries: 3 });
    });
    afterAll(async () => {
      await session?.close();
    });

    const mine = (pred: (r: UplinkRecord) => boolean) => (r: UplinkRecord) => r.device === deviceId && pred(r);

    it('identifies itself with protocol version 1 and at least one device type', () => {
      expect(session.identity.protocolVersion).toBe(1);
      expect(session.identity.serialNumber).not.toBe('');
      expect(session.identity.deviceTypes.length).toBeGreaterThan(0);
      expect(session.state).toBe('up');
    });

    it('passes its self-test, and empties its outbox on an application ack', async () => {
      const before = await session.status();
      expect(before.selfTest).toBe('ok');
      await session.ack(before.lastSeq);
      expect((await session.status()).outbox).toBe(0);
    });

    it('reports an injected fix as a position record, on the clock it was given', async () => {
      const type = session.identity.deviceTypes[0]!;
      await session.configure({ deviceId, deviceType: type });
      const speed = session.identity.followsVirtualTime ? 60 : 1;
      const start = Date.UTC(2021, 9, 25, 14, 0);
      await session.setTime(start, speed);
      await session.injectFix({ lat: 48.85661, lon: 2.35222, accuracyM: 8.5 });
      const pos = await session.expectRecord(mine((r) => r.type === 'position'), { timeoutMs });
      expect(pos).toMatchObject({ type: 'position', lat: 48.85661, lon: 2.35222, accuracy: 8.5 });
      expect(pos.time).toBeGreaterThanOrEqual(start);
      expect(pos.time).toBeLessThan(start + 3_600_000);
    });

    it('sends strap_tamper at once after a tamper', async () => {
      await session.injectTamper();
      const ev = await session.expectRecord(mine((r) => r.type === 'event' && r.event === 'strap_tamper'), { timeoutMs });
      expect(ev.seq).toBeGreaterThan(0);
    });

    it('reports a low battery at once, and the charger', async () => {
      await session.setBattery(12);
      await session.expectRecord(mine((r) => r.battery <= 15), { timeoutMs });
      await session.setCharger(true);
      await session.expectRecord(mine((r) => r.type === 'event' && r.event === 'charger_connected'), { timeoutMs });
    });

    it('sends sos, or refuses SOS with NAK when it has no button (BAR perpetrator)', async () => {
      if (session.identity.deviceTypes[0] === 'bar_perpetrator') {
        const err = await session.sos().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(HilError);
        expect((err as HilError).code).toBe('VIGIL_HIL_REFUSED');
      } else {
        await session.sos();
        await session.expectRecord(mine((r) => r.type === 'event' && r.event === 'sos'), { timeoutMs });
      }
    });

    it('numbers its records with a seq that only goes up, and keeps them until acknowledged', async () => {
      const seqs = session.records.filter((r) => r.device === deviceId).map((r) => r.seq);
      expect(seqs.length).toBeGreaterThanOrEqual(3);
      const distinct = [...new Set(seqs)];
      expect(distinct).toEqual([...distinct].sort((a, b) => a - b));
      const status = await session.status();
      expect(status.lastSeq).toBeGreaterThanOrEqual(Math.max(...seqs));
      expect(status.outbox).toBeGreaterThan(0);
      await session.ack(status.lastSeq);
      expect((await session.status()).outbox).toBe(0);
      expect(session.stats.crcErrors + session.stats.unknownFrames + session.stats.oversizedFrames).toBe(0);
    });
  });
}

/**
 * `vigil hil list | probe | emulate` (issue 5): the serial ports there are, what a device on one of
 * them is, and an emulated reference bracelet to try the HIL path without hardware.
 * A missing or busy port is a VigilError that lists the ports (exit 2).
 */
import { listHilPorts, portsTable } from '../hil/discovery.ts';
import { parseHilMatch } from '../hil/match.ts';
import { openHilSession } from '../hil/session.ts';
import { startEmulator } from '../hil/emulator.ts';
import type { SerialDeviceType } from '../protocol/serial-messages.ts';

type Print = (line: string) => void;

export async function hilListCommand(print: Print): Promise<number> {
  print(portsTable(await listHilPorts()));
  return 0;
}

export interface ProbeFlags {
  timeout?: number;
}

/** Opens the device, identifies it, asks its status (the self-test), and prints both. */
export async function hilProbeCommand(target: string, flags: ProbeFlags, print: Print): Promise<number> {
  const match = parseHilMatch(target);
  const session = await openHilSession(match, { ackTimeoutMs: flags.timeout ?? 500, keepAliveMs: 60_000 });
  try {
    const id = session.identity;
    const status = await session.status();
    const rows: [string, string][] = [
      ['port', session.port.path + (session.port.stablePath && session.port.stablePath !== session.port.path ? ` (${session.port.stablePath})` : '')],
      ['serial number', id.serialNumber],
      ['model', id.model],
      ['firmware', id.firmwareVersion],
      ['protocol version', String(id.protocolVersion)],
      ['device types', id.deviceTypes.join(', ')],
      ['follows virtual time', id.followsVirtualTime ? 'yes' : 'no (a run with it goes at speed 1)'],
      ['device clock', status.time > 0 ? new Date(status.time).toISOString() : 'not set'],
      ['battery', `${status.battery} %${status.charging ? ' (charging)' : ''}`],
      ['outbox', `${status.outbox} unacked record(s), last seq ${status.lastSeq}`],
      ['self-test', status.selfTest],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) print(`${k.padEnd(w)}  ${v}`);
    print(`link: ${session.stats.framesOut} frame(s) out, ${session.stats.framesIn} in, ${session.stats.retransmits} retransmit(s), ${session.stats.crcErrors} CRC error(s)`);
    return status.selfTest === 'ok' ? 0 : 1;
  } finally {
    await session.close();
  }
}

export interface EmulateFlags {
  link?: string;
  type: SerialDeviceType;
  serial: string;
  state?: string;
}

/** Runs the emulator until SIGINT/SIGTERM. */
export async function hilEmulateCommand(flags: EmulateFlags, print: Print): Promise<number> {
  const emu = await startEmulator({ link: flags.link, deviceType: flags.type, serialNumber: flags.serial, stateFile: flags.state, log: print });
  if (emu.harnessPath) print(`vigil hil emulate: ${flags.type} ${flags.serial} ready on ${emu.harnessPath} (try: vigil hil probe ${emu.harnessPath})`);
  else print(`vigil hil emulate: ${flags.type} ${flags.serial} ready on ${flags.link} (open the other end of your pty pair)`);
  const stopped = new Promise<'stopped'>((resolve) => {
    process.once('SIGINT', () => resolve('stopped'));
    process.once('SIGTERM', () => resolve('stopped'));
  });
  const how = await Promise.race([stopped, emu.lost.then(() => 'lost' as const)]);
  await emu.stop();
  if (how === 'lost') {
    print('vigil hil emulate: the pseudo-terminal went away; start the emulator again on a new one');
    return 2;
  }
  return 0;
}

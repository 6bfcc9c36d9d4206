/**
 * `vigil hil emulate`: the reference bracelet (hil/emulated-device.ts) on a pseudo-terminal, so
 * anyone can try the HIL path without hardware, and the device the tests use.
 *
 * Without --link it starts socat itself to make a pty pair (`<dir>/device` is its end,
 * `<dir>/harness` the end to give Vigil) and stops it on exit. With --link it opens an existing
 * pty end (made by the caller's socat), so that a killed emulator can be started again on the same
 * link while the harness keeps its end open. The state file (--state) is written and fsynced on
 * every new record and every ack: killing the emulator at any moment loses nothing (its seq never
 * goes back; its unacked records go out again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SerialPort } from 'serialport';
import { VigilError } from '../protocol/errors.ts';
import { RECORD_FRAME_TYPE, recordFields, SERIAL_DEVICE_TYPES, type SerialDeviceType } from '../protocol/serial-messages.ts';
import { EmulatedBracelet, type EmulatorState } from './emulated-device.ts';
import { SerialLink } from './link.ts';

export interface EmulatorOptions {
  /** An existing pty end to open; without it the emulator makes its own pair with socat. */
  readonly link?: string;
  readonly deviceType: SerialDeviceType;
  readonly serialNumber: string;
  /** Durable outbox and seq; without it they live in memory only. */
  readonly stateFile?: string;
  readonly log?: (line: string) => void;
}

export interface RunningEmulator {
  /** The end Vigil opens (`vigil hil probe <it>`, `--hil <it>`); unknown with --link (the caller made the pair). */
  readonly harnessPath?: string;
  readonly device: EmulatedBracelet;
  /** Resolves when the port closes under the emulator (its pty pair went away), not by stop(). */
  readonly lost: Promise<void>;
  stop(): Promise<void>;
}

/** How often the emulator wakes to make due records and send (real ms). */
const TICK_MS = 20;

/** Reads the state file, or a fresh state when there is none. */
export function loadEmulatorState(file: string | undefined, serialNumber: string, deviceType: SerialDeviceType): EmulatorState {
  const fresh: EmulatorState = { v: 1, serialNumber, deviceType, lastSeq: 0, outbox: [] };
  if (!file || !existsSync(file)) return fresh;
  let s: Partial<EmulatorState>;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as Partial<EmulatorState>;
  } catch (err) {
    throw new VigilError('VIGIL_USAGE', `the emulator state file ${file} is not JSON (${(err as Error).message})`, 'remove it to start a fresh device (its seq starts at 1 again), or point --state elsewhere');
  }
  if (s.v !== 1 || typeof s.lastSeq !== 'number' || !Array.isArray(s.outbox) || !SERIAL_DEVICE_TYPES.includes(s.deviceType as SerialDeviceType)) {
    throw new VigilError('VIGIL_USAGE', `the emulator state file ${file} is not an emulator state (v, lastSeq, outbox, deviceType)`, 'remove it to start a fresh device, or point --state elsewhere');
  }
  if (s.serialNumber !== serialNumber || s.deviceType !== deviceType) {
    throw new VigilError('VIGIL_USAGE', `the emulator state file ${file} belongs to ${s.deviceType} ${s.serialNumber}, not ${deviceType} ${serialNumber}`,
      `start the emulator with --serial ${s.serialNumber} --type ${s.deviceType}, or use another --state file`);
  }
  return s as EmulatorState;
}

/** Writes the state durably: a temporary file, fsynced, renamed over the old one (atomic on POSIX). */
export function saveEmulatorState(file: string, s: EmulatorState): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(s));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd); // the rename itself
  } finally {
    closeSync(dirFd);
  }
}

/** Starts socat with a pty pair linked at `<dir>/device` and `<dir>/harness`; resolves once both exist. */
export async function startPtyPair(dir: string): Promise<{ device: string; harness: string; socat: ChildProcess }> {
  const device = join(dir, 'device');
  const harness = join(dir, 'harness');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${harness}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const failed = new Promise<never>((_, reject) => {
    socat.once('error', (err) => reject(new VigilError('VIGIL_USAGE', `cannot start socat (${err.message})`, 'install socat (apt-get install socat) or give --link to an existing pseudo-terminal')));
    socat.once('exit', (code) => reject(new VigilError('VIGIL_USAGE', `socat exited (${code}): ${stderr.trim()}`, 'check socat works: socat -d -d pty,raw,echo=0 pty,raw,echo=0')));
  });
  const ready = (async () => {
    while (!existsSync(device) || !existsSync(harness)) await new Promise((r) => setTimeout(r, 10));
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return { device, harness, socat };
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, lock: true, autoOpen: false });
    port.open((err) =>
      err ? reject(new VigilError(/lock/i.test(err.message) ? 'VIGIL_HIL_PORT_BUSY' : 'VIGIL_HIL_PORT_NOT_FOUND', `the emulator cannot open ${path} (${err.message})`,
        /lock/i.test(err.message) ? 'another emulator holds this link: stop it first' : 'give --link the device end of a pty pair (socat), or leave --link out to make one')) : resolve(port));
  });
}

export async function startEmulator(o: EmulatorOptions): Promise<RunningEmulator> {
  const log = o.log ?? (() => undefined);
  const state = loadEmulatorState(o.stateFile, o.serialNumber, o.deviceType);
  let pair: Awaited<ReturnType<typeof startPtyPair>> | undefined;
  let ptyDir: string | undefined;
  if (!o.link) {
    ptyDir = mkdtempSync(join(tmpdir(), 'vigil-emu-'));
    pair = await startPtyPair(ptyDir);
  }
  const devicePath = o.link ?? (pair as { device: string }).device;
  let port: SerialPort;
  try {
    port = await openPort(devicePath);
  } catch (err) {
    pair?.socat.kill();
    throw err;
  }
  const stateFile = o.stateFile;
  const device = new EmulatedBracelet({ state, persist: stateFile ? (s) => saveEmulatorState(stateFile, s) : () => undefined });
  // The harness is "present" once it has said something since our last failed send: records go out
  // only then, so an emulator waiting for Vigil does not spin retransmits into an empty pty.
  let harnessPresent = false;
  let sending = false;
  let stopping = false;
  let onLost: () => void = () => undefined;
  const lost = new Promise<void>((resolve) => (onLost = resolve));
  const link = new SerialLink(port, {
    portName: devicePath,
    onFrame: (f) => {
      harnessPresent = true;
      return device.handle(f);
    },
    onClose: () => {
      if (stopping) return;
      log(`emulator: ${devicePath} closed under it (the pty pair went away)`);
      onLost();
    },
  });
  const pump = (): void => {
    device.tick();
    if (sending || !harnessPresent) return;
    const r = device.nextToSend();
    if (!r) return;
    sending = true;
    void link.send(RECORD_FRAME_TYPE[r.type], recordFields(r)).then(
      () => device.delivered(r.seq),
      () => {
        harnessPresent = false;
        device.resendAll();
      },
    ).finally(() => (sending = false));
  };
  const timer = setInterval(pump, TICK_MS);
  // HEL goes out once, briefly waited for: a harness that opens the port later sends IDN itself, and
  // records wait behind an unanswered HEL (stop-and-wait).
  void link.send('HEL', device.hello(), { retries: 0, ackTimeoutMs: 100 }).then(() => (harnessPresent = true), () => log('emulator: no harness yet; waiting for one to send IDN'));
  log(`emulator: ${o.deviceType} ${o.serialNumber}, seq ${state.lastSeq}, ${state.outbox.length} unacked record(s)${stateFile ? `, state in ${stateFile}` : ' (no --state: nothing survives a restart)'}`);

  return {
    harnessPath: pair?.harness,
    device,
    lost,
    async stop() {
      stopping = true;
      clearInterval(timer);
      link.close();
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      if (pair) {
        pair.socat.kill();
        if (ptyDir) rmSync(ptyDir, { recursive: true, force: true });
      }
    },
  };
}

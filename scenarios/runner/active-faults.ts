/**
 * What a run leaves behind if it is killed (kill -9, a crash, a machine's OOM killer), recorded in
 * runs/<id>/active-faults.json while the run is alive, so `vigil heal` — or the next `vigil run` —
 * can undo it (issue 8 item 5):
 *
 * - The reference pipeline child runs in its own process group (sim/pipeline-process.ts) and so
 *   outlives a killed Vigil. It often dies soon after of a closed output pipe, but not always (with
 *   --broker its broker stays up and it may log nothing), and while it lives it holds the fault
 *   modes switched on through its admin API (alarm-id-overflow, slow-consumer). Stopping it undoes
 *   them: they live only in that process. Its pid changes at each pipeline-restart fault.
 * - A mosquitto the run started (`--mosquitto`, sim/mosquitto.ts) is a child that outlives a killed
 *   Vigil too, on its port, with its persistence: stopped the same way (its command line names the
 *   run's config file).
 * - The network faults live in the operator proxies, and the clock skews in the fleet: their worker
 *   processes exit with Vigil (IPC 'disconnect'); the embedded broker is in Vigil's own process.
 *   They are recorded so `vigil heal` can say what was active, and that it ended with the run.
 *
 * The file is written whole (a temporary file renamed over it), and removed when the run unwinds.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalEntry } from '../../verify/journal.ts';

export const ACTIVE_FAULTS_FILE = 'active-faults.json';

export interface ActiveFaultsRecord {
  readonly runId: string;
  /** The Vigil process of the run: while it lives, the run is not a leftover. */
  readonly vigilPid: number;
  /** The reference pipeline child now (none with --pipeline), and its db file, which names it among processes. */
  readonly pipeline?: { readonly pid: number; readonly db: string };
  /** The mosquitto the run started (--mosquitto) now, and its config file, which names it among processes. */
  readonly broker?: { readonly pid: number; readonly conf: string };
  /** Faults started and not yet healed for every device: name → kind. */
  readonly faults: Readonly<Record<string, string>>;
}

export class ActiveFaults {
  private readonly file: string;
  private readonly faults: Record<string, string> = {};
  private cleared = false;

  constructor(
    runDir: string,
    private readonly runId: string,
    private readonly pipeline: () => { pid: number; db: string } | undefined,
    private readonly broker: () => { pid: number | undefined; conf: string } | undefined = () => undefined,
  ) {
    this.file = join(runDir, ACTIVE_FAULTS_FILE);
    this.write();
  }

  /** Follows the run's journal: a fault's start adds it, its heal (of the last devices, or the process's) removes it. */
  onJournal(entry: JournalEntry): void {
    if (entry.t !== 'fault' || typeof entry['fault'] !== 'string') return;
    const name = entry['fault'];
    if (entry['event'] === 'start') this.faults[name] = String(entry['kind']);
    // A heal line names the devices it healed now; the fault is gone from this record only once the
    // run's teardown heals everything, which clears the file: until then it is conservatively active.
    else if (entry['event'] === 'heal' && !Array.isArray(entry['devices'])) delete this.faults[name];
    this.write();
  }

  /** A pipeline-restart or broker-restart fault replaced a child: its pid is the new one. */
  refresh(): void {
    this.write();
  }

  private write(): void {
    if (this.cleared) return;
    const p = this.pipeline();
    const b = this.broker();
    const record: ActiveFaultsRecord = {
      runId: this.runId, vigilPid: process.pid, ...(p && p.pid > 0 ? { pipeline: p } : {}),
      ...(b?.pid !== undefined && b.pid > 0 ? { broker: { pid: b.pid, conf: b.conf } } : {}), faults: this.faults,
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    renameSync(tmp, this.file);
  }

  /** The run unwound: nothing of it is left. */
  clear(): void {
    this.cleared = true;
    rmSync(this.file, { force: true });
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but is another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The command line of a process (Linux /proc), or undefined when it cannot be read. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Heals what crashed runs under `outDir` left behind, and says what it did (one line each). A run
 * whose Vigil process still lives is running, not crashed: it is left alone. A leftover pipeline is
 * stopped only when its process is still that run's (its command line names the run's db file): a
 * pid reused by another program is never signalled.
 */
export function healLeftovers(outDir: string): string[] {
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) return [];
  const lines: string[] = [];
  for (const name of readdirSync(outDir)) {
    const file = join(outDir, name, ACTIVE_FAULTS_FILE);
    if (!existsSync(file)) continue;
    let record: ActiveFaultsRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as ActiveFaultsRecord;
    } catch {
      lines.push(`run ${name}: ${ACTIVE_FAULTS_FILE} could not be read; removed`);
      rmSync(file, { force: true });
      continue;
    }
    if (record.vigilPid !== process.pid && alive(record.vigilPid) && commandLine(record.vigilPid)?.includes('vigil') !== false) {
      lines.push(`run ${record.runId}: still running (Vigil pid ${record.vigilPid}); left alone`);
      continue;
    }
    const faults = Object.entries(record.faults ?? {}).map(([f, kind]) => `${f} (${kind})`);
    const parts: string[] = [];
    const p = record.pipeline;
    if (p && alive(p.pid) && commandLine(p.pid)?.includes(p.db)) {
      // Its own process group (sim/pipeline-process.ts): the group, then the process, in case it left it.
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        process.kill(p.pid, 'SIGKILL');
      }
      parts.push(`stopped its leftover reference pipeline (pid ${p.pid})${faults.length > 0 ? `, and with it the faults it held: ${faults.join(', ')}` : ''}`);
    } else {
      if (p) parts.push(alive(p.pid) ? `its reference pipeline is gone (pid ${p.pid} is now another program's: left alone)` : `its reference pipeline (pid ${p.pid}) had already exited`);
      if (faults.length > 0) parts.push(`${faults.join(', ')} ended with its processes`);
    }
    const b = record.broker;
    if (b && alive(b.pid) && commandLine(b.pid)?.includes(b.conf)) {
      // SIGTERM: mosquitto writes its persistence file and exits, as at any stop.
      process.kill(b.pid, 'SIGTERM');
      parts.push(`stopped its leftover mosquitto (pid ${b.pid})`);
    } else if (b) {
      parts.push(alive(b.pid) ? `its mosquitto is gone (pid ${b.pid} is now another program's: left alone)` : `its mosquitto (pid ${b.pid}) had already exited`);
    }
    rmSync(file, { force: true });
    lines.push(`run ${record.runId}: ${parts.length > 0 ? parts.join('; ') : 'nothing left running'}`);
  }
  return lines;
}

/**
 * The measurement both contenders of `npm run bench` share, so they are measured the same way: each
 * contender runs in its own child process (fleet.bench.ts) and hands `measure` a small adapter.
 *
 * Child → parent protocol, one JSON line each on stdout: `{"event":"steady-start"}`,
 * `{"event":"steady-end"}` (the parent reads the broker's and the acker's CPU between the two), then
 * the `ContenderResult`. Progress goes to stderr.
 */
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface BenchParams {
  readonly url: string;
  readonly devices: number;
  readonly seconds: number;
  readonly connectRatePerS: number;
  /** The contender's clock origin (ms): Vigil's virtual time equals real time here (bench/acker.ts). */
  readonly epoch: number;
}

export interface ContenderResult {
  readonly name: string;
  readonly devices: number;
  readonly connected: number;
  /** First connect started → all devices connected; null when they did not all connect in time. */
  readonly connectS: number | null;
  readonly steadyS: number;
  readonly messagesPerS: number;
  /** Records published per second, first sends and resends (a publish is a batch of ≥ 1 record). */
  readonly recordsPerS: number;
  readonly resentPerS: number;
  readonly acksPerS: number;
  readonly cpuPct: number;
  /** The kernel's share of cpuPct (system time: syscalls, and on loopback the TCP path of what the process writes). */
  readonly sysPct: number;
  readonly eventLoopP99Ms: number;
  readonly rssBytes: number;
  /** Peak RSS of the whole process lifetime so far (getrusage maxrss). */
  readonly peakRssBytes: number;
  readonly rssPerDeviceBytes: number;
  /** Heap in use after a full GC at the end of the window: live objects, without garbage or buffers. */
  readonly heapAfterGcBytes: number;
  /** Off-heap memory V8 knows of after that GC: Buffers' and ArrayBuffers' backing stores (`external`). */
  readonly externalAfterGcBytes: number;
  /** Garbage collections on the main thread over the steady window: how many, and their pause time (ms), by kind. */
  readonly gc: { readonly minor: number; readonly major: number; readonly minorMs: number; readonly majorMs: number };
  /** Contender-specific counters at the end of the steady window. */
  readonly extra: Readonly<Record<string, number>>;
  /** The reconnect storm after the steady window, when the contender can drop every connection. */
  readonly storm?: Storm;
}

/** Every connection dropped at once, then back: how fast the fleet reconnects (issue 7: ≥ 2,000/s). */
export interface Storm {
  /** Connections that came back, and in how long from the first to the last of them. */
  readonly reconnected: number;
  readonly spanS: number;
  readonly connectsPerS: number;
  /** Drop → all back (includes the devices' reconnect delay). */
  readonly totalS: number;
  /** Errors the contender counted during the storm (its own, not the broker's refusals). */
  readonly errors: number;
  /** Seconds from the drop until 50, 90, 99 and 100 % of the dropped connections were back: the storm's tail. */
  readonly backAtS: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p100: number };
  /** The contender's CPU (% of one core) and event-loop delay (ms) from the drop until all were back: what paces it. */
  readonly cpuPct: number;
  readonly eventLoopP50Ms: number;
  readonly eventLoopP99Ms: number;
}

export interface Contender {
  /** Starts connecting every device (spread at `connectRatePerS`). */
  start(): void;
  connected(): number;
  /** Uplink publishes so far. */
  publishes(): number;
  /** Records in those publishes so far: first sends and resends. */
  records(): { sent: number; resent: number };
  /** Acks received so far (what counts as one is the contender's to say). */
  acks(): number;
  extra(): Record<string, number>;
  /** Drops every connection at once, as an operator reset would; each device redials on its own. */
  dropAll?(): void;
  /** Errors so far, for the storm. */
  errors?(): number;
  close(): Promise<void>;
}

export function paramsFromArgv(): BenchParams {
  return JSON.parse(process.argv[2] ?? '') as BenchParams;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const sysMicros = (): number => process.cpuUsage().system;
const emit = (x: object): boolean => process.stdout.write(`${JSON.stringify(x)}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Drops every connection, then samples the connected count every 5 ms until all are back (or 60 s):
 * the rate is taken from the first reconnect to the last, so the devices' reconnect delay does not
 * count against it.
 */
async function reconnectStorm(name: string, c: Contender, devices: number): Promise<Storm> {
  const errors0 = c.errors?.() ?? 0;
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  (c.dropAll as () => void)();
  let low = c.connected();
  let first = 0;
  let last = 0;
  const samples: { t: number; n: number }[] = [];
  while (performance.now() - t0 < 60_000) {
    await sleep(5);
    const n = c.connected();
    const now = performance.now();
    samples.push({ t: now, n });
    if (n < low && first === 0) low = n;
    if (n > low && first === 0) first = now;
    if (n >= devices && first !== 0) {
      last = now;
      break;
    }
  }
  const cpuPct = ((cpuMicros() - cpu0) / 1e6 / ((performance.now() - t0) / 1000)) * 100;
  eld.disable();
  const back = c.connected() - low;
  const spanS = ((last || performance.now()) - (first || t0)) / 1000;
  const dropped = devices - low;
  // The first sample at which a share of the dropped connections was back, in s from the drop.
  const backAt = (share: number): number => {
    const s = samples.find((x) => x.n - low >= share * dropped);
    return s ? (s.t - t0) / 1000 : Number.NaN;
  };
  const storm: Storm = {
    reconnected: back, spanS, connectsPerS: spanS > 0 ? back / spanS : 0, totalS: ((last || performance.now()) - t0) / 1000,
    errors: (c.errors?.() ?? 0) - errors0,
    backAtS: { p50: backAt(0.5), p90: backAt(0.9), p99: backAt(0.99), p100: backAt(1) },
    cpuPct, eventLoopP50Ms: eld.percentile(50) / 1e6, eventLoopP99Ms: eld.percentile(99) / 1e6,
  };
  const at = storm.backAtS;
  process.stderr.write(
    `  ${name}: reconnect storm: ${back} back in ${spanS.toFixed(2)} s (${storm.connectsPerS.toFixed(0)}/s), ${storm.errors} errors; ` +
      `50/90/99/100 % back at ${[at.p50, at.p90, at.p99, at.p100].map((x) => x.toFixed(2)).join('/')} s; ` +
      `CPU ${cpuPct.toFixed(0)} %, event loop p50/p99 ${storm.eventLoopP50Ms.toFixed(0)}/${storm.eventLoopP99Ms.toFixed(0)} ms\n`,
  );
  return storm;
}

/** Runs one contender: connect phase, steady window, result line, clean close, exit. */
export async function measure(name: string, p: BenchParams, make: () => Contender): Promise<never> {
  // The per-device cost includes everything `make` builds (Vigil: the plan and the firmwares).
  // V8 hands the pages a collection emptied back to the system from a background thread, after
  // `gc()` returns. With V8's own collections that changed nothing here (the baseline read 0.7–0.9
  // MiB higher after the wait), but a compacting one (`--compact-on-every-full-gc`) empties many
  // pages: read at once, the baseline counted 13.5–14.3 MiB of them, and the per-device figure came
  // out ~0.9 KiB too small at 15,000 devices (docs/PERFORMANCE.md, 2026-12-02).
  gc();
  await sleep(500);
  const rss0 = process.memoryUsage().rss;
  const c = make();

  const t0 = performance.now();
  c.start();
  // Generous: twice the planned spread plus a minute, then measure whatever did connect.
  const deadline = t0 + 2 * (p.devices / p.connectRatePerS) * 1000 + 60_000;
  let lastLog = t0;
  while (c.connected() < p.devices && performance.now() < deadline) {
    await sleep(10);
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      process.stderr.write(`  ${name}: ${c.connected()}/${p.devices} connected\n`);
    }
  }
  const connected = c.connected();
  const connectS = connected === p.devices ? (performance.now() - t0) / 1000 : null;
  process.stderr.write(`  ${name}: ${connected}/${p.devices} connected in ${((performance.now() - t0) / 1000).toFixed(1)} s; steady window ${p.seconds} s\n`);

  emit({ event: 'steady-start' });
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const gcs = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
        gcs.minor++;
        gcs.minorMs += e.duration;
      } else if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
        gcs.major++;
        gcs.majorMs += e.duration;
      }
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const w0 = performance.now();
  const cpu0 = cpuMicros();
  const sys0 = sysMicros();
  const pub0 = c.publishes();
  const rec0 = c.records();
  const ack0 = c.acks();
  await sleep(p.seconds * 1000);
  const wallS = (performance.now() - w0) / 1000;
  const cpuS = (cpuMicros() - cpu0) / 1e6;
  const sysS = (sysMicros() - sys0) / 1e6;
  const messagesPerS = (c.publishes() - pub0) / wallS;
  const rec1 = c.records();
  const acksPerS = (c.acks() - ack0) / wallS;
  const rss = process.memoryUsage().rss;
  eld.disable();
  gcObserver.disconnect();
  emit({ event: 'steady-end' });
  gc();
  const { heapUsed: heapAfterGc, external: externalAfterGc } = process.memoryUsage();

  const extra = c.extra();
  const storm = c.dropAll ? await reconnectStorm(name, c, p.devices) : undefined;

  const result: ContenderResult = {
    name, devices: p.devices, connected, connectS, steadyS: wallS, messagesPerS,
    recordsPerS: (rec1.sent + rec1.resent - rec0.sent - rec0.resent) / wallS, resentPerS: (rec1.resent - rec0.resent) / wallS, acksPerS,
    cpuPct: (cpuS / wallS) * 100, sysPct: (sysS / wallS) * 100, eventLoopP99Ms: eld.percentile(99) / 1e6,
    rssBytes: rss, peakRssBytes: process.resourceUsage().maxRSS * 1024, rssPerDeviceBytes: (rss - rss0) / p.devices,
    heapAfterGcBytes: heapAfterGc, externalAfterGcBytes: externalAfterGc, gc: gcs, extra, ...(storm ? { storm } : {}),
  };
  emit(result);

  // Close cleanly, but never hang the bench on a stuck socket.
  await Promise.race([c.close(), sleep(20_000)]);
  process.exit(0);
}

/**
 * Issue 6 "done when", for report.html: a small run with a fault window and dropped alarms
 * (ack-then-lose behind broker-ack firmware, as in replay.test.ts) writes report.html; headless
 * Chromium opens it with no console error and no network request, shows the shaded window at the
 * fault's times and names the failure, and the charts carry run.json's numbers. `vigil report`
 * regenerates it, and refuses a directory that is not a run with exit 2 and one clear line.
 *
 * And for the live dashboard, on the same run (no second run: the suite is at its time budget):
 * `--dashboard 0`, the page opened in Chromium as soon as the run prints its URL, live updates as
 * virtual time goes, and at the end run.json's verdict and numbers in the page.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../reports/run-result.ts';
import { REPO, tempDir, vigil, writeScenario, type CliResult } from '../support/cli.ts';

const SCREENSHOT_DIR = join(REPO, 'test-output');

let browser: Browser;
let r: CliResult;
let run: RunResult;

/** The dashboard page as the run went: what it received and asked for, and its console errors. */
interface Watched {
  readonly page: Page;
  readonly origin: string;
  readonly frames: { type: string; numbers: Record<string, string | number | null> }[];
  readonly requests: string[];
  readonly errors: string[];
}
let dashboard: Promise<Watched> | undefined;

/** The data-* attributes of every element each selector matches, read back from the rendered DOM. */
async function dataOf<K extends string>(page: Page, selectors: Record<K, string>): Promise<Record<K, Record<string, string>[]>> {
  const all: Record<string, string> = selectors;
  return page.evaluate((sel) => Object.fromEntries(Object.entries(sel).map(([k, css]) => [k, [...document.querySelectorAll(css)].map((el) => ({ ...(el as HTMLElement).dataset }))])), all) as Promise<Record<K, Record<string, string>[]>>;
}

/** A latency chart's rows as [kind, count, p50, p95, p99, max, SLA]; and run.json's kinds that had any, the same way. */
const latencyRows = (rows: Record<string, string>[]): unknown[] => rows.map((l) => [l['kind'], ...['count', 'p50', 'p95', 'p99', 'max', 'slaMs'].map((k) => Number(l[k]))]);
const runLatency = (run: RunResult): unknown[] => Object.entries(run.latencyMs).filter(([, s]) => s.count > 0).map(([k, s]) => [k, s.count, s.p50, s.p95, s.p99, s.max, s.slaMs]);

async function watchDashboard(url: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const w: Watched = { page, origin: new URL(url).host, frames: [], requests: [], errors: [] };
  page.on('console', (m) => void (m.type() === 'error' && w.errors.push(m.text())));
  page.on('pageerror', (e) => w.errors.push(e.message));
  page.on('request', (q) => w.requests.push(q.url()));
  page.on('websocket', (ws) => {
    w.requests.push(ws.url());
    ws.on('framereceived', (f) => w.frames.push(JSON.parse(String(f.payload)) as Watched['frames'][number]));
  });
  await page.goto(url);
  return w;
}

beforeAll(async () => {
  const dir = tempDir();
  // 30 virtual minutes at speed 480: four seconds of wall time, a fault in the middle, alarms dropped under it.
  const file = writeScenario(dir, 'report', {
    name: 'report', seed: 2021, speed: 480, start: '2021-10-25T14:00:00+02:00', duration: '30m',
    fleet: { pse: 20, psem: 30, bar: 3 }, behaviour: { scale: 40 },
    network: { operators: [{ id: 'fr-operator', share: 1 }] },
    faults: [{ name: 'network-update', kind: 'ack-then-lose', from: '+8m', until: '+20m', target: { operator: 'fr-operator', fraction: 0.5 } }],
  });
  // The browser first: the run is a few seconds long, and its dashboard's page must catch it.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  r = await vigil(['run', file, '--firmware', 'broker-ack', '--out', join(dir, 'runs'), '--dashboard', '0'], {
    onStdout: (soFar) => {
      const url = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(soFar)?.[1];
      if (url && !dashboard) dashboard = watchDashboard(url);
    },
  });
  run = r.run!;
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

describe('report.html of a run with a fault and a failure', () => {
  it('is written next to run.json and named in the summary', () => {
    expect(run, r.stdout + r.stderr).toBeDefined();
    expect(r.code, r.stdout).toBe(1);
    expect(run.faults.map((f) => f.name)).toEqual(['network-update']);
    expect(run.ledger.dropped, r.stdout).toBeGreaterThan(0);
    expect(existsSync(join(r.runDir!, 'report.html'))).toBe(true);
    expect(r.stdout).toContain(`report: ${r.runDir}/run.json, ${r.runDir}/junit.xml, ${r.runDir}/report.html`);
  });

  it('opens in Chromium offline, shades the fault window, names the failure, and its charts carry run.json\'s numbers', async () => {
    const url = pathToFileURL(join(r.runDir!, 'report.html')).href;
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (q) => void (q.url() !== url && requests.push(q.url())));
    await page.goto(url);

    const fault = run.faults[0]!;
    const shade = page.locator('#chart-alarms rect.fault-window');
    await expect(shade.getAttribute('data-from')).resolves.toBe(fault.from);
    await expect(shade.getAttribute('data-until')).resolves.toBe(fault.until);
    expect((await shade.boundingBox())!.width).toBeGreaterThan(10);
    await expect(page.locator('#chart-pending rect.fault-window').getAttribute('data-fault')).resolves.toBe('network-update');

    const dropped = run.failures.find((f) => f.status === 'dropped')!;
    const row = page.locator(`#table-failures tr[data-device-id="${dropped.deviceId}"][data-seq="${dropped.seq}"]`).first();
    await expect(row.innerText()).resolves.toContain(dropped.detail);
    await expect(page.locator('#table-failures tbody tr').count()).resolves.toBe(run.failures.length);
    await expect(page.locator('#verdict').innerText()).resolves.toBe('FAIL');
    await expect(page.locator('#command').innerText()).resolves.toBe(run.command);

    // Every number read back from the rendered DOM, against run.json.
    const dom = await dataOf(page, {
      ledger: '#ledger-summary', latency: '#chart-latency .latency-row', perKind: '#table-per-kind tbody tr', faults: '#chart-absence .absence-row',
      alarms: '#chart-alarms', bins: '#chart-alarms .bin', map: '#map-france',
    });
    expect(dom.ledger[0]).toMatchObject({ expected: String(run.ledger.expected), dropped: String(run.ledger.dropped), late: String(run.ledger.late), onTime: String(run.ledger.onTime) });
    expect(latencyRows(dom.latency)).toEqual(runLatency(run));
    expect(dom.perKind.map((k) => [k['kind'], Number(k['expected']), Number(k['dropped'])])).toEqual(Object.entries(run.perKind).map(([k, c]) => [k, c.expected, c.dropped]));
    expect(dom.faults).toEqual([expect.objectContaining({ fault: 'network-update', timeToDetectMs: String(fault.timeToDetectMs ?? ''), drainMs: String(fault.drainMs ?? '') })]);
    // The bars add up to their totals; every dropped alarm the oracle journaled is still pending at the end.
    expect(dom.bins.reduce((n, b) => n + Number(b['expected']), 0)).toBe(Number(dom.alarms[0]!['totalExpected']));
    expect(dom.bins.reduce((n, b) => n + Number(b['detected']), 0)).toBe(Number(dom.alarms[0]!['totalDetected']));
    expect(Number(dom.alarms[0]!['totalExpected']) - Number(dom.alarms[0]!['totalDetected'])).toBe(run.failures.filter((f) => f.status === 'dropped' && f.kind !== 'communication_loss').length);
    expect(Number(dom.map[0]!['affected'])).toBe(new Set([...run.failures, ...run.lateAllowed].filter((f) => ['dropped', 'late', 'late_allowed'].includes(f.status)).map((f) => f.deviceId)).size);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('records sent vs stored per minute: the chart carries run.json\'s per-minute arrays, which sum to its fleet totals', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(r.runDir!, 'report.html')).href);
    const chart = await page.evaluate(() => ({
      totals: { ...(document.querySelector('#chart-records') as HTMLElement).dataset },
      minutes: [...document.querySelectorAll('#chart-records .minute')].map((m) => ({ ...(m as HTMLElement).dataset })),
      shaded: document.querySelectorAll('#chart-records rect.fault-window').length,
    }));
    await page.close();
    const records = run.records!;
    const sum = (a: readonly number[]): number => a.reduce((n, x) => n + x, 0);
    for (const k of ['sent', 'resent', 'stored'] as const) {
      expect(chart.minutes.map((m) => Number(m[k])), k).toEqual(records[k]);
      expect(Number(chart.totals[`total${k[0]!.toUpperCase()}${k.slice(1)}`]), k).toBe(sum(records[k]));
    }
    // Broker-ack firmware publishes every record it makes once (the fault keeps the link up), so all
    // that was made was sent; resends and acks are the fleet's own counters.
    expect(sum(records.sent)).toBe(run.fleet['records']);
    expect(sum(records.resent)).toBe(run.fleet['resent']);
    expect(sum(records.stored)).toBe(run.fleet['stored']);
    expect(chart.shaded).toBe(1);
    // Under the fault, records lost after the broker's ack stall the pipeline's contiguous ack: less is stored than sent.
    const fault = run.faults[0]!;
    const inFault = (a: readonly number[]): number => sum(a.filter((_, i) => Date.parse(records.from) + i * records.minuteMs >= Date.parse(fault.from) && Date.parse(records.from) + (i + 1) * records.minuteMs <= Date.parse(fault.until)));
    expect(inFault(records.stored)).toBeLessThan(inFault(records.sent));
  });

  it('vigil report regenerates it from run.json and the journal', async () => {
    const file = join(r.runDir!, 'report.html');
    const before = readFileSync(file, 'utf8');
    rmSync(file);
    const again = await vigil(['report', r.runDir!]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`wrote ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a missing run directory: exit 2 and one line saying what is wrong and what to do (the other bad directories: reports/run-dir.test.ts)', async () => {
    const missing = await vigil(['report', join(tempDir(), 'no-such-run')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vigil: .*no-such-run: no such directory — give the runs\/<run-id> directory that `vigil run` printed on its `report:` line \(ls runs\/\), or its run\.json \[VIGIL_RUN_NOT_FOUND\]\n$/);
  });
});

describe('the live dashboard of the same run (--dashboard 0)', () => {
  it('followed the run in Chromium: rendered, live updates as virtual time went, nothing asked of anyone but its own server', async () => {
    expect(dashboard, r.stdout).toBeDefined();
    const w = await dashboard!;
    const live = w.frames.filter((f) => f.type === 'live').map((f) => Number(f.numbers['virtual-now']));
    expect(live.length, JSON.stringify(w.frames.map((f) => f.type))).toBeGreaterThanOrEqual(2);
    expect(new Set(live).size).toBeGreaterThanOrEqual(2);
    expect(live).toEqual([...live].sort((a, b) => a - b));
    expect(w.frames.at(-1)?.type).toBe('final');
    for (const u of w.requests) expect(new URL(u).host, u).toBe(w.origin);
    expect(w.requests.filter((u) => u.startsWith('ws:'))).toEqual([`ws://${w.origin}/live`]);
    expect(w.errors).toEqual([]);
  });

  it('ends on run.json\'s verdict, ledger counts, per-kind latency and fault window, read from the page\'s data-* attributes', async () => {
    const { page } = await dashboard!;
    await page.locator('body[data-state="final"]').waitFor({ timeout: 5000 });
    await expect(page.locator('#status').innerText()).resolves.toBe(run.verdict);
    const dom = await dataOf(page, { ledger: '#ledger-summary', latency: '#chart-latency .latency-row', shade: '#chart-alarms rect.fault-window', progress: '#progress', records: '#chart-records' });
    const l = run.ledger;
    expect(dom.ledger).toEqual([{
      verdict: run.verdict, expected: String(l.expected), onTime: String(l.onTime), late: String(l.late), lateAllowed: String(l.lateAllowed), dropped: String(l.dropped),
      duplicates: String(l.duplicates), spurious: String(l.spurious), recordsMade: String(run.completeness.recordsMade), recordsStored: String(run.completeness.recordsStored),
    }]);
    expect(latencyRows(dom.latency)).toEqual(runLatency(run));
    const fault = run.faults[0]!;
    expect(dom.shade).toEqual([expect.objectContaining({ fault: fault.name, from: fault.from, until: fault.until })]);
    expect(dom.progress[0]!['phase']).toBe('ended');
    // Records sent vs stored: run.json's per-minute counts, summed.
    const sum = (xs: readonly number[]): string => String(xs.reduce((a, b) => a + b, 0));
    expect(dom.records).toEqual([expect.objectContaining({ totalSent: sum(run.records!.sent), totalResent: sum(run.records!.resent), totalStored: sum(run.records!.stored) })]);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
  });
});

import { describe, expect, it } from 'vitest';
import { sampleRun, writeSampleRunDir } from '../../test/support/sample-run.ts';
import { renderReport } from './render-report.ts';
import { readRunDir } from '../run-dir.ts';

const html = renderReport(readRunDir(writeSampleRunDir()));
const run = sampleRun();

/** The attributes of every element matching `selector`-like text: `<tag class="cls" …>`. */
function marks(tag: string, cls: string): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  for (const m of html.matchAll(new RegExp(`<${tag} class="${cls}"([^>]*)>`, 'g'))) {
    found.push(Object.fromEntries([...(m[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])) as Record<string, string>);
  }
  return found;
}

describe('report.html', () => {
  it('is self-contained: no script, no link, no external resource', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\s(src|href)=|@import|url\(/i);
  });

  it('the header: verdict, scenario and hash, seed, speed, version, pipeline, times, the command to reproduce', () => {
    expect(html).toMatch(/<header data-verdict="FAIL" data-seed="7" data-speed="240" data-sha256="(ab){32}">/);
    for (const text of ['sample — /tmp/sample.scenario.ts', '240× (virtual seconds per real second)', 'vigil-reference-pipeline', '2021-10-25T12:00:00.000Z → 2021-10-25T13:00:00.000Z', '<code id="command">npx vigil run sample.scenario.ts --firmware broker-ack</code>']) {
      expect(html).toContain(text);
    }
  });

  it('shades the fault window with its from and until on every chart over time', () => {
    const windows = marks('rect', 'fault-window');
    expect(windows).toHaveLength(3);
    for (const w of windows) expect(w).toMatchObject({ 'data-fault': 'cut', 'data-from': run.faults[0]!.from, 'data-until': run.faults[0]!.until });
    expect(Number(windows[0]!['width'])).toBeGreaterThan(0);
  });

  it('the alarm bins carry the journal\'s counts; the pending line ends with the dropped alarm', () => {
    const bins = marks('g', 'bin');
    expect(bins.map((b) => [b['data-from'], b['data-expected'], b['data-detected']])).toEqual([
      ['2021-10-25T12:03:00.000Z', '1', '1'], ['2021-10-25T12:10:00.000Z', '1', '0'], ['2021-10-25T12:11:00.000Z', '0', '1'],
      ['2021-10-25T12:21:00.000Z', '1', '0'], ['2021-10-25T12:40:00.000Z', '1', '0'], ['2021-10-25T12:47:00.000Z', '0', '1'],
    ]);
    expect(html).toMatch(/id="chart-alarms"[^>]*data-total-expected="4" data-total-detected="3"/);
    expect(html).toMatch(/id="chart-pending"[^>]*data-final-pending="1"/);
  });

  it('records sent vs stored: one mark per minute with run.json\'s numbers, totals equal to run.json\'s', () => {
    const minutes = marks('g', 'minute');
    const records = run.records!;
    expect(minutes.map((m) => Number(m['data-sent']))).toEqual(records.sent);
    expect(minutes.map((m) => Number(m['data-resent']))).toEqual(records.resent);
    expect(minutes.map((m) => Number(m['data-stored']))).toEqual(records.stored);
    expect(minutes[36]!['data-from']).toBe('2021-10-25T12:36:00.000Z');
    expect(html).toMatch(/id="chart-records"[^>]*data-total-sent="300" data-total-resent="40" data-total-stored="290"/);
    expect([run.fleet['records'], run.fleet['resent'], run.fleet['stored']]).toEqual([300, 40, 290]);
    expect(html).toContain('300 records sent, 40 resends, 290 acknowledged as stored.');
    expect(html).toContain('Real devices in gateway mode are counted with the virtual fleet (a direct device&#39;s uplink is its own, unseen). The virtual fleet made 300 records (run.json fleet.records); at the final read the pipeline held 290 of the 300 made (real devices included), 10 never stored');
    // The stored line drops under the fault: its points sit lower (larger y) there than before it.
    const stored = /<polyline class="records stored" points="([^"]*)"/.exec(html)![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(stored[20]!).toBeGreaterThan(stored[10]!);
    expect(stored[36]!).toBeLessThan(stored[10]!);
  });

  it('records per minute: from the journal when run.json has none; "not measured" in observe mode; said when neither has them', () => {
    const dir = readRunDir(writeSampleRunDir());
    const { records: _r, ...older } = dir.run;
    expect(renderReport({ ...dir, run: older })).toMatch(/id="chart-records"[^>]*data-total-sent="300" data-total-resent="40" data-total-stored="290"/);
    const neither = renderReport({ ...dir, run: older, journal: [] });
    expect(neither).not.toContain('id="chart-records"');
    expect(neither).toContain('Records sent vs stored: not recorded');
    const observe = renderReport({ ...dir, run: { ...older, mode: 'observe' }, journal: [] });
    expect(observe).toContain('Records sent vs stored: not measured in observe mode');
    expect(observe).not.toContain('class="minute"');
  });

  it('latency rows are run.json\'s numbers, with the SLA', () => {
    const rows = marks('g', 'latency-row');
    expect(rows.map((r) => r['data-kind'])).toEqual(['exclusion_zone_entry', 'curfew_violation']);
    for (const r of rows) {
      const s = run.latencyMs[r['data-kind']!]!;
      expect([r['data-count'], r['data-p50'], r['data-p95'], r['data-p99'], r['data-max'], r['data-sla-ms']].map(Number)).toEqual([s.count, s.p50, s.p95, s.p99, s.max, s.slaMs]);
    }
  });

  it('names every failure in the table: device, kind, device time, what happened', () => {
    const rows = marks('tr', 'failure dropped');
    expect(rows).toEqual([expect.objectContaining({ 'data-device-id': 'PSEM-00002', 'data-kind': 'exclusion_zone_entry', 'data-status': 'dropped' })]);
    expect(html).toContain('<td>PSEM-00002</td><td>exclusion_zone_entry</td><td>2021-10-25T12:21:00.000Z</td><td>dropped</td><td>—</td><td>exclusion_zone_entry of PSEM-00002 (seq 12, device time 12:21) never reached the operator feed</td>');
    expect(marks('tr', 'failure late')).toEqual([expect.objectContaining({ 'data-device-id': 'PSE-00001', 'data-latency-ms': '420000' })]);
  });

  it('each failed check with its items named', () => {
    expect(html).toContain('<tr class="fail" data-check="no dropped alarms" data-passed="false" data-items="1"><td>FAIL</td><td>no dropped alarms</td><td>1 of 4 expected alarms never reached the feed<ul class="items"><li>exclusion_zone_entry of PSEM-00002 (seq 12, device time 12:21) never reached the operator feed</li></ul></td></tr>');
  });

  it('the fault table and absence chart: time to detect, never drained', () => {
    expect(html).toMatch(/<g class="absence-row" data-fault="cut" data-time-to-detect-ms="780000" data-drain-ms="" data-required="2" data-on-time="2">/);
    expect(html).toContain('never (1 device)');
  });

  it('the map places the PSE wearer at home and the PSEM wearer at its zone, inside France', () => {
    expect(html).toMatch(/<svg id="map-france"[^>]*data-affected="2" data-placed="2"><path class="land" d="M/);
    const dots = marks('circle', 'device (?:dropped|late)');
    expect(dots.map((d) => [d['data-device-id'], d['data-status'], d['data-place']])).toEqual([['PSEM-00002', 'dropped', 'zone'], ['PSE-00001', 'late', 'home']]);
    for (const d of dots) {
      expect(Number(d['cx'])).toBeGreaterThan(0);
      expect(Number(d['cx'])).toBeLessThan(560);
      expect(Number(d['cy'])).toBeGreaterThan(0);
      expect(Number(d['cy'])).toBeLessThan(540);
    }
    // Paris is north of Lyon: smaller y.
    expect(Number(dots[0]!['cy'])).toBeLessThan(Number(dots[1]!['cy']));
  });

  it('the real device with its byte log excerpt; counts per kind and per device type', () => {
    expect(html).toMatch(/<pre class="byte-log" data-file="hil-PSEM-00003.log" data-lines="12">[^<]*line 1\|[\s\S]*… 2 more lines in hil-PSEM-00003.log …[\s\S]*line 12\|<\/pre>/);
    expect(html).toMatch(/<tr data-kind="exclusion_zone_entry" data-expected="3" data-ontime="2" data-late="0" data-dropped="1"/);
    expect(html).toMatch(/<tr data-type="pse" data-expected="1" data-ontime="0" data-late="1" data-dropped="0"/);
  });

  it('escapes what it shows', () => {
    const dir = readRunDir(writeSampleRunDir());
    const hostile = { ...dir, run: { ...dir.run, scenario: { ...dir.run.scenario, name: '<script>alert(1)</script>' } } };
    const page = renderReport(hostile);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('an older run.json: the page says what it lacks and draws the rest', () => {
    const dir = readRunDir(writeSampleRunDir());
    const { mix: _m, ...scenario } = dir.run.scenario;
    const page = renderReport({ ...dir, run: { ...dir.run, scenario: scenario as typeof dir.run.scenario, faults: [] }, notes: ['run.json is schema 1 (this Vigil writes 3): it has no faults'] });
    expect(page).toContain('<dt>devices</dt><dd>3</dd>');
    expect(page).toContain('<li>run.json is schema 1 (this Vigil writes 3): it has no faults</li>');
    expect(page).toContain('No fault window in this run.');
    expect(page).not.toContain('class="fault-window"');
  });

  it('a run whose harness fell behind its clock says so first, in the words of the summary; one that kept it, not at all', () => {
    const dir = readRunDir(writeSampleRunDir());
    const harness = { lagMaxMs: 2000, limitMs: 30_000, behindMinutes: 2, failures: 2, failuresWhileBehind: 1, behind: [{ from: '2021-10-25T12:20:00.000Z', until: '2021-10-25T12:22:00.000Z', lagMaxMs: 2000 }] };
    const page = renderReport({ ...dir, run: { ...dir.run, harness }, notes: ['another note'] });
    expect(page).toContain('<ul class="notes" id="notes"><li>harness: BEHIND its clock by more than 30 s (virtual) in 2 minutes: 12:20–12:22Z (2.00 s); at worst 2.00 s real (8 min 0 s of virtual time) — 1 of the 2 late, dropped or spurious alarms had such a minute before their deadline: they may be the harness&#39;s failures');
    expect(page).toContain('<li>another note</li>');
    const kept = renderReport({ ...dir, run: { ...dir.run, harness: { ...harness, behindMinutes: 0, behind: [], failuresWhileBehind: 0 } }, notes: [] });
    expect(kept).not.toContain('id="notes"');
  });

  it('without journal or provisioning: the rest is drawn, and the page says what is left out', () => {
    const page = renderReport(readRunDir(writeSampleRunDir({ omit: ['journal.jsonl', 'provisioning.json'] })));
    expect(page).toContain('No journal: no chart of alarms over time.');
    expect(page).toContain('id="chart-records"');
    expect(page).toContain('<li>journal.jsonl is missing: the alarms-per-minute and pending-alarms charts are left out</li>');
    expect(page).toMatch(/data-affected="2" data-placed="0"/);
    expect(page).toContain('provisioning.json is missing or unreadable: only the outline is drawn.');
    expect(page).toMatch(/class="failure dropped"/);
  });
});

import { describe, expect, it } from 'vitest';
import { junitXml } from './junit.ts';
import { sampleRun } from '../test/support/sample-run.ts';

const behind = { lagMaxMs: 2560.4, limitMs: 30_000, behindMinutes: 4, failures: 2, failuresWhileBehind: 1, behind: [{ from: '2021-10-25T12:10:00.000Z', until: '2021-10-25T12:14:00.000Z', lagMaxMs: 2560.4 }] };

describe('junit.xml', () => {
  it("carries the harness's pace as suite properties, and every failure of a run whose harness fell behind says so", () => {
    const xml = junitXml({ ...sampleRun(), harness: behind });
    expect(xml).toContain('<property name="harnessBehindMinutes" value="4"/>');
    expect(xml).toContain('<property name="harnessLagMaxMs" value="2560"/>');
    const failures = [...xml.matchAll(/<failure [^>]*>([^<]*)<\/failure>/g)].map((m) => m[1]!);
    expect(failures).toHaveLength(2);
    for (const f of failures) expect(f).toContain('harness: BEHIND its clock by more than 30 s (virtual) in 4 minutes: 12:10–12:14Z (2.56 s)');
  });

  it('a harness that kept its clock: its properties, and failures about the pipeline alone; a run.json before it: neither', () => {
    const kept = junitXml({ ...sampleRun(), harness: { ...behind, behindMinutes: 0, behind: [], failuresWhileBehind: 0 } });
    expect(kept).toContain('<property name="harnessBehindMinutes" value="0"/>');
    expect(kept).not.toContain('harness: ');
    const old = junitXml(sampleRun());
    expect(old).not.toContain('harness');
  });
});

import { describe, expect, it } from 'vitest';
import { reproduceCommand } from './run-command.ts';

describe('the reproduce command line', () => {
  it('names every flag that shaped the run and never the token', () => {
    const cmd = reproduceCommand('scenarios/smoke.scenario.ts', { token: 's3cret', speed: 240, seed: 4, out: 'runs', pipeline: 'http://127.0.0.1:9' });
    expect(cmd).toBe('npx vigil run scenarios/smoke.scenario.ts --pipeline http://127.0.0.1:9 --speed 240 --seed 4 --out runs');
    expect(cmd).not.toContain('s3cret');
  });
});

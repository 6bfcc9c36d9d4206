/**
 * What a k6 run takes from its environment (`k6 run -e NAME=value`, or the TestRun's env): the
 * run's clock and, optionally, another broker. Everything else was baked in at export.
 */
import type { ClockTriple } from '../../protocol/clock.ts';
import type { ExportConfig } from './export-config.ts';

/**
 * VIGIL_CLOCK: the clock triple the observer prints (`vigil run <scenario> --observe`), as JSON
 * {"startVirtual":…,"startReal":…,"speed":…}. Its speed and virtual start must be the scenario's:
 * the firmware's timing was derived from them at export, and the observer's expectations too.
 */
export function readClock(env: Record<string, string | undefined>, config: Pick<ExportConfig, 'speed' | 'start'>): ClockTriple {
  const fix = 'pass the triple `vigil run <scenario> --observe` prints: k6 run -e VIGIL_CLOCK=\'{"startVirtual":…,"startReal":…,"speed":…}\' script.js';
  const text = env.VIGIL_CLOCK;
  if (text === undefined || text === '') throw new Error(`VIGIL_CLOCK is not set: ${fix}`);
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw new Error(`VIGIL_CLOCK is not JSON (got ${text.slice(0, 80)}): ${fix}`);
  }
  const t = x as Partial<Record<keyof ClockTriple, unknown>>;
  for (const k of ['startVirtual', 'startReal', 'speed'] as const) {
    if (typeof t[k] !== 'number' || !Number.isFinite(t[k])) throw new Error(`VIGIL_CLOCK.${k} must be a number, got ${JSON.stringify(t[k]) ?? 'nothing'}: ${fix}`);
  }
  const triple = t as ClockTriple;
  if (triple.speed !== config.speed) {
    throw new Error(`VIGIL_CLOCK.speed is ${triple.speed} but the script was exported for speed ${config.speed}: export again with the run's speed (the device timing depends on it)`);
  }
  if (triple.startVirtual !== config.start) {
    throw new Error(`VIGIL_CLOCK.startVirtual is ${new Date(triple.startVirtual).toISOString()} but the scenario starts at ${new Date(config.start).toISOString()}: use the clock of a run of this scenario`);
  }
  return triple;
}

/** VIGIL_BROKER overrides the broker given at export. */
export function brokerOf(env: Record<string, string | undefined>, config: Pick<ExportConfig, 'brokerUrl'>): string {
  const url = env.VIGIL_BROKER;
  if (url === undefined || url === '') return config.brokerUrl;
  if (!/^(mqtt|mqtts|tcp|ssl|tls|ws|wss):\/\/[^/]+/.test(url)) throw new Error(`VIGIL_BROKER must be a broker URL like mqtt://broker:1883, got "${url}"`);
  return url;
}

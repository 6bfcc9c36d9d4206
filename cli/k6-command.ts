/** `vigil k6 export <scenario-file>`: write the scenario's fleet as one k6 script (docs/DISTRIBUTED.md). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadScenario } from '../scenarios/load.ts';
import { exportK6Script } from '../scenarios/k6-export/export.ts';

export interface K6ExportFlags {
  out?: string;
  devices?: number;
  seed?: number;
  speed?: number;
  vus?: number;
  broker: string;
}

export async function k6ExportCommand(file: string, flags: K6ExportFlags, print: (line: string) => void): Promise<number> {
  const loaded = await loadScenario(file, { devices: flags.devices, seed: flags.seed, speed: flags.speed });
  const { text, config } = await exportK6Script(loaded, { brokerUrl: flags.broker, vus: flags.vus });
  const out = resolve(flags.out ?? `${config.scenario.name}.k6.js`);
  writeFileSync(out, text);
  const n = config.deviceIds.length;
  print(`wrote ${out} (${Math.round(text.length / 1024)} KiB): scenario ${config.scenario.name}, seed ${config.seed}, ${n} devices, ${config.vus} VUs (~${Math.ceil(n / config.vus)} devices each), speed ${config.speed}`);
  const faults = loaded.scenario.faults;
  if (faults.length > 0) {
    // The script is the devices only: network faults belong to the path between k6 and the broker.
    print(`note: the script injects none of the scenario's ${faults.length} fault(s) (${faults.map((f) => f.name).join(', ')}); see docs/DISTRIBUTED.md`);
  }
  if (config.vus < 2) print('note: 1 VU — k6 gives each instance a share of the VUs, so run it on one instance only, or export with --vus N for N instances');
  print(`next: vigil run ${file} --observe prints VIGIL_CLOCK; then k6 run -e VIGIL_CLOCK='…' ${out}`);
  return 0;
}

/**
 * `defineScenario()`: a scenario is data, typed by an identity function (STYLE.md §3) and validated
 * by `scenarios/schema.ts` before any socket opens.
 *
 *     import { defineScenario } from '../scenarios/define.ts';
 *     export default defineScenario({ name: 'smoke', duration: '2h', speed: 60, fleet: { psem: 1000 } });
 */
import type { ScenarioInput } from './schema.ts';

export type { ScenarioInput, Scenario } from './schema.ts';

export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}

/**
 * Stands in for luxon inside the k6 bundle (esbuild aliases 'luxon' here; scenarios/k6-export/bundle.ts).
 * sim/model/localtime.ts needs one thing from luxon, `IANAZone.create(zone).offset(t)`, and luxon
 * answers it through Intl.DateTimeFormat — which k6's runtime (sobek) does not have (grafana/k6
 * issue 2327, grafana/jslib.k6.io issue 199: "ReferenceError: Intl is not defined"). The offsets come
 * instead from the table luxon itself produced at export time (zone-table.ts), so the bundle
 * computes the very local times the Node fleet does.
 */
import config from 'vigil:export';
import type { ZoneTable } from './export-config.ts';
import { tableOffset } from './zone-table.ts';

export class IANAZone {
  private constructor(private readonly table: ZoneTable) {}

  static create(name: string): IANAZone {
    const table = config.timeZone;
    if (name !== table.zone) throw new RangeError(`the k6 script carries offsets for ${table.zone} only, not ${name}`);
    return new IANAZone(table);
  }

  offset(t: number): number {
    return tableOffset(this.table, t);
  }
}

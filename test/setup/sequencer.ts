/**
 * The order vitest hands test files to its workers (`sequence.sequencer` in vitest.config.ts).
 *
 * Vitest's own order, without a duration cache (a fresh clone): the embedded project, then
 * postgres, then unit, larger files first. The long postgres files (the browser suites,
 * the throwaway clusters) then started when the embedded project was done, minutes into
 * the run, and the first embedded files waited for their seeded database, which takes
 * longest to make (test/setup/global-db.ts). Here:
 *
 * 1. the postgres files known to take long, longest first: their seeded database is
 *    ready within seconds, and they must not be left for the end;
 * 2. the embedded files, the long ones first, then the others larger first;
 * 3. the other postgres files, then the unit project: short files that fill the
 *    workers up to the end.
 *
 * A worker stays on one project as long as the files it is handed do (with
 * `isolate: false` it keeps its modules and, on the embedded backend, its open
 * database), so the projects are kept together rather than mixed file by file.
 *
 * `SLOW`: the files that took 20 s or more in a whole run (seconds from being handed
 * to a worker to their end, on a loaded machine, 2026-12-05); only their order matters.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOW: Record<string, Record<string, number>> = {
  postgres: {
    'test/browser/edit-import.test.ts': 67,
    'test/db/cluster.test.ts': 62,
    'test/browser/wall.test.ts': 60,
    'test/db/archive-fallback.test.ts': 57,
    'test/browser/replica-client.test.ts': 56,
    'test/api/pressure.test.ts': 49,
    'test/ogc/features.test.ts': 41,
    'test/db/outage.test.ts': 37,
    'test/ogc/gdal.test.ts': 33,
    'test/db/replica.test.ts': 32,
    'test/risk/api.test.ts': 30,
    'test/api/restricted-leaks.test.ts': 29,
    'test/tiles/structure.test.ts': 29,
    'test/tiles/cross-engine.test.ts': 28,
    'test/analysis/agreement.test.ts': 25,
    'test/tiles/archive.test.ts': 22,
    'test/maps/static-map.test.ts': 21,
    'test/db/startup.test.ts': 21,
    'test/db/two-processes.test.ts': 21,
  },
  embedded: {
    'test/browser/risk-views.test.ts': 82,
    'test/api/pressure.test.ts': 49,
    'test/ogc/features.test.ts': 47,
    'test/browser/map.test.ts': 45,
    'test/browser/planner-touch-en.test.ts': 41,
    'test/browser/planner.test.ts': 39,
    'test/maps/static-map.test.ts': 36,
    'test/risk/api.test.ts': 34,
    'test/tiles/pyramid.test.ts': 34,
    'test/ogc/gdal.test.ts': 27,
    'test/browser/ogc-page.test.ts': 27,
    'test/api/hazard-zone-edits.test.ts': 27,
    'test/analysis/agreement.test.ts': 26,
    'test/ogc/planner.test.ts': 25,
    'test/db/persistence.test.ts': 23,
    'test/db/startup.test.ts': 23,
    'test/api/shutdown.test.ts': 22,
    'test/ogc/openapi.test.ts': 22,
    'test/api/shelter-usability.test.ts': 20,
  },
};

export default class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // vitest's order (by project, then larger files first) among files of one group
    const base = await super.sort(files);
    const rank = new Map(base.map((f, i) => [f, i]));
    const seconds = (f: TestSpecification) => SLOW[f.project.name]?.[path.relative(this.ctx.config.root, f.moduleId)] ?? 0;
    const group = (f: TestSpecification) => {
      if (f.project.name === 'postgres') return seconds(f) > 0 ? 0 : 2;
      if (f.project.name === 'embedded') return 1;
      return 3;
    };
    return [...files].sort((a, b) => group(a) - group(b) || seconds(b) - seconds(a) || rank.get(a)! - rank.get(b)!);
  }
}

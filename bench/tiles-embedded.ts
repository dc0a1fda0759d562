/**
 * Clustered tiles on the embedded backend (PGlite): the densest tile of every zoom below
 * `belowZoom` (z0–z11), cold and warm, read from the count pyramid (tile_cluster_cells, what
 * the in-process engine does by default) and clustered from the layer's points in memory
 * (`pyramid: false`, what it did before), on the same rows in the same run.
 *
 *   npx tsx bench/tiles-embedded.ts            # 100,000 synthetic risk points
 *   npx tsx bench/tiles-embedded.ts --quick    # 20,000
 *
 * "Cold" is the first render of the tile by a fresh engine: in memory that includes reading the
 * whole layer and building its indexes, which the first tile of any zoom pays once; "warm" is
 * the median of three more renders of the same tile by the same engine. The two engines
 * alternate (which goes first changes with the zoom), so load from other processes hits both.
 */
import os from 'node:os';
import { openEmbedded } from '../server/db/embedded.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import { getLayer } from '../catalog/layers.ts';
import { ANONYMOUS } from '../catalog/access.ts';
import { GeojsonVtEngine } from '../tiles/engine-geojsonvt.ts';
import { DbFeatureSource } from '../tiles/source.ts';
import { decodeTile } from '../test/tiles/helpers/decode.ts';
import { QUICK_RUN, record } from './results.ts';
import { densestTile, fillRiskPoints } from './synthetic-risk-points.ts';

const QUICK = process.argv.includes('--quick') || QUICK_RUN;
const COUNT = QUICK ? 20_000 : 100_000;
const ms = (n: number) => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const started = Date.now();
  console.log('# Clustered tiles on the embedded backend: count pyramid vs in memory');
  console.log(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${os.cpus().length} cores; Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const db = await openEmbedded();
  try {
    await prepareDatabase(db, { demoData: true });
    const fill = await fillRiskPoints(db, COUNT, 20_000);
    console.log(`\nrisk_points: ${COUNT.toLocaleString('en')} synthetic points written in ${(fill / 1000).toFixed(0)} s (pyramid included)\n`);

    const layer = getLayer('risk_points')!;
    const render = (engine: GeojsonVtEngine, tile: { z: number; x: number; y: number }) => engine.renderLayer({ layer, tile, filters: {}, who: ANONYMOUS });
    console.log('| z | points in tile | features | pyramid: cold | pyramid: warm | in memory: cold | in memory: warm | cold ÷ in memory |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (let z = 0; z < layer.cluster!.belowZoom; z++) {
      const densest = await densestTile(db, z);
      const tile = { z, x: densest.x, y: densest.y };
      const sides = {
        pyramid: () => new GeojsonVtEngine(new DbFeatureSource(db)),
        memory: () => new GeojsonVtEngine(new DbFeatureSource(db), { pyramid: false }),
      };
      const figures: Record<keyof typeof sides, { cold: number; warm: number; tile: Uint8Array }> = {} as never;
      const order = (z % 2 ? ['memory', 'pyramid'] : ['pyramid', 'memory']) as (keyof typeof sides)[];
      for (const side of order) {
        const engine = sides[side]();
        const t0 = performance.now();
        const buf = await render(engine, tile);
        const cold = performance.now() - t0;
        const warm: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t1 = performance.now();
          await render(engine, tile);
          warm.push(performance.now() - t1);
        }
        figures[side] = { cold, warm: median(warm), tile: buf };
        await engine.close();
      }
      const features = decodeTile(figures.pyramid.tile).risk_points?.length ?? 0;
      if (!Buffer.from(figures.pyramid.tile).equals(Buffer.from(figures.memory.tile))) console.log(`(z${z}: the two tiles differ in bytes)`);
      const p = figures.pyramid;
      const m = figures.memory;
      console.log(`| ${z} | ${densest.n.toLocaleString('en')} | ${features} | ${ms(p.cold)} | ${ms(p.warm)} | ${ms(m.cold)} | ${ms(m.warm)} | ${(p.cold / m.cold).toPrecision(2)} |`);
      record({
        bench: 'tiles-embedded',
        name: `densest z${z} tile of ${COUNT.toLocaleString('en')} points, embedded, cold, from the pyramid`,
        value: p.cold,
        unit: 'ms',
        baseline: { name: 'clustered in memory (layer read first), same run', value: m.cold },
        better: 'lower',
      });
    }
  } finally {
    await db.close();
  }
  console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import express, { type Express } from 'express';
import sharp from 'sharp';
import { testDb } from '../setup/db.ts';
import { REGEN, goldenBytes } from '../helpers/golden.ts';
import { loadConfig } from '../../server/config.ts';
import { silentLogger } from '../../server/log.ts';
import { errorMiddleware, notFoundHandler } from '../../server/http/errors.ts';
import { mapRoutes } from '../../server/maps/routes.ts';
import { appContext } from '../../server/context.ts';
import { DISTRICT_IDS } from '../../catalog/layers.ts';
import type { Db } from '../../server/db/types.ts';
import { decode } from './helpers.ts';

/**
 * One golden image per demo district, compared with a tolerance (anti-aliasing
 * and font hinting differ a little between machines and PostGIS versions).
 * After a deliberate change to the drawing or the demo data, rewrite them with
 *   REGEN=1 npx vitest run --project postgres test/maps/golden.test.ts
 * and look at every PNG before committing it.
 */
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/maps');
const QUERY = 'layers=risk_points,shelters&width=600&height=400&lang=zh';
/** A pixel differs when one channel differs by more than this. */
const PIXEL_TOLERANCE = 48;
/** The image matches when at most this share of pixels differ. */
const MAX_DIFFERING_SHARE = 0.001;

let db: Db;
let app: Express;
beforeAll(async () => {
  db = await testDb();
  app = express();
  // A fixed clock: the footer's timestamp is part of the picture.
  app.use(mapRoutes(appContext({ db, config: loadConfig({}), log: silentLogger }), { now: () => new Date('2026-11-25T02:00:00Z') }));
  app.use(notFoundHandler);
  app.use(errorMiddleware(silentLogger));
});
afterAll(async () => db?.close());

async function compare(actual: Buffer, expected: Buffer): Promise<{ share: number; meanDiff: number; diffImage: Buffer }> {
  const a = await decode(actual);
  const e = await decode(expected);
  expect([a.width, a.height]).toEqual([e.width, e.height]);
  let differing = 0;
  let total = 0;
  const diff = Buffer.alloc(a.width * a.height * 3, 255);
  for (let p = 0; p < a.width * a.height; p++) {
    let worst = 0;
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a.data[p * a.channels + c] - e.data[p * e.channels + c]));
    total += worst;
    if (worst > PIXEL_TOLERANCE) {
      differing++;
      diff[p * 3 + 1] = 0;
      diff[p * 3 + 2] = 0;
    }
  }
  const diffImage = await sharp(diff, { raw: { width: a.width, height: a.height, channels: 3 } }).png().toBuffer();
  return { share: differing / (a.width * a.height), meanDiff: total / (a.width * a.height), diffImage };
}

describe('golden static maps of the demo districts', () => {
  it.each([...DISTRICT_IDS])('%s', async (district) => {
    const r = await request(app).get(`/maps/static.png?district=${district}&${QUERY}`).expect(200).expect('content-type', 'image/png');
    // Stored as a 256-colour PNG to keep the repository small; the tolerance absorbs the quantisation.
    const fresh = REGEN ? await sharp(r.body).png({ palette: true, colours: 256, dither: 0, compressionLevel: 9, effort: 10 }).toBuffer() : undefined;
    const stored = goldenBytes(`maps/${district}.png`, () => fresh!);
    if (!stored) return;
    const { share, meanDiff, diffImage } = await compare(r.body, stored);
    if (share > MAX_DIFFERING_SHARE) {
      const out = path.join(os.tmpdir(), `static-map-${district}`);
      fs.writeFileSync(`${out}.actual.png`, r.body);
      fs.writeFileSync(`${out}.diff.png`, diffImage);
      expect.fail(`${(share * 100).toFixed(2)} % of pixels differ (mean ${meanDiff.toFixed(2)}); see ${out}.actual.png and ${out}.diff.png, or REGEN=1 after a deliberate change`);
    }
    expect(meanDiff).toBeLessThan(1.5);
  });

  it('the comparison is not blind: English labels or a district without its shelters differ', async () => {
    const golden = fs.readFileSync(path.join(FIXTURES, 'yuexiu.png'));
    const en = await request(app).get(`/maps/static.png?district=yuexiu&${QUERY.replace('lang=zh', 'lang=en')}`).expect(200);
    expect((await compare(en.body, golden)).share).toBeGreaterThan(MAX_DIFFERING_SHARE);
    const noShelters = await request(app).get(`/maps/static.png?district=yuexiu&${QUERY.replace('risk_points,shelters', 'risk_points')}`).expect(200);
    expect((await compare(noShelters.body, golden)).share).toBeGreaterThan(MAX_DIFFERING_SHARE);
  });
});

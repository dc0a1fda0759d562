/**
 * A bulk load lands as consistent as edited data (server/db/load-data.ts): the
 * seeded test database was loaded by prepareDatabase like a first start, so the
 * demo shelters inside an active flood-prone spot's (100 m) or geohazard site's
 * (200 m) zone must already be stored unusable, audited by the load in its own
 * data version — and a recomputation afterwards has nothing left to change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { currentDataVersion } from '../../server/db/data-version.ts';
import { DATA_LOAD_ACTOR } from '../../server/db/load-data.ts';
import { recomputeHazardZones } from '../../server/shelters/usability.ts';

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => {
  await db?.close();
});

const flaggedAtLoad = async () =>
  (
    await db.query<{ id: number; note: string }>(
      `SELECT id::int8 AS id, unusable_note AS note FROM shelters WHERE NOT usable AND unusable_reason = 'hazard_zone' AND deleted_at IS NULL ORDER BY id`,
    )
  ).rows.map((r) => ({ id: Number(r.id), note: r.note }));

describe('demo data load', () => {
  it('stores the 12 demo shelters inside an active hazard’s zone as unusable, and no other', async () => {
    const flagged = await flaggedAtLoad();
    expect(flagged).toHaveLength(12);
    // Independently, in PostGIS on the geography: the shelters within the zone distances of an active public hazard.
    const zoned = await db.query<{ id: number }>(
      `SELECT s.id::int8 AS id FROM shelters s
        WHERE s.deleted_at IS NULL
          AND (EXISTS (SELECT 1 FROM flood_points f WHERE f.deleted_at IS NULL AND f.status = 'active' AND ST_DWithin(f.geom::geography, s.geom::geography, 100))
            OR EXISTS (SELECT 1 FROM geohazard_sites g WHERE g.deleted_at IS NULL AND g.status = 'active' AND ST_DWithin(g.geom::geography, s.geom::geography, 200)))
        ORDER BY 1`,
    );
    expect(flagged.map((f) => f.id)).toEqual(zoned.rows.map((r) => Number(r.id)));
    for (const f of flagged) expect(f.note).toMatch(/^within (100|200) m of active (flood point|geohazard site) \d+ \(\d+(\.\d)? m\)$/);
    // Nothing else is unusable after a load: no editor's flag, no scenario.
    const others = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shelters WHERE NOT usable AND unusable_reason IS DISTINCT FROM 'hazard_zone'`);
    expect(others.rows[0].n).toBe(0);
  });

  it('audits each flag as the load’s, in the load’s data version, with its since', async () => {
    const flagged = await flaggedAtLoad();
    const audit = await db.query<{ feature_id: string; actor: string; data_version: number; after: Record<string, unknown> }>(
      `SELECT feature_id, actor, data_version::int8 AS data_version, after FROM audit_log WHERE layer = 'shelters' ORDER BY feature_id::int8`,
    );
    expect(audit.rows.map((r) => Number(r.feature_id))).toEqual(flagged.map((f) => f.id));
    const loadVersion = await currentDataVersion(db);
    for (const r of audit.rows) {
      expect(r.actor).toBe(DATA_LOAD_ACTOR.actor);
      expect(Number(r.data_version)).toBe(Number(loadVersion));
      expect(r.after).toMatchObject({ usable: false, unusable_reason: 'hazard_zone', unusable_since: expect.stringMatching(/Z$/) });
    }
  });

  it('leaves a recomputation nothing to change', async () => {
    const before = await currentDataVersion(db);
    const r = await recomputeHazardZones(db, DATA_LOAD_ACTOR);
    expect(r).toMatchObject({ flagged: [], restored: [], renoted: [], in_hazard_zones: 12, data_version: null });
    expect(await currentDataVersion(db)).toBe(before);
  });
});

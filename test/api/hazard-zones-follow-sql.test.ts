/**
 * Hazards written in plain SQL (an ETL job, psql) move shelters' hazard-zone flags
 * as an edit through the server does: every process hears the COMMIT's announcement
 * (migration 017) and recomputes every shelter (server/shelters/hazard-zone-keeper.ts),
 * audited and announced shelter by shelter. A flood-prone spot's zone is 100 m
 * (server/risk/options.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp, appOn } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/sse.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import { currentDataVersion } from '../../server/db/data-version.ts';
import { HAZARD_ZONE_LOCK, PLAIN_SQL_ZONE_ACTOR, type HazardZoneKeeper } from '../../server/shelters/hazard-zone-keeper.ts';
import { backend } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { WHOLE_LAYER } from '../../catalog/ports.ts';

let db: Db;
let app: Express;
const heard: FeatureChange[] = [];
let shelter: { id: number; lon: number; lat: number };
let other: { id: number; lon: number; lat: number };
let third: { id: number; lon: number; lat: number };
let bus: ChangeBus;

beforeAll(async () => {
  bus = new ChangeBus();
  bus.on((c) => heard.push(c));
  ({ db, app } = await testApp({ env: { HAZARD_ZONES_FOLLOW_SQL: 'true' }, app: { changes: bus } }));
  await app.locals.ready;
  // The round a process runs once it listens (see the last test) changes nothing in the seeded data.
  await keeper().idle();
  expect(keeper().rounds).toBe(1);
  expect((await db.query(`SELECT 1 FROM audit_log WHERE actor = $1`, [PLAIN_SQL_ZONE_ACTOR.actor])).rows).toEqual([]);
  // Three usable shelters with no hazard within a kilometre: nothing flags them yet.
  const r = await db.query<{ id: number; lon: number; lat: number }>(
    `SELECT s.id::int8 AS id, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat FROM shelters s
      WHERE s.usable AND s.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM flood_points f WHERE f.deleted_at IS NULL AND ST_DWithin(f.geom::geography, s.geom::geography, 1000))
        AND NOT EXISTS (SELECT 1 FROM geohazard_sites g WHERE g.deleted_at IS NULL AND ST_DWithin(g.geom::geography, s.geom::geography, 1000))
      ORDER BY s.id LIMIT 3`,
  );
  [shelter, other, third] = r.rows.map((row) => ({ ...row, id: Number(row.id) }));
});
afterAll(async () => db?.close());

const keeperOf = (a: Express) => a.locals.hazardZones as HazardZoneKeeper;
const keeper = () => keeperOf(app);
const usability = async (id: number, on = app) => {
  const p = (await request(on).get(`/ogc/collections/shelters/items/${id}`).expect(200)).body.properties;
  return { usable: p.usable, reason: p.unusable_reason };
};
/** Writes in plain SQL, waits until this process has heard the COMMIT's announcement and the recomputation it started has ended. */
async function plainSql(write: () => Promise<unknown>): Promise<number> {
  await write();
  const v = Number(await currentDataVersion(db));
  await waitFor(() => (heard.some((c) => c.dataVersion === v && c.id === WHOLE_LAYER) ? true : undefined), 10_000, 'the announcement of the plain-SQL write');
  await keeper().idle();
  return v;
}
/** A hazard written with the triggers off announces nothing: as a write made while no process was listening. */
const unheardSpotAt = (shelterId: number) =>
  db.tx(async (q) => {
    await q.query('SET LOCAL session_replication_role = replica');
    await q.query(
      `INSERT INTO flood_points (district_id, name_zh, kind, status, synthetic, geom)
       SELECT district_id, '积水点 (未通知)', 'black_spot', 'active', true, geom FROM shelters WHERE id = $1`,
      [shelterId],
    );
  });
const audits = async (id: number) =>
  (await db.query<{ actor: string; after: { usable: boolean; unusable_reason: string | null } }>(`SELECT actor, after FROM audit_log WHERE layer = 'shelters' AND feature_id = $1 ORDER BY id`, [String(id)])).rows;

describe('hazard-zone flags after writes in plain SQL', () => {
  let spot: number;

  it('a flood-prone spot inserted next to a usable shelter flags it, audited and announced like an edit', async () => {
    expect(await usability(shelter.id)).toEqual({ usable: true, reason: null });
    const before = heard.length;
    const v = await plainSql(() =>
      db.query(
        `INSERT INTO flood_points (district_id, name_zh, kind, status, synthetic, geom)
         SELECT district_id, '积水点 (ETL)', 'black_spot', 'active', true, ST_SetSRID(ST_MakePoint($2, $3), 4326) FROM shelters WHERE id = $1`,
        [shelter.id, shelter.lon + 0.0003, shelter.lat],
      ),
    );
    spot = Number((await db.query<{ id: number }>(`SELECT max(id)::int8 AS id FROM flood_points`)).rows[0].id);

    expect(await usability(shelter.id)).toEqual({ usable: false, reason: 'hazard_zone' });
    expect((await audits(shelter.id)).at(-1)).toMatchObject({ actor: PLAIN_SQL_ZONE_ACTOR.actor, after: { usable: false, unusable_reason: 'hazard_zone' } });
    // the shelter's own change reaches maps and caches, with a later version than the write's
    const own = await waitFor(() => heard.slice(before).find((c) => c.layer === 'shelters' && c.id === shelter.id && c.kind === 'usability'), 10_000, 'the shelter change');
    expect(own.dataVersion).toBeGreaterThan(v);
    expect(own.summary).toMatchObject({ usable: false, unusable_reason: 'hazard_zone', previous_usable: true });
  });

  it('deleting the spot in plain SQL gives the flag back', async () => {
    await plainSql(() => db.query('DELETE FROM flood_points WHERE id = $1', [spot]));
    expect(await usability(shelter.id)).toEqual({ usable: true, reason: null });
    expect((await audits(shelter.id)).at(-1)).toMatchObject({ actor: PLAIN_SQL_ZONE_ACTOR.actor, after: { usable: true } });
  });

  it('a shelter moved into a zone in plain SQL is flagged; one round per transaction, none for other layers or check-ins', async () => {
    const site = Number(
      (await db.query<{ id: number }>(`SELECT id::int8 AS id FROM flood_points WHERE deleted_at IS NULL AND status = 'active' ORDER BY id LIMIT 1`)).rows[0].id,
    );
    const rounds = keeper().rounds;
    await plainSql(() => db.query(`UPDATE risk_points SET name_zh = name_zh WHERE id = (SELECT min(id) FROM risk_points)`));
    // a check-in written in SQL changes the shelters layer, but moves no shelter
    await plainSql(() => db.query(`INSERT INTO shelter_checkins (shelter_id, direction, people, actor) VALUES ($1, 'in', 3, 'ETL')`, [shelter.id]));
    expect(heard.at(-1)).toMatchObject({ layer: 'shelters', id: WHOLE_LAYER, tables: ['shelter_checkins'] });
    expect(keeper().rounds).toBe(rounds);

    // one transaction writing hazards and shelters: one announcement, one round for both layers
    await plainSql(() =>
      db.tx(async (q) => {
        await q.query(`UPDATE geohazard_sites SET name_zh = name_zh WHERE id = (SELECT min(id) FROM geohazard_sites)`);
        await q.query(`UPDATE shelters SET geom = (SELECT geom FROM flood_points WHERE id = $2) WHERE id = $1`, [shelter.id, site]);
      }),
    );
    expect(keeper().rounds).toBe(rounds + 1);
    expect(await usability(shelter.id)).toEqual({ usable: false, reason: 'hazard_zone' });
    // operators see the rounds (and failures) on /metrics
    const metrics = (await request(app).get('/metrics').expect(200)).text;
    expect(metrics).toContain(`onemap_hazard_zone_rounds_total ${rounds + 1}\n`);
    expect(metrics).toContain('onemap_hazard_zone_failures_total 0\n');
    expect(metrics).toContain('onemap_hazard_zone_skipped_total 0\n');
  });

  it('after a lost connection, the writes it may have missed are taken in', async () => {
    await unheardSpotAt(other.id);
    await keeper().idle();
    expect(await usability(other.id)).toEqual({ usable: true, reason: null });
    // What the relay sends once its connection is back (server/live/notify.ts): every layer, no version.
    const rounds = keeper().rounds;
    for (const layer of LAYERS) bus.emit({ layer: layer.id, id: WHOLE_LAYER, op: 'update', summary: { resync: true } });
    await keeper().idle();
    expect(keeper().rounds).toBe(rounds + 1);
    expect(await usability(other.id)).toEqual({ usable: false, reason: 'hazard_zone' });
  });

  it('a process that starts takes in the writes made while no process was listening', async () => {
    await unheardSpotAt(third.id);
    await keeper().idle();
    expect(await usability(third.id)).toEqual({ usable: true, reason: null });
    // A process started now (as after maintenance): one round once it listens, audited as the others.
    const started = appOn(db, { HAZARD_ZONES_FOLLOW_SQL: 'true' });
    await started.locals.ready;
    await keeperOf(started).idle();
    expect(keeperOf(started).rounds).toBe(1);
    expect(await usability(third.id, started)).toEqual({ usable: false, reason: 'hazard_zone' });
    expect((await audits(third.id)).at(-1)).toMatchObject({ actor: PLAIN_SQL_ZONE_ACTOR.actor, after: { usable: false, unusable_reason: 'hazard_zone' } });
  });

  // Several processes on one database (PostgreSQL; the embedded backend serves one process).
  it.runIf(backend === 'postgres')('a round is left to another process that is recomputing, and counted as skipped', async () => {
    const before = { rounds: keeper().rounds, skipped: keeper().skipped };
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // Another process's round, holding the lock.
    const other = db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [HAZARD_ZONE_LOCK]);
      locked();
      await released;
    });
    await isLocked;
    for (const layer of LAYERS) bus.emit({ layer: layer.id, id: WHOLE_LAYER, op: 'update', summary: { resync: true } });
    await keeper().idle();
    release();
    await other;
    expect(keeper()).toMatchObject({ rounds: before.rounds + 1, skipped: before.skipped + 1, failed: 0 });
  });

  it('HAZARD_ZONES_FOLLOW_SQL=false starts no keeper (POST /shelters/usability/hazard-zones is then the way)', async () => {
    const off = appOn(db, { HAZARD_ZONES_FOLLOW_SQL: 'false' });
    expect(off.locals.hazardZones).toBeUndefined();
  });
});

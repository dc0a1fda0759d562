import type { Db, Queryable } from '../db/types.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { journalOf } from '../db/data-version.ts';
import { recordChange } from '../live/notify.ts';
import type { Principal } from '../../catalog/access.ts';
import { districtScopeProblem } from '../auth/district-scope.ts';
import { hashEvacuee, type EvacueeKey } from './evacuee-key.ts';
import { keyedWrite } from '../db/write-keys.ts';
import type { RequestKey } from '../http/idempotency-key.ts';

export interface OccupancyChange {
  direction: 'in' | 'out';
  people: number;
  /** Evacuee reference (ID card, wristband); stored only as a keyed hash. */
  evacuee?: string;
}

export interface ShelterOccupancy {
  id: number;
  district_id: string;
  occupancy: number;
  capacity: number;
  status: string;
  version: number;
}

/**
 * Checks people in or out of a shelter with ONE conditional UPDATE, so parallel
 * check-ins can never push occupancy past capacity: the row lock makes each
 * UPDATE re-check `occupancy + n <= capacity` against the committed value.
 * Status follows: standby → open on the first arrival, open → full at capacity,
 * full → open when someone leaves; closed shelters accept nobody.
 */
export async function changeOccupancy(
  db: Db,
  shelterId: number,
  change: OccupancyChange,
  who: Principal,
  evacueeKey: EvacueeKey,
  /** An Idempotency-Key: the same request sent again gets the first answer, and nobody is counted twice. */
  key?: RequestKey,
): Promise<ShelterOccupancy & { replayed?: true }> {
  // Before the transaction: the first one made is stored on the same single connection (PGlite).
  const evacueeHash = change.evacuee ? hashEvacuee(await evacueeKey(), change.evacuee) : null;
  return db.tx((q) => keyedWrite(q, key, async () => {
    const delta = change.direction === 'in' ? change.people : -change.people;
    const updated = await q.query<ShelterOccupancy>(
      `UPDATE shelters
          SET occupancy = occupancy + $2,
              status = CASE WHEN occupancy + $2 >= capacity THEN 'full' ELSE 'open' END,
              version = version + 1,
              updated_at = now()
        WHERE id = $1 AND deleted_at IS NULL AND status <> 'closed'
          AND occupancy + $2 BETWEEN 0 AND capacity
          AND ($3::text[] IS NULL OR district_id = ANY($3::text[]))
        RETURNING id, district_id, occupancy, capacity, status, version`,
      [shelterId, delta, who.districts],
    );
    const row = updated.rows[0];
    // Explained on the same connection: the transaction holds it (PGlite has only one).
    if (!row) throw await explainRefusal(q, shelterId, change, who);
    await q.query(
      'INSERT INTO shelter_checkins (shelter_id, direction, people, evacuee_hash, actor) VALUES ($1, $2, $3, $4, $5)',
      [shelterId, change.direction, change.people, evacueeHash, who.actor],
    );
    const summary = { occupancy: row.occupancy, capacity: row.capacity, status: row.status };
    // audit row and live event under the data version taken at the end of the transaction
    journalOf(q).audit({ actor: who.actor, layer: 'shelters', feature_id: String(shelterId), operation: change.direction === 'in' ? 'checkin' : 'checkout', before: { occupancy: row.occupancy - delta }, after: summary });
    recordChange(q, { layer: 'shelters', id: shelterId, op: 'update', kind: 'occupancy', summary });
    return row;
  }));
}

/** Why a check-in/out was refused: 404 no such shelter, 403 other district, 409 closed/full/empty. */
async function explainRefusal(db: Queryable, shelterId: number, change: OccupancyChange, who: Principal): Promise<HttpProblem> {
  const r = await db.query<ShelterOccupancy>(
    'SELECT id, district_id, occupancy, capacity, status FROM shelters WHERE id = $1 AND deleted_at IS NULL',
    [shelterId],
  );
  const s = r.rows[0];
  if (!s) return notFound(`no shelter ${shelterId}`);
  const outOfScope = districtScopeProblem(who, s.district_id);
  if (outOfScope) return outOfScope;
  // `shelter_status`, not `status`: a problem's `status` is its HTTP status (RFC 9457).
  const state = { occupancy: s.occupancy, capacity: s.capacity, shelter_status: s.status };
  if (s.status === 'closed') return new HttpProblem(409, 'Shelter closed', `shelter ${shelterId} is closed`, [], state);
  if (change.direction === 'in') {
    return new HttpProblem(409, 'Not enough places', `shelter ${shelterId} has ${s.capacity - s.occupancy} free places, ${change.people} asked`, [{ name: 'people', reason: `at most ${s.capacity - s.occupancy}` }], state);
  }
  return new HttpProblem(409, 'Fewer people housed', `shelter ${shelterId} houses ${s.occupancy}, cannot check out ${change.people}`, [{ name: 'people', reason: `at most ${s.occupancy}` }], state);
}

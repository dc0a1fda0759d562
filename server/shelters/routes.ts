import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { requestDb } from '../db/scoped.ts';
import { scopeOf } from '../http/request-scope.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { requestKeyOf } from '../http/idempotency-key.ts';
import { changeOccupancy } from './occupancy.ts';
import { evacueeKeyOnce } from './evacuee-key.ts';
import { recomputeHazardZones } from './usability.ts';
import { districtParam } from '../analysis/params.ts';
import { assertDistrictExists } from '../risk/points.ts';

const hazardZonesBody = z.object({ district: districtParam.optional() }).strict();
import { CANONICAL_ID } from '../http/numbers.ts';

const idParam = z.object({ id: z.string().regex(CANONICAL_ID, 'a shelter id (positive integer, plain decimal)').transform(Number) });
const body = z
  .object({
    people: z.number({ message: 'an integer 1-100000' }).int('an integer 1-100000').min(1, 'an integer 1-100000').max(100_000, 'an integer 1-100000').default(1),
    evacuee: z.string().trim().min(1, 'a non-empty reference').max(200, 'at most 200 characters').optional(),
  })
  .strict();

/** `POST /shelters/{id}/checkins` and `/checkouts`: live occupancy of shelters. */
export function shelterRoutes({ db, config }: AppContext): Router {
  const router = Router();
  const evacueeKey = evacueeKeyOnce(db, config.EVACUEE_HASH_KEY);
  for (const [path, direction] of [['checkins', 'in'], ['checkouts', 'out']] as const) {
    router.post(`/shelters/:id/${path}`, requireRole('editor'), async (req, res) => {
      const { id } = parseInput(idParam, req.params, 'path');
      const input = parseInput(body, req.body ?? {}, 'body');
      const who = principalOf(req);
      // Sent again after a lost answer, with the same Idempotency-Key: the first answer, nobody counted twice.
      const key = await requestKeyOf(req, who, [path, id], JSON.stringify(req.body ?? {}), 'another check-in or check-out (another shelter or number of people)');
      const result = await changeOccupancy(requestDb(db, req), id, { direction, ...input }, who, () => evacueeKey(scopeOf(req)), key);
      if (result.replayed) res.set('Idempotent-Replayed', 'true');
      res.status(200).json({ id: result.id, occupancy: result.occupancy, capacity: result.capacity, free: result.capacity - result.occupancy, status: result.status });
    });
  }
  // Recomputes the hazard-zone flags of every shelter (or one district's): POST after hazards change.
  router.post('/shelters/usability/hazard-zones', requireRole('editor'), async (req, res) => {
    const input = parseInput(hazardZonesBody, req.body ?? {}, 'body');
    const own = requestDb(db, req);
    if (input.district) await assertDistrictExists(own, input.district);
    res.json(await recomputeHazardZones(own, principalOf(req), input.district ?? null));
  });
  return router;
}

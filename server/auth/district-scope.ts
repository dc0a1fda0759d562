import { districtRefusal, type Principal } from '../../catalog/access.ts';
import { HttpProblem } from '../http/problem.ts';

/** The 403 for a key acting outside its districts (catalog/access.ts has the rule), naming `field`; null when allowed. */
export function districtScopeProblem(who: Principal, districtId: string, field = 'district_id'): HttpProblem | null {
  const refusal = districtRefusal(who, districtId);
  if (refusal === null) return null;
  return new HttpProblem(403, 'Forbidden', refusal, [{ name: field, reason: `one of ${who.districts!.join(', ')}` }]);
}

/** Throws the 403 of districtScopeProblem. */
export function assertDistrictScope(who: Principal, districtId: string, field = 'district_id'): void {
  const problem = districtScopeProblem(who, districtId, field);
  if (problem) throw problem;
}

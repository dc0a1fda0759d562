import type { Request } from 'express';
import { ANONYMOUS, type Principal } from '../../catalog/access.ts';

/**
 * The caller's permissions. Authentication middleware sets `res.locals.principal`;
 * until it exists every caller is anonymous and sees public layers only.
 */
export function principalOf(req: Request): Principal {
  return (req.res?.locals.principal as Principal | undefined) ?? ANONYMOUS;
}

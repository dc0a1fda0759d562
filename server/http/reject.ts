import type { ServerResponse } from 'node:http';

/**
 * Why a request was refused, for the rejected-requests metric when the status
 * alone does not tell (a 429 from the rate limit or from the auth throttle).
 */
export type RejectReason = 'rate_limit' | 'auth_throttle';

const REASON = Symbol('onemap.rejectReason');
type Marked = ServerResponse & { [REASON]?: RejectReason };

export function markRejected(res: ServerResponse, reason: RejectReason): void {
  (res as Marked)[REASON] = reason;
}

export function rejectReasonOf(res: ServerResponse): RejectReason | undefined {
  return (res as Marked)[REASON];
}


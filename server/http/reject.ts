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

/**
 * An application/problem+json answer written on the bare Node response, for
 * hooks that answer before Express (server/http/edge.ts); the same shape as
 * the error middleware's.
 */
export function writeProblem(res: ServerResponse, status: number, title: string, detail: string, param: string, reason: string, instance?: string): void {
  const body = JSON.stringify({
    type: `https://onemap.invalid/problems/${status}`,
    title,
    status,
    detail,
    ...(instance ? { instance } : {}),
    param,
    'invalid-params': [{ name: param, reason }],
  });
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

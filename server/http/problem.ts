import type { ZodError } from 'zod';

/**
 * An error that carries its HTTP status. Routes throw these (or let zod throw);
 * the one error middleware turns them into application/problem+json (RFC 9457).
 */
export interface InvalidParam {
  /** The offending field: query parameter, path segment or body property. */
  name: string;
  /** What is wrong and what is allowed. */
  reason: string;
}

export class HttpProblem extends Error {
  /** Seconds for a Retry-After header (503s: busy, timed out, database unavailable). */
  retryAfter?: number;

  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly invalidParams: InvalidParam[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }

  /** The first offending field, repeated at the top level for clients that read one name. */
  get param(): string | undefined {
    return this.invalidParams[0]?.name;
  }
}

export const badRequest = (param: string, reason: string) =>
  new HttpProblem(400, 'Invalid request', `${param}: ${reason}`, [{ name: param, reason }]);

export const notFound = (detail: string) => new HttpProblem(404, 'Not found', detail);

/** 503 for work refused because the capacity for it is taken: the client may try again after `retryAfterS`. */
export function serverBusy(detail: string, retryAfterS: number): HttpProblem {
  const p = new HttpProblem(503, 'Server busy', detail);
  p.retryAfter = retryAfterS;
  return p;
}

/** Turns a zod failure on `where` (query/path/body) into a 400 naming every offending field. */
export function problemFromZod(error: ZodError, where: 'query' | 'path' | 'body' | 'header'): HttpProblem {
  const invalidParams = error.issues.map((issue) => {
    const path = issue.path.map(String);
    // Name the unknown field itself, so a typo is easy to spot.
    if (issue.code === 'unrecognized_keys') return { name: [...path, issue.keys[0]].join('.'), reason: 'not a known field' };
    return { name: path.length ? path.join('.') : where, reason: issue.message };
  });
  const first = invalidParams[0];
  return new HttpProblem(400, 'Invalid request', `${where} ${first.name}: ${first.reason}`, invalidParams, { in: where });
}

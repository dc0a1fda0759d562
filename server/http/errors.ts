import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { HttpProblem, problemFromZod } from './problem.ts';
import type { Logger } from '../log.ts';
import { isConnectionError, isStatementTimeout, isTransactionConflict } from '../db/errors.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';

/** Seconds a client should wait before retrying when the database is unavailable or too slow. */
export const DB_RETRY_AFTER_S = 5;
/** Seconds before retrying a write that lost a race with another (deadlock, serialization failure). */
export const CONFLICT_RETRY_AFTER_S = 1;
import { requestIdOf } from './request-id.ts';

export const PROBLEM_TYPE = 'application/problem+json';

/** Maps every error class to a status; the only place that catches errors for responses. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ZodError) return problemFromZod(err, 'query');
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
  // body-parser errors carry their own status (malformed JSON 400, too large 413, bad charset 415)
  if (e?.type === 'entity.parse.failed') return new HttpProblem(400, 'Malformed request body', 'the body is not valid JSON', [{ name: 'body', reason: 'valid JSON' }]);
  if (e?.type === 'entity.too.large') return new HttpProblem(413, 'Request body too large', e.message);
  const unavailable = problemFromOutage(err);
  if (unavailable) return unavailable;
  const pgProblem = problemFromDatabase(err);
  if (pgProblem) return pgProblem;
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpProblem(status, e.message ?? 'Bad request');
  return new HttpProblem(500, 'Internal server error', 'the server failed to answer; the error was logged');
}

/**
 * The database is down, restarting, or did not answer within the statement
 * timeout of this kind of request, or the transaction was rolled back in a
 * deadlock or serialization failure: 503 with Retry-After, since asking again
 * later can succeed (a gateway timeout, 504, would blame an upstream server;
 * 409 would tell the client its request conflicts with the data, which it does not).
 */
function problemFromOutage(err: unknown): HttpProblem | null {
  let p: HttpProblem | null = null;
  if (err instanceof ClientGoneError) p = new HttpProblem(503, 'Client gone', err.message);
  else if (isConnectionError(err)) p = new HttpProblem(503, 'Database unavailable', 'the database cannot be reached just now; try again shortly');
  else if (isStatementTimeout(err)) p = new HttpProblem(503, 'Took too long', 'the database did not finish this request within its time limit; try again later or narrow the request');
  if (p) p.retryAfter = DB_RETRY_AFTER_S;
  else if (isTransactionConflict(err)) {
    // Not the caller's fault nor a failure of the server: the other transaction went through.
    p = new HttpProblem(503, 'Conflicting transaction', 'this request collided with another one at the same time and nothing of it was stored; send it again');
    p.retryAfter = CONFLICT_RETRY_AFTER_S;
  }
  return p;
}

/**
 * The database refuses rows the API let through (its constraints are the last
 * line). Such refusals are the caller's fault: 422 naming the column or constraint.
 */
function problemFromDatabase(err: unknown): HttpProblem | null {
  const e = err as { code?: string; column?: string; constraint?: string; message?: string };
  if (typeof e?.code !== 'string' || !/^(23|22)/.test(e.code)) return null;
  const field = e.column ?? e.constraint?.replace(/_check\d*$|_fkey$/, '') ?? 'body';
  const kinds: Record<string, string> = {
    '23502': 'is required',
    '23503': 'refers to something that does not exist',
    '23505': 'duplicates an existing value',
    '23514': 'violates a rule of the data',
  };
  const reason = kinds[e.code] ?? 'is not a valid value';
  return new HttpProblem(422, 'Unprocessable content', `${field} ${reason} (${e.message ?? e.code})`, [{ name: field, reason }]);
}

export function sendProblem(res: Parameters<RequestHandler>[1], problem: HttpProblem, instance?: string): void {
  if (problem.retryAfter !== undefined) res.set('Retry-After', String(problem.retryAfter));
  res.status(problem.status).type(PROBLEM_TYPE).send(problemJson(problem, instance));
}

/** The problem+json text of `problem`; also written by the edge hooks, before Express. */
export function problemJson(problem: HttpProblem, instance?: string): string {
  const body: Record<string, unknown> = {
    // Extension members first: they may add facts, never replace the standard members.
    ...problem.extra,
    type: problem.status === 500 ? 'about:blank' : `https://onemap.invalid/problems/${problem.status}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    ...(instance ? { instance } : {}),
    ...(problem.param ? { param: problem.param, 'invalid-params': problem.invalidParams } : {}),
  };
  return JSON.stringify(body);
}

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const problem = toProblem(err);
    if (err instanceof ClientGoneError) return void res.destroy(); // nobody to answer
    if (problem.status === 503) log.warn(`${req.method} ${req.originalUrl}: ${problem.title}: ${(err as Error)?.message ?? String(err)}`, { reqId: requestIdOf(req) });
    else if (problem.status >= 500) log.error(`${req.method} ${req.originalUrl} failed: ${(err as Error)?.stack ?? String(err)}`, { reqId: requestIdOf(req) });
    sendProblem(res, problem, req.originalUrl);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not found', `no route for ${req.method} ${req.path}`));
};

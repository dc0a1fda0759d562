/**
 * Which database errors mean "the database is not there right now" rather than
 * "this request is wrong": refused or dropped connections, a server shutting
 * down or starting up, too many connections. The error middleware answers
 * those with 503 and Retry-After, and a pooled connection that failed so is
 * discarded instead of reused.
 */
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up), 53300 too many connections
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end/i;

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (NODE_CODES.has(e.code) || SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  // Node reports a refused connection to several addresses as an AggregateError.
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  return typeof e.message === 'string' && MESSAGES.test(e.message);
}

/** 57014: the statement ran past statement_timeout or was cancelled (client gone). */
export function isStatementTimeout(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '57014';
}

/**
 * 40P01 deadlock detected, 40001 serialization failure: this transaction lost a
 * race with another and was rolled back whole. Nothing was written, and the same
 * request sent again normally succeeds.
 */
export function isTransactionConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

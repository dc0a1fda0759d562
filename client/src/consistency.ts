/**
 * Read-your-writes when the server reads from a replica (DATABASE_READ_URL):
 * an answer to a write carries `Consistency-Token`, the primary's WAL position
 * after it committed (a finished import job's status does too). The client
 * keeps the furthest one it got and sends it on every request, so a read
 * after a planner's own edit is answered only from a replica that has
 * replayed it, or from the primary; whichever server of a load-balanced set
 * answers. Without a replica the server sends no token and nothing is sent.
 *
 * Kept for the browser tab (sessionStorage), like the key: a reload or the
 * OGC pages opened in the same tab still see the edit.
 */
export const CONSISTENCY_TOKEN = 'Consistency-Token';
const STORAGE_KEY = 'onemap.consistencyToken';

let latest: string | null = null;

/** A PostgreSQL LSN as the server writes it ("16/B374D848"), as two 32-bit halves; null when it is not one. */
function parse(token: string): [number, number] | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(token.trim());
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16)] : null;
}

function isAfter(a: [number, number], b: [number, number]): boolean {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

/** The furthest token this tab has got, if any. */
export function consistencyToken(): string | null {
  if (latest === null) {
    try {
      latest = sessionStorage.getItem(STORAGE_KEY);
    } catch {
      /* storage off: kept in memory only */
    }
  }
  return latest;
}

/** Keeps the token an answer carries when it is further than the one kept (answers may arrive out of order). */
export function noteConsistencyToken(res: Response): void {
  const token = res.headers.get(CONSISTENCY_TOKEN);
  const lsn = token === null ? null : parse(token);
  if (!token || !lsn) return;
  const kept = consistencyToken();
  const keptLsn = kept === null ? null : parse(kept);
  if (keptLsn && !isAfter(lsn, keptLsn)) return;
  latest = token.trim();
  try {
    sessionStorage.setItem(STORAGE_KEY, latest);
  } catch {
    /* storage off: kept in memory only */
  }
}

/** Headers to add to a request: the token, when there is one. */
export function consistencyHeaders(): Record<string, string> {
  const token = consistencyToken();
  return token ? { [CONSISTENCY_TOKEN]: token } : {};
}

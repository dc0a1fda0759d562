/**
 * The database port (catalog/ports.ts) and the facts of its two backends. The
 * interfaces live in the catalogue so tiles/ and data/ can take a `Db` without
 * importing the server.
 */
export type { Row, QueryResult, WorkKind, QueryOptions, StatementScope, Queryable, BackendKind, Db, ReadSide, ReplicaStatus } from '../../catalog/ports.ts';
import type { Db, WorkKind } from '../../catalog/ports.ts';

/** Kinds of work with their own statement timeout (STATEMENT_TIMEOUT_*_MS). */
export const WORK_KINDS = ['tiles', 'items', 'analyses', 'imports'] as const satisfies readonly WorkKind[];
// Every WorkKind is listed: this line stops compiling when the two disagree.
const _everyKindListed: readonly WorkKind[] extends readonly (typeof WORK_KINDS)[number][] ? true : never = true;
void _everyKindListed;

/** Time limit per kind of work, ms (0 or missing = none): STATEMENT_TIMEOUT_*_MS. */
export type StatementTimeouts = Partial<Record<WorkKind, number>>;

/** The time limit of a statement of `kind` (none: 0), as both backends apply it. */
export function statementLimitMs(timeouts: StatementTimeouts, kind: WorkKind | undefined): number {
  return kind ? Math.max(0, Math.floor(timeouts[kind] ?? 0)) : 0;
}

/** Type OIDs we parse the same way on both backends so callers see one shape. */
export const TYPE_OIDS = { int8: 20, numeric: 1700, date: 1082 } as const;

/** Where tiles, OGC reads and analyses read: the read side if there is one, else the database itself. */
export function readerOf(db: Db): Db {
  return db.read ?? db;
}

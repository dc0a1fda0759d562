/**
 * One database interface, two backends: embedded PGlite+PostGIS (default) and
 * a real PostgreSQL/PostGIS server through `pg`. Everything above this line of
 * code talks to `Db` only, so tests can run the same suite against both.
 */
export type Row = Record<string, unknown>;

export interface QueryResult<R extends object = Row> {
  rows: R[];
  rowCount: number;
}

/** Kinds of work with their own statement timeout (STATEMENT_TIMEOUT_*_MS). */
export const WORK_KINDS = ['tiles', 'items', 'analyses', 'imports'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export interface QueryOptions {
  /** Chooses the statement timeout; default: the current request's kind (none outside requests). */
  kind?: WorkKind;
  /** Cancels the statement when it fires; default: the current request's disconnect signal. */
  signal?: AbortSignal;
}

/** Something that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  /** One statement, `$1..$n` parameters. Never interpolate user input into `sql`. */
  query<R extends object = Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** Runs a multi-statement script without parameters (migrations, trusted files only). */
  exec(sql: string): Promise<void>;
}

export type BackendKind = 'embedded' | 'postgres';

export interface Db extends Queryable {
  readonly backend: BackendKind;
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>, options?: QueryOptions): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel`; returns an unsubscribe function. `onGap`
   * is called after a lost connection was re-established: notifications sent
   * meanwhile are gone, so callers must treat everything as possibly changed.
   */
  listen(channel: string, onPayload: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** Connections of the pool (PostgreSQL backend only), for metrics. */
  poolStats?(): { total: number; idle: number; waiting: number };
}

/** Type OIDs we parse the same way on both backends so callers see one shape. */
export const TYPE_OIDS = { int8: 20, numeric: 1700, date: 1082 } as const;

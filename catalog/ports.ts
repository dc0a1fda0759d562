import type { Geometry } from 'geojson';

/**
 * The interfaces the lower parts (tiles/, data/) need from the server: a
 * database, a feed of committed feature changes and a logger. Types only, so
 * those parts can be handed the server's implementations without importing the
 * server; server/db/types.ts, server/changes.ts and server/log.ts re-export them.
 */

export type Row = Record<string, unknown>;

export interface QueryResult<R extends object = Row> {
  rows: R[];
  rowCount: number;
}

/** Kinds of work with their own statement timeout (STATEMENT_TIMEOUT_*_MS; the list is WORK_KINDS in server/db/types.ts). */
export type WorkKind = 'tiles' | 'items' | 'analyses' | 'imports';

/**
 * The request a statement is run for (server/http/request-scope.ts builds it, one per
 * request): its kind of work (the statement timeout), a signal that fires when its client
 * has gone (cancels the statement), when it started (the embedded backend's deadline),
 * what its reads must see of earlier writes (a read replica), and where the data version
 * its transactions commit with is recorded (the write barrier). Handed to the database
 * with every statement (`QueryOptions.scope`, or a Db bound to it), not found by the
 * database from where it was called: nothing follows a request through its awaits.
 */
export interface StatementScope {
  kind?: WorkKind;
  signal?: AbortSignal;
  /** performance.now() when the request started; unset: no deadline (work that outlives its request). */
  started?: number;
  /** What its reads must see of earlier writes (server/db/read-consistency.ts). */
  consistency?: {
    /** WAL position (server/db/lsn.ts) the replica must have replayed; 0n = none asked. */
    minLsn: bigint;
    /** Read from the primary from now on. */
    primary: boolean;
  };
  /** The highest data version the request's transactions committed with change notifications (0: none). */
  written?: { version: number };
}

export interface QueryOptions {
  /** Chooses the statement timeout; default: the kind of `scope` (none outside requests). */
  kind?: WorkKind;
  /** Cancels the statement when it fires; default: the signal of `scope`. */
  signal?: AbortSignal;
  /** The request the statement is for; none for start-up and background work. */
  scope?: StatementScope;
  /**
   * Keep the statement prepared on the connection (PostgreSQL, unless PG_PREPARED_STATEMENTS=false):
   * parsed once per connection instead of on every call. Only for texts from a small fixed set run
   * very often (the tile statements): each one stays prepared on every connection of the pool.
   */
  prepare?: boolean;
}

/** Something that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  /** One statement, `$1..$n` parameters. Never interpolate user input into `sql`. */
  query<R extends object = Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** Runs a multi-statement script without parameters (migrations, trusted files only). */
  exec(sql: string): Promise<void>;
}

export type BackendKind = 'embedded' | 'postgres';

/**
 * One database interface, two backends: embedded PGlite+PostGIS (default) and
 * a real PostgreSQL/PostGIS server through `pg`. Everything above the backends
 * talks to `Db` only, so tests can run the same suite against both.
 */
export interface Db extends Queryable {
  readonly backend: BackendKind;
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>, options?: QueryOptions): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel`; returns an unsubscribe function. `onLost`
   * is called when the listening connection drops (the database stopped, the
   * network failed), `onGap` once it was re-established: notifications sent
   * meanwhile are gone, so callers must treat everything as possibly changed.
   */
  listen(channel: string, onPayload: (payload: string) => void, onGap?: () => void, onLost?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** Connections of the pool (PostgreSQL backend only), for metrics. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * Where tiles, OGC reads and analyses read (DATABASE_READ_URL, server/db/replica.ts):
   * a streaming replica when it is up and has replayed what the reader must see,
   * else the primary. Writes, LISTEN and reads of one's own writes use the Db itself.
   */
  read?: ReadSide;
}

/** How the read replica is doing, for /ready and metrics. */
export interface ReplicaStatus {
  up: boolean;
  /** Reads of the read side so far, by the database that served them. */
  reads: { replica: number; primary: number };
}

export interface ReadSide extends Db {
  status(): ReplicaStatus;
  /** Records the primary's WAL position now: later reads use the replica only once it has replayed that far. */
  markPrimaryPosition(): Promise<void>;
}

/**
 * Every committed change to a feature is announced once, after the transaction
 * commits. Tile caches drop exactly the affected tiles, analysis caches drop
 * their results, and live maps receive an event — all from this one signal.
 */
export interface FeatureChange {
  /** Registry layer id (e.g. 'shelters'). */
  layer: string;
  id: string | number;
  op: 'insert' | 'update' | 'delete';
  /** Geometry before the change (update/delete), WGS84. */
  before?: Geometry | null;
  /** Geometry after the change (insert/update), WGS84. */
  after?: Geometry | null;
  /** Data version after the change (see the data_version table); also the live event id. */
  dataVersion?: number;
  /** What happened, for live maps: an edit, a shelter check-in/out, or an import. */
  kind?: 'feature' | 'occupancy' | 'import' | 'usability';
  /** [minLon, minLat, maxLon, maxLat] covering before and after. */
  bbox?: [number, number, number, number];
  /** Extra facts live maps show without a round trip (risk level, occupancy, capacity …). */
  summary?: Record<string, unknown>;
  /**
   * A whole-layer change announced by a transaction written in plain SQL: the tables it
   * wrote that hold or describe the layer (a check-in written in SQL changes shelters
   * without moving one). Not sent to live maps.
   */
  tables?: string[];
}

/**
 * The id of a change that names no one feature: anything in the layer may have
 * changed (notifications missed while the connection was down, rows written in
 * plain SQL). Caches drop the whole layer; live maps reload it.
 */
export const WHOLE_LAYER = 'resync';

/** Whether `change` may concern any feature of its layer (a whole-layer change, or an import: one change for all its rows). */
export function concernsWholeLayer(change: FeatureChange): boolean {
  return change.id === WHOLE_LAYER || change.id === undefined || change.id === null || change.kind === 'import';
}

export type ChangeListener = (change: FeatureChange) => void;

/** Where committed changes can be heard (the server's ChangeBus). */
export interface ChangeFeed {
  /** Subscribes; returns the unsubscribe function. */
  on(listener: ChangeListener): () => void;
}

/** Extra fields of one log line, e.g. `{ reqId, status, ms }`. */
export type LogFields = Record<string, unknown>;

/** Structured logging (server/log.ts writes it with pino). */
export interface Logger {
  error(m: string, fields?: LogFields): void;
  warn(m: string, fields?: LogFields): void;
  info(m: string, fields?: LogFields): void;
  debug(m: string, fields?: LogFields): void;
  /** True when lines at `level` are written (skip building costly fields otherwise). */
  enabled(level: 'error' | 'warn' | 'info' | 'debug'): boolean;
  /** A logger adding `bindings` to every line (e.g. the request id). */
  child(bindings: LogFields): Logger;
}

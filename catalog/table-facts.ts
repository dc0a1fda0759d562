import type { LayerDef } from './layers.ts';
import type { Queryable, StatementScope } from './ports.ts';
import { sharedOnce } from './shared-work.ts';

/**
 * What the schema says about a layer's table beyond the registry, read from the
 * database in one query when a part starts serving (tiles, the OGC API).
 */
export interface TableFacts {
  /** The table has a `deleted_at` soft-delete column: rows with a value are gone and never served. */
  softDelete: boolean;
  /** The table has a `version` row-version column (ETags, optimistic locking for writes). */
  versioned: boolean;
  /** The table has a `synthetic` column: its rows say whether they are demo data. */
  synthetic: boolean;
  /** Every column of the table. */
  columns: ReadonlySet<string>;
}

/** The facts of every table of `layers` (computed layers have none); `scope`: the request they are read for. */
export async function readTableFacts(db: Queryable, layers: readonly LayerDef[], scope?: StatementScope): Promise<Map<string, TableFacts>> {
  const tables = [...new Set(layers.map((l) => l.table).filter((t): t is string => t !== null))];
  const r = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
    [tables],
    { scope },
  );
  const columns = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const row of r.rows) columns.get(row.table_name)!.add(row.column_name);
  return new Map([...columns].map(([table, cols]) => [table, factsOf(cols)]));
}

/** The facts of a table with these columns. */
export function factsOf(columns: ReadonlySet<string>): TableFacts {
  return { softDelete: columns.has('deleted_at'), versioned: columns.has('version'), synthetic: columns.has('synthetic'), columns };
}

/** The table facts of an app, read once: `scope` is the request that asks (none: start-up, background work). */
export type TableFactsOnce = (scope?: StatementScope) => Promise<Map<string, TableFacts>>;

/**
 * The table facts of `layers`, read once when first asked for and kept (a failed
 * read is retried by the next caller): what one app or tool holds instead of
 * reading the schema per request. The read is shared by the requests that ask
 * while it is under way (SharedWork): it runs with the time limit of the first of
 * them, and one client leaving does not fail it for the others.
 */
export function tableFactsOnce(db: Queryable, layers: readonly LayerDef[]): TableFactsOnce {
  return sharedOnce((scope) => readTableFacts(db, layers, scope));
}

/** `AND <alias>.deleted_at IS NULL` for a soft-delete table, nothing otherwise. */
export function liveRowsPredicate(facts: TableFacts | undefined, alias = 't'): string {
  return facts?.softDelete ? ` AND ${alias}.deleted_at IS NULL` : '';
}

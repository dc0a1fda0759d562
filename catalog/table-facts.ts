import type { LayerDef } from './layers.ts';
import type { Queryable } from './ports.ts';

/**
 * What the schema says about a layer's table beyond the registry, read from the
 * database in one query when a part starts serving (tiles, the OGC API).
 */
export interface TableFacts {
  /** The table has a `deleted_at` soft-delete column: rows with a value are gone and never served. */
  softDelete: boolean;
  /** The table has a `version` row-version column (ETags, optimistic locking for writes). */
  versioned: boolean;
}

/** The facts of every table of `layers` (computed layers have none). */
export async function readTableFacts(db: Queryable, layers: readonly LayerDef[]): Promise<Map<string, TableFacts>> {
  const tables = [...new Set(layers.map((l) => l.table).filter((t): t is string => t !== null))];
  const r = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) AND column_name IN ('deleted_at', 'version')`,
    [tables],
  );
  const facts = new Map<string, TableFacts>(tables.map((t) => [t, { softDelete: false, versioned: false }]));
  for (const row of r.rows) {
    const f = facts.get(row.table_name)!;
    if (row.column_name === 'deleted_at') f.softDelete = true;
    if (row.column_name === 'version') f.versioned = true;
  }
  return facts;
}

/** `AND <alias>.deleted_at IS NULL` for a soft-delete table, nothing otherwise. */
export function liveRowsPredicate(facts: TableFacts | undefined, alias = 't'): string {
  return facts?.softDelete ? ` AND ${alias}.deleted_at IS NULL` : '';
}

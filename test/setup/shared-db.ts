/**
 * One database per test worker instead of one per test file, on both backends.
 *
 * Opening PGlite with PostGIS costs seconds, and a PostgreSQL copy per file costs a
 * CREATE and a DROP DATABASE (with a checkpoint) and fresh connections, so the worker
 * opens a copy of the seeded template once and lends it to one test file at a time. When the next
 * file asks for it, every table is put back to the seeded state from snapshot
 * tables taken right after opening (truncate + reload with triggers off, and
 * sequences set back), which takes a fraction of a second.
 *
 * Each loan is a fresh `Db` object, so per-database caches keyed by the object
 * (WeakMaps in the server) start empty for every file, and closing the loan
 * ends its LISTEN subscriptions without closing the worker's database.
 */
import type { Db, Queryable } from '../../server/db/types.ts';

const SNAPSHOT = 'test_seed_snapshot';

interface Seeded {
  /** `key`: the primary key's columns (empty: none, the table is refilled whole). */
  tables: { name: string; columns: string[]; key: string[]; rows: number }[];
  /** Sequences and their seeded value; null = never used (restarted on reset). */
  sequences: { name: string; value: number | null }[];
  /** Rows written after this transaction id are not seeded ones. */
  mark: number;
}

interface Shared {
  db: Db;
  seeded: Seeded;
  /** The loan handed out last, or none yet. */
  loan?: Loan;
}

interface Loan {
  db: Db;
  closed: boolean;
  /** The database did not answer while the loan was closed (a transaction left hanging). */
  stuck?: boolean;
}

/** How long a reset may wait for the database before the worker gives up on it and opens another. */
const STUCK_MS = 30_000;
const STUCK = Symbol('stuck');
const within = <T>(ms: number, p: Promise<T>): Promise<T | typeof STUCK> => {
  let timer: NodeJS.Timeout;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<typeof STUCK>((r) => (timer = setTimeout(() => r(STUCK), ms)))]);
};

let shared: Promise<Shared> | undefined;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const currentXid = async (q: Queryable) => Number((await q.query<{ x: string }>('SELECT (txid_current() % 4294967296)::text AS x')).rows[0].x);

/** Copies every table of the public schema (except PostGIS's own) into the snapshot schema. */
export async function takeSnapshot(db: Db): Promise<Seeded> {
  const tables = await db.query<{ name: string; columns: string[] }>(
    `SELECT c.relname AS name,
            array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS columns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'spatial_ref_sys'
      GROUP BY c.relname ORDER BY c.relname`,
  );
  const keys = await db.query<{ name: string; key: string[] }>(
    `SELECT c.relname AS name, array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) AS key
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey::int2[])
      WHERE i.indisprimary AND n.nspname = 'public'
      GROUP BY c.relname`,
  );
  const keyOf = new Map(keys.rows.map((k) => [k.name, k.key]));
  const sequences = await db.query<{ name: string; value: number | null }>(
    `SELECT sequencename AS name, last_value AS value FROM pg_sequences WHERE schemaname = 'public'`,
  );
  await db.exec(
    [`CREATE SCHEMA ${SNAPSHOT}`, ...tables.rows.map((t) => `CREATE TABLE ${SNAPSHOT}.${quote(t.name)} AS TABLE public.${quote(t.name)}`)].join(';\n'),
  );
  const withRows = [];
  for (const t of tables.rows) {
    const n = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SNAPSHOT}.${quote(t.name)}`);
    withRows.push({ ...t, key: keyOf.get(t.name) ?? [], rows: n.rows[0].n });
  }
  return {
    tables: withRows,
    sequences: sequences.rows.map((s) => ({ name: s.name, value: s.value === null ? null : Number(s.value) })),
    mark: await currentXid(db),
  };
}

/**
 * Puts the tables a test file changed, and every sequence, back to the seeded
 * state, in one transaction. A table has changed when its row count differs or
 * a row version was written after the last reset (its xmin is newer). In a
 * changed table with a primary key only the rows that differ are put back: the
 * rows written since the last reset and those not in the snapshot go, and the
 * snapshot's rows now missing come back (a fixture of a few dozen rows no longer
 * costs a refill of thousands, with their spatial indexes). A table without a
 * primary key is emptied and refilled.
 */
export async function restoreSnapshot(q: Queryable, seeded: Seeded): Promise<string[]> {
  const probe = seeded.tables
    .map((t) => `SELECT '${t.name}' AS name FROM public.${quote(t.name)} HAVING count(*) <> ${t.rows} OR coalesce(bool_or(xmin::text::bigint > ${seeded.mark}), false)`)
    .join('\nUNION ALL ');
  const changed = new Set((await q.query<{ name: string }>(probe)).rows.map((r) => r.name));
  const statements = [
    // Replica mode skips triggers (audit, change notifications, data version) and
    // foreign-key actions, so each table is emptied and refilled on its own.
    `SET LOCAL session_replication_role = replica`,
    ...seeded.tables
      .filter((t) => changed.has(t.name))
      .flatMap((t) => {
        const cols = t.columns.map(quote).join(', ');
        const table = `public.${quote(t.name)}`;
        const snapshot = `${SNAPSHOT}.${quote(t.name)}`;
        if (t.key.length === 0) return [`DELETE FROM ${table}`, `INSERT INTO ${table} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${snapshot}`];
        const same = t.key.map((k) => `s.${quote(k)} = p.${quote(k)}`).join(' AND ');
        return [
          `DELETE FROM ${table} p WHERE p.xmin::text::bigint > ${seeded.mark} OR NOT EXISTS (SELECT 1 FROM ${snapshot} s WHERE ${same})`,
          `INSERT INTO ${table} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${t.columns.map((c) => `s.${quote(c)}`).join(', ')} FROM ${snapshot} s WHERE NOT EXISTS (SELECT 1 FROM ${table} p WHERE ${same})`,
        ];
      }),
    ...seeded.sequences.map((s) => (s.value === null ? `ALTER SEQUENCE public.${quote(s.name)} RESTART` : `SELECT setval('public.${quote(s.name)}', ${s.value}, true)`)),
  ];
  await q.exec(statements.join(';\n'));
  seeded.mark = await currentXid(q);
  return [...changed];
}

/** A `Db` that shares `inner` until closed; closing ends its subscriptions only. */
function lend(inner: Db): Loan {
  const unsubscribes = new Set<() => Promise<void>>();
  const loan: Loan = { closed: false, db: undefined as unknown as Db };
  const open = () => {
    if (loan.closed) throw new Error('test database closed');
  };
  loan.db = {
    backend: inner.backend,
    // The options go through: a request's signal must stop the statement on a loan too.
    async query(sql, params, opts) {
      open();
      return inner.query(sql, params, opts);
    },
    async exec(sql) {
      open();
      return inner.exec(sql);
    },
    async tx(fn, opts) {
      open();
      return inner.tx(fn, opts);
    },
    async listen(channel, onPayload, onGap, onLost) {
      open();
      const unsubscribe = await inner.listen(channel, onPayload, onGap, onLost);
      // Made once the loan had closed (an app starts its LISTEN without waiting): ended at
      // once, as a closing database ends it, or its connection would stay held in the
      // worker's pool for the files after.
      if (loan.closed) {
        await unsubscribe();
        return async () => {};
      }
      unsubscribes.add(unsubscribe);
      return async () => {
        if (unsubscribes.delete(unsubscribe)) await unsubscribe();
      };
    },
    async close() {
      if (loan.closed) return;
      loan.closed = true;
      const done = await within(STUCK_MS, Promise.all([...unsubscribes].map((u) => u())));
      unsubscribes.clear();
      if (done === STUCK) loan.stuck = true;
    },
    // The pool's figures (PostgreSQL), for the metrics an app reports.
    ...(inner.poolStats ? { poolStats: () => inner.poolStats!() } : {}),
  };
  return loan;
}

/**
 * Lends the worker's database, seeded state restored. Returns undefined while
 * the previous loan is still open (a file holding two databases at once); the
 * caller then opens its own copy.
 */
export async function borrowSharedDb(open: () => Promise<Db>): Promise<Db | undefined> {
  const start = async () => {
    const db = await open();
    return { db, seeded: await takeSnapshot(db) } as Shared;
  };
  shared ??= start();
  let s = await shared;
  if (s.loan && !s.loan.closed) return undefined;
  // A file that ends with a transaction still waiting holds the single PGlite
  // connection (on PostgreSQL, locks the reset needs); rather than wait for it,
  // the worker leaves that database behind.
  const reset = s.loan && !s.loan.stuck ? await within(STUCK_MS, s.db.tx((q) => restoreSnapshot(q, s.seeded))) : undefined;
  if (s.loan?.stuck || reset === STUCK) {
    shared = start();
    s = await shared;
  }
  s.loan = lend(s.db);
  return s.loan.db;
}

import type { Queryable, StatementScope } from './types.ts';

/**
 * The one data version caches, ETags, live event ids and the write barrier key on.
 *
 * A write transaction moves it by exactly one, as its last statement before COMMIT
 * (migration 015): the version row is locked from then to the commit only, so writers
 * run side by side until that moment, and version order is commit order. Whatever
 * carries the version (audit rows, change notifications, the `data_version` of an
 * answer) is therefore recorded in the transaction's journal (`journalOf`) and written
 * by the transaction helpers of both backends (`settleJournal`) under the version it
 * gets. A transaction that writes feature tables without a journal (plain SQL, psql,
 * an ETL job) is settled by the database itself at COMMIT.
 */

/** An audit row without its version (audit_log). */
export interface AuditEntry {
  actor: string;
  layer: string;
  feature_id: string;
  operation: 'insert' | 'update' | 'delete' | 'restore' | 'import' | 'checkin' | 'checkout';
  before: unknown;
  after: unknown;
}

/** A notification without its version: a JSON object, given `dataVersion` when sent. */
export interface VersionedNote {
  channel: string;
  payload: string;
}

export interface WriteJournal {
  audit(entry: AuditEntry): void;
  notify(note: VersionedNote): void;
  /** Called with the transaction's data version before COMMIT (to put it in an answer). */
  onVersion(fn: (version: number) => void): void;
  /**
   * Runs `fn` in the transaction as its last work before COMMIT, after the `onVersion`
   * callbacks (to store an answer that carries the version: server/db/write-keys.ts).
   */
  lastly(fn: () => Promise<unknown>): void;
}

interface Journal extends WriteJournal {
  audits: AuditEntry[];
  notes: VersionedNote[];
  listeners: ((version: number) => void)[];
  last: (() => Promise<unknown>)[];
  /** Where the request this transaction is for records the version it committed (the write barrier waits for it). */
  written?: WrittenVersion;
}

const journals = new WeakMap<Queryable, Journal>();

/**
 * The highest data version a request's transactions committed with change
 * notifications (0: none), which its answer waits for (server/cluster/write-barrier.ts).
 */
export type WrittenVersion = NonNullable<StatementScope['written']>;

/**
 * Marks `q` as a transaction whose helper settles its journal before COMMIT; `written`:
 * where the request it is for records the version it commits with (its scope's), if any.
 */
export function openJournal(q: Queryable, written: WrittenVersion | undefined): void {
  const j: Journal = {
    written,
    audits: [],
    notes: [],
    listeners: [],
    last: [],
    audit: (e) => void j.audits.push(e),
    notify: (n) => void j.notes.push(n),
    onVersion: (fn) => void j.listeners.push(fn),
    lastly: (fn) => void j.last.push(fn),
  };
  journals.set(q, j);
}

/** The journal of the transaction `q`; outside a transaction there is none to commit with. */
export function journalOf(q: Queryable): WriteJournal {
  const j = journals.get(q);
  if (!j) throw new Error('a write recorded under the data version must run in db.tx');
  return j;
}

/**
 * `out.data_version` becomes the version the transaction `q` commits with (set before
 * COMMIT, so the answer built from `out` carries it); returns `out`.
 */
export function stampVersion<T extends { data_version: number | null }>(q: Queryable, out: T): T {
  journalOf(q).onVersion((v) => (out.data_version = v));
  return out;
}

/**
 * The transaction helpers' last statements before COMMIT: when the journal holds
 * anything, moves the version and writes what carries it, in one round trip; then
 * what was asked to run last (`lastly`).
 */
export async function settleJournal(q: Queryable): Promise<void> {
  const j = journals.get(q);
  journals.delete(q);
  if (!j) return;
  await moveVersion(q, j);
  for (const fn of j.last) await fn();
}

/** Moves the data version and writes what carries it, when the journal holds anything that does. */
async function moveVersion(q: Queryable, j: Journal): Promise<void> {
  if (j.audits.length === 0 && j.notes.length === 0 && j.listeners.length === 0) return;
  const channels = new Set(j.notes.map((n) => n.channel));
  // one channel, so the notes keep their order (every change travels on one today)
  if (channels.size > 1) throw new Error(`one notification channel per transaction, not ${[...channels].join(', ')}`);
  const r = await q.query<{ version: number }>('SELECT data_version_commit($1::jsonb, $2, $3::text[]) AS version', [
    JSON.stringify(j.audits),
    [...channels][0] ?? '',
    j.notes.map((n) => n.payload),
  ]);
  const version = Number(r.rows[0].version);
  for (const fn of j.listeners) fn(version);
  // The request's answer waits until every process has heard these notifications
  // (server/cluster/write-barrier.ts). Taken before COMMIT: a transaction that then
  // fails leaves its request an error, whose answer is not held.
  const { written } = j;
  if (written && j.notes.length > 0 && version > written.version) written.version = version;
}

/**
 * Moves the data version now, inside the caller's transaction, and returns it; the
 * version row stays locked until COMMIT, so other writers wait from here on. For
 * loading and resetting data in one transaction; writes served to users record
 * through `journalOf` instead. Once per transaction: a second call (or the settling
 * at COMMIT) returns the same version.
 */
export async function bumpDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT data_version_bump() AS version');
  return Number(r.rows[0].version);
}

export async function currentDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT version FROM data_version');
  return r.rows[0]?.version ?? 0;
}

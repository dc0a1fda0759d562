import type { IncomingMessage } from 'node:http';
import type { Db, QueryOptions, ReadSide, StatementScope } from './types.ts';
import { scopeOf } from '../http/request-scope.ts';

/**
 * `db` for the statements of one request: each carries `scope` (its statement
 * timeout, cancellation, deadline, read consistency and written version; see
 * `StatementScope`), unless the caller gives a scope of its own. The functions below
 * the routes take a `Db` and never learn whose statements they run: a route hands
 * them this instead of the app's database. Without a scope (start-up, background
 * work), `db` itself.
 */
export function scopedDb(db: Db, scope: StatementScope | undefined): Db {
  if (!scope) return db;
  const withScope = (opts?: QueryOptions): QueryOptions => (opts?.scope ? opts : { ...opts, scope });
  const view: Db = {
    backend: db.backend,
    query: (sql, params, opts) => db.query(sql, params, withScope(opts)),
    exec: (sql) => db.exec(sql), // scripts (migrations, data loads): nobody's request
    tx: (fn, opts) => db.tx(fn, withScope(opts)),
    listen: (...args) => db.listen(...args),
    close: () => db.close(),
  };
  if (db.poolStats) view.poolStats = () => db.poolStats!();
  if (db.read) view.read = scopedReadSide(db.read, scope);
  return view;
}

function scopedReadSide(read: ReadSide, scope: StatementScope): ReadSide {
  return { ...scopedDb({ ...read, read: undefined }, scope), status: () => read.status(), markPrimaryPosition: () => read.markPrimaryPosition() };
}

/** `db` for the statements of request `req`: scopedDb with the request's scope. */
export function requestDb(db: Db, req: IncomingMessage): Db {
  return scopedDb(db, scopeOf(req));
}

import { describe, expect, it } from 'vitest';
import { tableFactsOnce } from '../../catalog/table-facts.ts';
import { getLayer } from '../../catalog/layers.ts';
import type { QueryOptions, QueryResult, Queryable, StatementScope } from '../../catalog/ports.ts';

/**
 * The table facts are read once, by a statement shared by the requests that ask
 * while it runs: one client leaving does not fail it for the others, and a read
 * that failed or that every asker left is made again by the next one.
 */

const layers = [getLayer('shelters')!];

/** A database whose statements wait until released and stop when their signal fires. */
function heldDb() {
  const signals: (AbortSignal | undefined)[] = [];
  let releases: ((fail: boolean) => void)[] = [];
  const db: Queryable = {
    query: <R extends object>(_sql: string, _params?: unknown[], options?: QueryOptions) => {
      const signal = options?.scope?.signal;
      signals.push(signal);
      return new Promise<QueryResult<R>>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason));
        releases.push((fail) =>
          fail
            ? reject(new Error('connection refused'))
            : resolve({ rows: [{ table_name: 'shelters', column_name: 'deleted_at' }], rowCount: 1 } as unknown as QueryResult<R>),
        );
      });
    },
    exec: async () => {},
  };
  const release = (fail = false) => {
    for (const r of releases.splice(0)) r(fail);
  };
  return { db, signals, release };
}

function asker(facts: ReturnType<typeof tableFactsOnce>) {
  const gone = new AbortController();
  const scope: StatementScope = { kind: 'tiles', signal: gone.signal };
  const answer = facts(scope).then(
    (m) => ({ softDelete: m.get('shelters')?.softDelete }),
    (e: Error) => ({ error: e.message }),
  );
  return { answer, leave: () => gone.abort() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('table facts, read once for every asker', () => {
  it('one asker leaving does not fail the read for the others; it is read once and kept', async () => {
    const { db, signals, release } = heldDb();
    const facts = tableFactsOnce(db, layers);
    const a = asker(facts);
    const b = asker(facts);
    await tick();
    a.leave();
    expect(await a.answer).toEqual({ error: 'the client disconnected before the answer was ready' });
    expect(signals[0]?.aborted).toBe(false);
    release();
    expect(await b.answer).toEqual({ softDelete: true });
    expect(await asker(facts).answer).toEqual({ softDelete: true });
    expect(signals).toHaveLength(1);
  });

  it('a read every asker left, or that failed, is made again by the next asker', async () => {
    const { db, signals, release } = heldDb();
    const facts = tableFactsOnce(db, layers);
    const a = asker(facts);
    await tick();
    a.leave();
    await a.answer;
    expect(signals[0]?.aborted).toBe(true);

    const b = asker(facts);
    await tick();
    release(true);
    expect(await b.answer).toEqual({ error: 'connection refused' });

    const c = asker(facts);
    await tick();
    release();
    expect(await c.answer).toEqual({ softDelete: true });
    expect(signals).toHaveLength(3);
  });
});

// Placeholder: replaced by the demo-data loader.
import type { Db } from '../server/db/types.ts';
export async function isEmpty(db: Db): Promise<boolean> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM districts');
  return r.rows[0].n === 0;
}
export async function loadDemoData(_db: Db, _log: (m: string) => void = () => {}): Promise<void> {}

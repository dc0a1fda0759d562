import { packCells } from '../../server/analysis/packed-cells.ts';
import type { PopulationCell } from '../../server/analysis/model.ts';
import { configureWorkerPool, workerPool } from '../../server/work/shared.ts';
import type { WorkerPool } from '../../server/work/pool.ts';

/**
 * Runs `fn` while the process's worker pool is full: one worker, no room to
 * wait (or `room` places), and that worker busy with a task that would run for hours (an exact
 * siting over 40 candidates choosing 12: ~5.6e9 subsets), stopped afterwards.
 * Throws when the task ended before `fn` did, since then `fn` did not see a
 * full pool. The pool's options are put back afterwards.
 */
export async function withFullWorkerPool<T>(fn: (pool: WorkerPool) => Promise<T>, room = 0): Promise<T> {
  const before = { ...workerPool().options };
  const busy = new AbortController();
  try {
    const pool = configureWorkerPool({ ...before, size: 1, maxQueue: room });
    await pool.warm();
    // 40 cells 1 km apart, each its own candidate reaching only itself
    const cells: PopulationCell[] = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, lon: 100 + i * 0.01, lat: 0, residents: 10 + i, streetId: null, communityId: null }));
    const running = pool
      .run(
        'siting',
        {
          cells: packCells(cells),
          candidates: cells.map((c) => ({ lon: c.lon, lat: c.lat, source: 'cells', id: c.id })),
          radiusM: 10,
          demand: Float64Array.from(cells, (c) => c.residents),
          k: 12,
          capacity: null,
          exactMaxSubsets: 1e15,
        },
        busy.signal,
        600_000,
      )
      .catch((e: unknown) => e);
    if (pool.stats().busy !== 1) throw new Error('the worker did not take the occupying task');
    const result = await fn(pool);
    if (pool.stats().busy !== 1) throw new Error(`the occupying task ended early (${String(await running)}): the pool was not full throughout`);
    busy.abort();
    await running;
    return result;
  } finally {
    busy.abort();
    configureWorkerPool(before);
  }
}

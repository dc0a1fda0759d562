import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../server/work/pool.ts';

/** Nice values of this process's threads, from /proc (field 19 of each thread's stat). */
function threadNiceValues(): number[] {
  return fs.readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // the command name may hold spaces; the fields after it are space-separated
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

function mainThreadNice(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe.runIf(process.platform === 'linux')('worker threads run at a lower CPU priority', () => {
  it('each worker of the pool takes the configured nice value, the other threads keep theirs', async () => {
    const before = threadNiceValues().filter((n) => n === 13).length;
    const mainBefore = mainThreadNice();
    const pool = new WorkerPool({ size: 2, maxQueue: 1, taskBudgetMs: 5000, nice: 13 });
    pools.push(pool);
    await pool.warm();
    // each worker thread, and the module-loader thread tsx starts from it, which inherits its priority
    expect(threadNiceValues().filter((n) => n === 13).length - before).toBeGreaterThanOrEqual(2);
    expect(mainThreadNice()).toBe(mainBefore);
    // and they still compute
    const cells = await pool.run('packCellsFromJson', '[]', undefined);
    expect(cells).toBeDefined();
  });

  it('nice 0 leaves the workers at the priority of the process', async () => {
    const before = threadNiceValues().filter((n) => n === 0).length;
    const pool = new WorkerPool({ size: 2, maxQueue: 1, taskBudgetMs: 5000, nice: 0 });
    pools.push(pool);
    await pool.warm();
    expect(threadNiceValues().filter((n) => n === 0).length - before).toBeGreaterThanOrEqual(2);
  });
});

/**
 * The gate in front of work outside the worker pool (server/work/gate.ts): how many run,
 * who waits, who is refused, and that a slot always comes back.
 */
import { describe, expect, it } from 'vitest';
import { Gate } from '../../server/work/gate.ts';
import { HttpProblem } from '../../server/http/problem.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';

/** A job that runs until `finish` is called; `started` tells whether it began. */
function holdable() {
  let finish!: (v: string) => void;
  const state = { started: false };
  const job = () => {
    state.started = true;
    return new Promise<string>((r) => (finish = r));
  };
  return { job, state, finish: (v = 'done') => finish(v) };
}

const gate = (concurrency: number, maxQueue: number) => new Gate({ concurrency, maxQueue, retryAfterS: 3, what: 'test' });
const tick = () => new Promise((r) => setImmediate(r));

describe('Gate', () => {
  it('runs at most `concurrency` jobs; the others wait and start in arrival order as slots free', async () => {
    const g = gate(2, 5);
    const jobs = [holdable(), holdable(), holdable(), holdable()];
    const results = jobs.map((j) => g.run(j.job, undefined));
    await tick();
    expect(jobs.map((j) => j.state.started)).toEqual([true, true, false, false]);
    expect(g.stats()).toMatchObject({ active: 2, queued: 2 });
    jobs[1].finish('b');
    await tick();
    expect(jobs.map((j) => j.state.started)).toEqual([true, true, true, false]);
    jobs[0].finish('a');
    await tick();
    expect(jobs[3].state.started).toBe(true);
    jobs[2].finish('c');
    jobs[3].finish('d');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(g.stats()).toMatchObject({ active: 0, queued: 0, completed: 4, rejectedFull: 0 });
  });

  it('refuses a job at a full queue with 503 and Retry-After, without running it', async () => {
    const g = gate(1, 1);
    const running = holdable();
    const waiting = holdable();
    const refused = holdable();
    const r1 = g.run(running.job, undefined);
    const r2 = g.run(waiting.job, undefined);
    const err = await g.run(refused.job, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 503, title: 'Server busy', retryAfter: 3 });
    expect((err as HttpProblem).detail).toContain('every test slot is busy and 1 requests are waiting');
    expect(refused.state.started).toBe(false);
    expect(g.stats()).toMatchObject({ active: 1, queued: 1, rejectedFull: 1 });
    running.finish();
    await tick();
    waiting.finish();
    await Promise.all([r1, r2]);
    expect(g.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('with no queue, refuses as soon as every slot is busy', async () => {
    const g = gate(1, 0);
    const running = holdable();
    const r1 = g.run(running.job, undefined);
    await expect(g.run(async () => 'x', undefined)).rejects.toMatchObject({ status: 503 });
    running.finish();
    await r1;
    expect(await g.run(async () => 'x', undefined)).toBe('x');
  });

  it('a waiting job whose client leaves leaves the queue and never runs; one already gone is refused at once', async () => {
    const g = gate(1, 5);
    const running = holdable();
    const r1 = g.run(running.job, undefined);
    const leaving = holdable();
    const client = new AbortController();
    const r2 = g.run(leaving.job, client.signal).catch((e: unknown) => e);
    await tick();
    expect(g.stats().queued).toBe(1);
    client.abort();
    expect(await r2).toBeInstanceOf(ClientGoneError);
    expect(g.stats()).toMatchObject({ queued: 0, abandoned: 1 });
    running.finish();
    await r1;
    expect(leaving.state.started).toBe(false);
    expect(g.stats().active).toBe(0);
    await expect(g.run(async () => 'x', AbortSignal.abort())).rejects.toBeInstanceOf(ClientGoneError);
  });

  it('a job that fails gives its slot back', async () => {
    const g = gate(1, 1);
    await expect(g.run(() => Promise.reject(new Error('broken')), undefined)).rejects.toThrow('broken');
    await expect(
      g.run(() => {
        throw new Error('thrown');
      }, undefined),
    ).rejects.toThrow('thrown');
    expect(g.stats()).toMatchObject({ active: 0, queued: 0 });
    expect(await g.run(async () => 'next', undefined)).toBe('next');
  });
});

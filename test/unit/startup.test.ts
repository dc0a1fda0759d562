import { describe, expect, it } from 'vitest';
import { runServerToExit } from '../helpers/server-process.ts';

// Bad configuration stops start-up with one line and a non-zero exit, never a stack trace.
describe('start-up failures', { timeout: 120_000 }, () => {
  it('PORT=abc exits non-zero with one line naming PORT', async () => {
    const r = await runServerToExit({ PORT: 'abc' });
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT="abc"/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('an unreachable DATABASE_URL exits non-zero with one line saying so', async () => {
    const r = await runServerToExit({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', LOG_LEVEL: 'silent' });
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot open the database: .*ECONNREFUSED/);
  });
});

import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../server/config.ts';

describe('config', () => {
  it('has working defaults on a machine with nothing set', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DEMO_DATA).toBe(true);
    expect(c.WORKER_WARM_START).toBe(true);
    expect(c.dataDir).toMatch(/\.data$/);
  });

  it('parses values from the environment', () => {
    const c = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'debug', DEMO_DATA: 'false' });
    expect(c).toMatchObject({ PORT: 8080, DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'debug', DEMO_DATA: false });
    expect(c.DATABASE_READ_MAX_WAIT_MS).toBe(200);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DATABASE_READ_URL: 'postgres://u@replica/db' }).DATABASE_READ_URL).toBe('postgres://u@replica/db');
    expect(loadConfig({ WORKER_WARM_START: 'false' }).WORKER_WARM_START).toBe(false);
    // 0 turns the tile cache off.
    expect(loadConfig({ TILE_CACHE_MB: '0' }).TILE_CACHE_MB).toBe(0);
  });

  it.each([
    ['PORT', 'abc', /invalid PORT="abc": expected an integer port 0-65535/],
    ['PORT', '70000', /invalid PORT="70000"/],
    ['PORT', '1.5', /invalid PORT="1.5"/],
    ['DATABASE_URL', 'mysql://x', /invalid DATABASE_URL="mysql:\/\/x": expected a postgres:\/\//],
    ['LOG_LEVEL', 'loud', /invalid LOG_LEVEL="loud": expected one of silent, error, warn, info, debug/],
    ['DEMO_DATA', 'maybe', /invalid DEMO_DATA="maybe": expected one of true, false/],
    ['WORKER_WARM_START', 'later', /invalid WORKER_WARM_START="later": expected one of true, false/],
    ['PUBLIC_URL', 'not a url', /invalid PUBLIC_URL/],
    ['TILE_CACHE_MB', '-1', /invalid TILE_CACHE_MB="-1": expected a number of megabytes 0-65536/],
    ['DATABASE_READ_URL', 'postgres://u@replica/db', /invalid DATABASE_READ_URL="postgres:\/\/u@replica\/db": a read replica needs DATABASE_URL/],
    ['DATABASE_READ_MAX_WAIT_MS', '-5', /invalid DATABASE_READ_MAX_WAIT_MS="-5": expected an integer 0-60000/],
  ])('rejects %s=%s with one line naming the variable, value and what is allowed', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each(['METRICS_TOKEN', 'EVACUEE_HASH_KEY'])('refuses a %s shorter than 16 characters without repeating it', (name) => {
    let message = '';
    try {
      loadConfig({ [name]: 'vault-key-part' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(new RegExp(`^invalid ${name} \\(value not shown\\): expected at least 16 printable ASCII characters`));
    expect(message).not.toContain('vault-key-part');
    expect(loadConfig({ [name]: 'vault-key-part-and-more' })[name as 'METRICS_TOKEN']).toBe('vault-key-part-and-more');
  });
});

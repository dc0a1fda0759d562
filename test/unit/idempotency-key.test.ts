import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { requestFingerprint } from '../../server/http/idempotency-key.ts';

describe('requestFingerprint', () => {
  const body = Buffer.alloc(3 * 1024 * 1024 + 17, 5);
  body.write('a file of several slices', 1024 * 1024 - 3);

  it('is the SHA-256 of the parts and the whole body, however it is sliced', async () => {
    const whole = createHash('sha256').update(JSON.stringify(['import', 'risk_points'])).update('\n').update(body).digest('hex');
    expect(await requestFingerprint(['import', 'risk_points'], body)).toBe(whole);
    expect(await requestFingerprint(['create', 'x'], '{"a":1}')).toBe(createHash('sha256').update('["create","x"]\n{"a":1}').digest('hex'));
  });

  it('lets other work through while a big body is hashed (an import file of hundreds of MB)', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('other request'));
    await requestFingerprint(['import'], body).then(() => order.push('fingerprint'));
    expect(order).toEqual(['other request', 'fingerprint']);
  });
});

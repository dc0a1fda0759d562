import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, openTestDb } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createKey } from '../../server/auth/keys.ts';

// docs/nginx.conf really balances two server processes: requests reach both,
// a write through nginx is read back through nginx, and the servers see the
// client's address through X-Forwarded-For (TRUST_PROXY=1).
const HAVE_NGINX = spawnSync('nginx', ['-v']).status === 0;
if (!HAVE_NGINX) console.warn('test/db/nginx.test.ts skipped: nginx not found (Debian: apt-get install -y nginx-light)');
const CONF = fileURLToPath(new URL('../../docs/nginx.conf', import.meta.url));

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const servers: RunningServer[] = [];
let prefix: string | undefined;
afterAll(async () => {
  if (prefix) {
    spawnSync('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-s', 'stop']);
    fs.rmSync(prefix, { recursive: true, force: true });
  }
  for (const s of servers) await s.stop();
});

describe.runIf(HAVE_NGINX && backend === 'postgres')('nginx in front of two server processes', () => {
  it('spreads requests over both, and a write through it reads back through it', async () => {
    const { db, location } = await openTestDb();
    const key = (await createKey(db, { name: 'behind nginx', role: 'editor' })).key;
    const p = await db.query<{ x: number; y: number }>("SELECT ST_X(g) AS x, ST_Y(g) AS y FROM (SELECT ST_PointOnSurface(geom) AS g FROM districts WHERE id = 'jianghai') s");
    await db.close();
    const listen = await freePort();
    const env = { DATABASE_URL: location, TRUST_PROXY: '1', PUBLIC_URL: `http://127.0.0.1:${listen}`, LOG_LEVEL: 'debug' };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    servers.push(a, b);

    prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-nginx-'));
    const conf = fs
      .readFileSync(CONF, 'utf8')
      .replaceAll('@PREFIX@', prefix)
      .replaceAll('@LISTEN@', String(listen))
      .replaceAll('@UPSTREAM_A@', new URL(a.url).host)
      .replaceAll('@UPSTREAM_B@', new URL(b.url).host);
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
    const started = spawnSync('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    const base = `http://127.0.0.1:${listen}`;

    const ids = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${base}/ready`);
      expect(r.status).toBe(200);
      ids.add(r.headers.get('x-request-id')!);
    }
    // Both processes answered: each logs the request ids it served.
    const served = (s: RunningServer) => [...ids].filter((id) => s.log().includes(id)).length;
    expect(served(a)).toBeGreaterThan(0);
    expect(served(b)).toBeGreaterThan(0);

    const created = await fetch(`${base}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json' },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [p.rows[0].x, p.rows[0].y] },
        properties: { name_zh: '负载均衡测试点', district_id: 'jianghai', level: 'yellow', category: 'fire', responsible_unit: '江海区应急管理局' },
      }),
    });
    expect(created.status).toBe(201);
    const location1 = created.headers.get('location')!;
    expect(location1.startsWith(base)).toBe(true); // links name the public address, not a server's own
    for (let i = 0; i < 4; i++) expect((await fetch(location1)).status).toBe(200);
  }, 240_000);
});

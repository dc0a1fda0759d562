/**
 * MapServer as a baseline (issue 17, issue 18): the same rows served by MapServer 8
 * (Debian `mapserver-bin` + `cgi-mapserver`, installed for the bench only, never in
 * CI) next to the one-map server, compared by what goes on the wire:
 *
 * - an OGC API – Features items page of 1,000 risk points (MapServer's OGC API,
 *   `/ogcapi/collections/risk_points/items?f=json&limit=1000`), and
 * - a z14 MVT tile of the same layer (`mode=tile&tilemode=gmap`, MVT output),
 *
 * with the same public properties on both sides (the layer's SELECT lists them).
 * `mapserv` runs as a CGI program, one process per request, so its times are not
 * FastCGI's and are not reported; sizes are exact.
 *
 *   apt-get install -y mapserver-bin cgi-mapserver
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database of its own> npx tsx bench/mapserver.ts
 *
 * The database named gets the demo data plus BENCH_ROWS synthetic risk points
 * (default 100,000; bench/ogc-pages.ts). Without `mapserv` the bench says so and exits 0.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { getLayer } from '../catalog/layers.ts';
import { ANONYMOUS, visibleProperties } from '../catalog/access.ts';
import { tileContaining } from '../tiles/tile-coords.ts';
import { decodeTile } from '../test/tiles/helpers/decode.ts';
import { loadBenchRows } from './ogc-pages.ts';
import { QUICK_RUN, record } from './results.ts';

const run = promisify(execFile);
const ROWS = Number(process.env.BENCH_ROWS ?? (QUICK_RUN ? 20_000 : 100_000));
const MAPSERV = process.env.MAPSERV ?? '/usr/bin/mapserv';
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** The mapfile: one POSTGIS point layer with the same public properties as ours, OGC API and MVT on. */
function mapfile(dbUrl: string, properties: readonly string[]): string {
  const u = new URL(dbUrl);
  const conn = `host=${u.hostname} port=${u.port || 5432} user=${decodeURIComponent(u.username || 'postgres')} dbname=${u.pathname.slice(1)}`;
  const cols = ['id', ...properties].join(', ');
  return `MAP
  NAME "onemap_bench"
  EXTENT 73 18 135 54
  PROJECTION "init=epsg:4326" END
  WEB
    METADATA
      "ows_enable_request" "*"
      "oga_enable_request" "*"
      "ows_title" "one map bench"
      "oga_onlineresource" "http://127.0.0.1/mapserv/ogcapi"
      "ows_srs" "EPSG:4326 EPSG:3857"
    END
  END
  OUTPUTFORMAT
    NAME "mvt"
    DRIVER MVT
    FORMATOPTION "EXTENT=4096"
  END
  LAYER
    NAME "risk_points"
    TYPE POINT
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "${conn}"
    DATA "geom FROM (SELECT ${cols}, geom FROM risk_points WHERE deleted_at IS NULL) AS t USING UNIQUE id USING SRID=4326"
    PROJECTION "init=epsg:4326" END
    METADATA
      "ows_title" "risk_points"
      "gml_include_items" "all"
      "gml_featureid" "id"
      "gml_geometries" "geom"
      "oga_use_default_template" "true"
    END
    TEMPLATE "ttt"
  END
END
`;
}

/** One CGI request to mapserv: status, headers and body. */
async function mapserv(configPath: string, pathInfo: string, query: string): Promise<{ type: string; body: Buffer }> {
  const { stdout } = await run(MAPSERV, [], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
    env: { ...process.env, REQUEST_METHOD: 'GET', QUERY_STRING: query, PATH_INFO: pathInfo, SCRIPT_NAME: '/mapserv', MAPSERVER_CONFIG_FILE: configPath },
  });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.subarray(0, split).toString('latin1');
  const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { type, body: stdout.subarray(split + 4) };
}

async function main() {
  if (!fs.existsSync(MAPSERV)) {
    console.log(`${MAPSERV} not found: apt-get install -y mapserver-bin cgi-mapserver to compare with MapServer (bench only, not CI)`);
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (a PostgreSQL database for this bench)');
  const db = await openPostgres({ connectionString: url, max: 4 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-mapserver-'));
  const server = await (async () => {
    await prepareDatabase(db, { demoData: true });
    await loadBenchRows(db, ROWS);
    const app = buildApp({ db, config: loadConfig({ DATABASE_URL: url, RATE_LIMIT_PER_MIN: '0' }), log: silentLogger });
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    return s;
  })();
  try {
    const port = (server.address() as { port: number }).port;
    const properties = visibleProperties(getLayer('risk_points')!, ANONYMOUS).map((p) => p.name);
    const mapPath = path.join(dir, 'onemap.map');
    fs.writeFileSync(mapPath, mapfile(url, properties));
    const configPath = path.join(dir, 'mapserver.conf');
    // MapServer 8 reads its settings from a config file: mapfiles only from this directory; the OGC API
    // takes the map's key from the first segment of the path (/BENCH/ogcapi/…), plain CGI requests MS_MAPFILE.
    fs.writeFileSync(configPath, `CONFIG\n  ENV\n    MS_MAP_PATTERN "^${dir}/"\n    MS_MAPFILE "${mapPath}"\n  END\n  MAPS\n    BENCH "${mapPath}"\n  END\nEND\n`);
    const { stdout: version } = await run(MAPSERV, ['-v']);

    // The OGC items page.
    const ours = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/ogc/collections/risk_points/items?limit=1000`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const theirs = await mapserv(configPath, '/BENCH/ogcapi/collections/risk_points/items', 'f=json&limit=1000');
    const count = (b: Buffer) => (JSON.parse(b.toString('utf8')) as { features?: unknown[] }).features?.length ?? NaN;
    if (!/json/.test(theirs.type)) throw new Error(`MapServer's items page: ${theirs.type} ${theirs.body.toString('utf8').slice(0, 300)}`);
    console.log(`${version.trim().split('\n')[0]}\n`);
    console.log('| response | one map | MapServer | ÷ |');
    console.log('|---|---|---|---|');
    console.log(`| OGC items page, limit 1000 (${count(ours)} / ${count(theirs.body)} features) | ${kib(ours.length)} | ${kib(theirs.body.length)} | ${(ours.length / theirs.body.length).toFixed(2)} |`);
    record({
      bench: 'mapserver',
      name: `OGC items page of ${count(ours)} risk points (MapServer: ${count(theirs.body)}), bytes`,
      value: ours.length / 1024,
      unit: 'kB',
      baseline: { name: 'MapServer 8 OGC API, same rows and properties', value: theirs.body.length / 1024 },
      better: 'lower',
      goal: { op: '<=', value: 1.0 },
    });

    // A z14 MVT tile over the synthetic rows.
    const t = tileContaining(113.15, 23.1, 14);
    const tile = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/tiles/risk_points/${t.z}/${t.x}/${t.y}.mvt`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const msTile = await mapserv(configPath, '', `mode=tile&tilemode=gmap&tile=${t.x}+${t.y}+${t.z}&layers=risk_points&map.imagetype=mvt`);
    const features = (b: Buffer) => {
      try {
        return decodeTile(b).risk_points?.length ?? 0;
      } catch {
        return NaN;
      }
    };
    console.log(`| MVT z${t.z}/${t.x}/${t.y} (${features(tile)} / ${features(msTile.body)} features) | ${kib(tile.length)} | ${kib(msTile.body.length)} | ${(tile.length / msTile.body.length).toFixed(2)} |`);
    record({
      bench: 'mapserver',
      name: `MVT tile z${t.z} (${features(tile)} features; MapServer: ${features(msTile.body)}), bytes`,
      value: tile.length / 1024,
      unit: 'kB',
      baseline: { name: 'MapServer 8 MVT, same rows and properties', value: msTile.body.length / 1024 },
      better: 'lower',
    });
  } finally {
    server.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

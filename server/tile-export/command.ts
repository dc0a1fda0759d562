/**
 * The `export` command (`npm run export -- …`, server/tile-export/cli.ts) apart from the
 * process it runs in: arguments, output, configuration and database are handed to it,
 * so it can run inside a test against the test's database.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import { createLogger } from '../log.ts';
import { getLayer, LAYERS, type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS, canSeeLayer } from '../../catalog/access.ts';
import { ARCHIVE_FORMATS, formatOfFile } from '../../tiles/archive/archive.ts';
import { districtBBox, exportArchive, type ExportProgress } from './export.ts';
import { fetchTilesFrom } from './from-server.ts';
import { computedLayers } from '../analysis/computed-layers.ts';
import { analysisServices } from '../analysis/service.ts';

export interface ExportIo {
  out(text: string): void;
  err(text: string): void;
  /** Progress is one line rewritten in place on a terminal, a line every few seconds otherwise. */
  tty: boolean;
  /** The configuration; throws a ConfigError when it is invalid. */
  config(): Config;
  /** Runs `fn` on the configured database, prepared (migrations, demo data when configured). */
  withDb<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T>;
}

/** A failure the command reports as one line (and the usage, where it helps) and exit code 2. */
class Refusal extends Error {}

function fail(message: string): never {
  throw new Refusal(message);
}

const USAGE = `usage: npm run export -- (--district ID[,ID…] | --bbox W,S,E,N) --out FILE.pmtiles|FILE.mbtiles
       [--layers ID,ID…] [--minzoom 0] [--maxzoom 16] [--format pmtiles|mbtiles] [--server URL]`;

const zoom = z.coerce.number().int().min(0).max(22);
const argsSchema = z
  .object({
    district: z.string().regex(/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$/, 'district ids separated by commas').optional(),
    bbox: z
      .string()
      .transform((s) => s.split(',').map(Number))
      .refine((b) => b.length === 4 && b.every(Number.isFinite) && b[0] < b[2] && b[1] < b[3] && b[0] >= -180 && b[2] <= 180 && b[1] >= -85.06 && b[3] <= 85.06, 'W,S,E,N in degrees with W<E and S<N')
      .optional(),
    layers: z.string().optional(),
    minzoom: zoom.default(0),
    maxzoom: zoom.default(16),
    format: z.enum(ARCHIVE_FORMATS as [string, ...string[]]).optional(),
    out: z.string().min(1),
    server: z.url().optional(),
  })
  .refine((a) => !!a.district !== !!a.bbox, { message: 'give exactly one of --district or --bbox', path: ['district'] })
  .refine((a) => a.minzoom <= a.maxzoom, { message: 'must not exceed --maxzoom', path: ['minzoom'] });

function layersOf(list: string | undefined): LayerDef[] {
  // Default: every public layer stored in a table (computed layers are analyses, not map data).
  if (!list) return LAYERS.filter((l) => l.table && canSeeLayer(l, ANONYMOUS));
  return list.split(',').map((id) => {
    const layer = getLayer(id);
    if (!layer || !canSeeLayer(layer, ANONYMOUS)) fail(`--layers: unknown or restricted layer ${id}; public layers: ${LAYERS.filter((l) => canSeeLayer(l, ANONYMOUS)).map((l) => l.id).join(', ')}`);
    return layer;
  });
}

/** One line, rewritten in place on a terminal, every few seconds otherwise. */
function progressPrinter(io: ExportIo): (p: ExportProgress) => void {
  const tty = io.tty;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.done !== p.total && now - last < (tty ? 200 : 5000)) return;
    last = now;
    const share = p.total ? p.done / p.total : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const rate = p.elapsed > 0 ? p.done / p.elapsed : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : 0;
    const line = `[${bar}] ${p.done}/${p.total} tiles ${(share * 100).toFixed(0)}% · ${rate.toFixed(0)} tiles/s · ETA ${formatSeconds(eta)}`;
    io.err(tty ? `\r${line}${p.done === p.total ? '\n' : ''}` : `${line}\n`);
  };
}

function formatSeconds(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** Runs the command to its end and returns its exit code: 0, or 2 after saying why on `err`. */
export async function exportCommand(args: string[], io: ExportIo): Promise<number> {
  try {
    await run(args, io);
    return 0;
  } catch (err) {
    io.err(`export: ${(err as Error).message || String(err)}\n`);
    return 2;
  }
}

async function run(args: string[], io: ExportIo): Promise<void> {
  let raw;
  try {
    raw = parseArgs({
      args,
      options: {
        district: { type: 'string' },
        bbox: { type: 'string' },
        layers: { type: 'string' },
        minzoom: { type: 'string' },
        maxzoom: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        server: { type: 'string' },
      },
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`--${String(issue.path[0] ?? 'out')}: ${issue.message}\n${USAGE}`);
  }
  const a = parsed.data;
  const format = (a.format ?? formatOfFile(a.out)) as 'pmtiles' | 'mbtiles' | null;
  if (!format) fail(`--out: name the file .pmtiles or .mbtiles, or pass --format\n${USAGE}`);
  const layers = layersOf(a.layers);
  const out = path.resolve(a.out);

  if (a.server) {
    const result = await fetchTilesFrom({ server: a.server, layers, bbox: a.bbox as [number, number, number, number] | undefined, district: a.district, minzoom: a.minzoom, maxzoom: a.maxzoom, format, out, onProgress: progressPrinter(io) });
    io.out(`${out}: ${result.stored} tiles (${result.tiles - result.stored} empty) from ${a.server} in ${result.seconds.toFixed(1)} s\n`);
    return;
  }

  const config = io.config();
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  await io.withDb(config, async (db) => {
    let bbox = a.bbox as [number, number, number, number] | undefined;
    if (a.district) {
      const ids = a.district.split(',');
      const { rows } = await db.query<{ id: string }>('SELECT id FROM districts WHERE id = ANY($1)', [ids]);
      const unknown = ids.filter((id) => !rows.some((r) => r.id === id));
      if (unknown.length) fail(`--district: unknown district ${unknown.join(', ')}`);
      bbox = await districtBBox(db, ids);
    }
    // A computed layer named in --layers is exported like the server tiles it.
    const computed = computedLayers(analysisServices(db));
    const result = await exportArchive({ db, log, layers, computed, bbox: bbox!, minzoom: a.minzoom, maxzoom: a.maxzoom, format, out, concurrency: db.backend === 'postgres' ? config.PG_POOL_SIZE : 1, onProgress: progressPrinter(io) });
    io.out(`${out}: ${result.stored} tiles (${result.tiles - result.stored} empty), ${(result.bytes / 1e6).toFixed(1)} MB of MVT in ${result.seconds.toFixed(1)} s\n`);
  });
}


import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { LOG_LEVELS } from './log.ts';

/**
 * Configuration, parsed once from the environment at start-up. A wrong value
 * stops start-up with one line naming the variable, the value and what is allowed.
 */
const port = z.coerce
  .number({ message: 'an integer port 0-65535' })
  .int('an integer port 0-65535')
  .min(0, 'an integer port 0-65535')
  .max(65535, 'an integer port 0-65535');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'one of true, false, 1, 0, yes, no' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const intIn = (min: number, max: number) =>
  z.coerce
    .number({ message: `an integer ${min}-${max}` })
    .int(`an integer ${min}-${max}`)
    .min(min, `an integer ${min}-${max}`)
    .max(max, `an integer ${min}-${max}`);
// Canonical decimals only: Number() would also read 0x10, 1e3 or " 5".
const perMinuteMessage = 'an integer 0-10000000 (requests per minute, 0 = off)';
const perMinute = z
  .string()
  .regex(/^\d{1,8}$/, perMinuteMessage)
  .transform(Number)
  .pipe(z.number().max(10_000_000, perMinuteMessage));
/**
 * A token or key, optional: long enough not to be guessed, and safe in a header or a shell.
 * Errors never repeat the value of a variable of this schema (SECRETS below).
 */
const secret = z
  .string()
  .regex(/^[\x21-\x7e]{16,200}$/, 'at least 16 printable ASCII characters without spaces')
  .optional();

export const configSchema = z.object({
  /** TCP port the HTTP server listens on. */
  PORT: port.default(3000),
  /** Interface to bind; 0.0.0.0 to serve other machines. */
  HOST: z.string().min(1, 'a host name or IP address').default('127.0.0.1'),
  /** postgres://… of a real PostgreSQL/PostGIS server; unset = embedded database. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'a postgres:// or postgresql:// connection URL')
    .optional(),
  /** postgres://… of a streaming replica of DATABASE_URL: tiles, OGC reads and analyses read there (docs/scaling.md). */
  DATABASE_READ_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'a postgres:// or postgresql:// connection URL')
    .optional(),
  /** Longest a read waits for the replica to replay what it must see (a write it follows) before the primary answers it, ms. */
  DATABASE_READ_MAX_WAIT_MS: intIn(0, 60_000).default(200),
  /** Where the embedded database keeps its files (persisted across restarts). */
  DATA_DIR: z.string().min(1, 'a directory path').default('.data'),
  /** Log verbosity. */
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Load the synthetic demo data into an empty database at start-up. */
  DEMO_DATA: bool.default(true),
  /** Pool size for the PostgreSQL backend. */
  PG_POOL_SIZE: z.coerce.number({ message: 'an integer 1-100' }).int('an integer 1-100').min(1, 'an integer 1-100').max(100, 'an integer 1-100').default(10),
  /** Largest import file accepted, in megabytes. */
  IMPORT_MAX_MB: z.coerce.number({ message: 'a number of megabytes 1-2000' }).min(1, 'a number of megabytes 1-2000').max(2000, 'a number of megabytes 1-2000').default(200),
  /** Memory for cached vector tiles, in megabytes; 0 turns the tile cache off (behind a caching CDN, or to measure uncached speed). */
  TILE_CACHE_MB: z.coerce.number({ message: 'a number of megabytes 0-65536' }).min(0, 'a number of megabytes 0-65536').max(65536, 'a number of megabytes 0-65536').default(64),
  /** Largest width or height of a static map image, in pixels (after `scale`). */
  MAP_MAX_SIZE: z.coerce.number({ message: 'an integer 256-16384' }).int('an integer 256-16384').min(256, 'an integer 256-16384').max(16384, 'an integer 256-16384').default(4096),
  /**
   * Static-map images rasterised at once by one process; each holds one of libuv's threads
   * (UV_THREADPOOL_SIZE, 4 by default), which file reads and compression also need.
   */
  MAP_RASTER_CONCURRENCY: z.coerce.number({ message: 'an integer 1-16' }).int('an integer 1-16').min(1, 'an integer 1-16').max(16, 'an integer 1-16').default(1),
  /** Static-map images waiting to be rasterised; beyond it 503 with Retry-After. */
  MAP_RASTER_QUEUE_MAX: z.coerce.number({ message: 'an integer 0-1000' }).int('an integer 0-1000').min(0, 'an integer 0-1000').max(1000, 'an integer 0-1000').default(8),
  /**
   * Planner settings for every database connection, `name=value` comma-separated, or `none`.
   * The OGC pages and tiles are small indexed queries on which a parallel worker or JIT costs more than the query.
   */
  PG_PLANNER_SETTINGS: z
    .string()
    .regex(/^(none|[a-z_]+=[A-Za-z0-9_.]+(,[a-z_]+=[A-Za-z0-9_.]+)*)$/, 'none or name=value pairs separated by commas, e.g. max_parallel_workers_per_gather=0,jit=off')
    .default('max_parallel_workers_per_gather=0,jit=off')
    .transform((v) => (v === 'none' ? [] : v.split(',').map((pair) => pair.split('=') as [string, string]))),
  /**
   * Keep the tile statements prepared on each PostgreSQL connection (parsed once per connection,
   * not per tile). Turn off behind a pooler that cannot hold prepared statements across
   * transactions: pgbouncer in transaction mode before 1.21 (1.21+: max_prepared_statements > 0).
   */
  PG_PREPARED_STATEMENTS: bool.default(true),
  /** OGC items: above this many matches (planner estimate) numberMatched is the estimate instead of an exact count. */
  OGC_COUNT_EXACT_MAX: z.coerce.number({ message: 'an integer from 0' }).int('an integer from 0').min(0, 'an integer from 0').default(1_000_000),
  /** Worker threads for heavy computations (siting, coverage analyses, big batches); default max(2, cores − 1). */
  WORKER_POOL_SIZE: intIn(1, 64).optional(),
  /** Tasks that may wait for a worker; beyond that requests get 503 with Retry-After. */
  WORKER_QUEUE_MAX: intIn(0, 10_000).default(16),
  /** Longest a computation may run on a worker, ms; beyond that it is stopped and answered 422. */
  WORKER_TASK_BUDGET_MS: intIn(100, 600_000).default(2000),
  /**
   * Start the analysis workers with the server (true), so the first analysis does not wait the
   * second or so a worker takes to load its modules, or on the first analysis (false: a quicker
   * start on less CPU and memory, for processes that seldom or never run one).
   */
  WORKER_WARM_START: bool.default(true),
  /**
   * Recompute shelters' hazard-zone flags when hazards or shelters are written in plain SQL
   * (server/shelters/hazard-zone-keeper.ts); false: POST /shelters/usability/hazard-zones after such writes.
   */
  HAZARD_ZONES_FOLLOW_SQL: bool.default(true),
  /** Nice value of the worker threads on Linux (0 = the same CPU priority as the thread serving HTTP); docs/operations.md weighs it. */
  WORKER_NICE: intIn(0, 19).default(0),
  /** PostgreSQL statement timeouts per kind of request, ms (0 = none); a timeout answers 503 with Retry-After. */
  STATEMENT_TIMEOUT_TILES_MS: intIn(0, 3_600_000).default(5000),
  STATEMENT_TIMEOUT_ITEMS_MS: intIn(0, 3_600_000).default(10_000),
  STATEMENT_TIMEOUT_ANALYSES_MS: intIn(0, 3_600_000).default(15_000),
  STATEMENT_TIMEOUT_IMPORTS_MS: intIn(0, 3_600_000).default(60_000),
  /** How long an idle keep-alive connection is kept open, ms: longer than the idle timeout of any client or proxy in front (server/http/keep-alive.ts). */
  KEEP_ALIVE_TIMEOUT_MS: intIn(1000, 3_600_000).default(65_000),
  /**
   * Seconds between the live stream's heartbeats (`event: heartbeat`). Maps and walls take a stream
   * silent for three of them as a dead link; a proxy in front must allow this long without a byte.
   */
  LIVE_HEARTBEAT_S: intIn(1, 300).default(15),
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections are closed, ms. */
  SHUTDOWN_TIMEOUT_MS: intIn(0, 600_000).default(10_000),
  /** Public base URL used in absolute links (OGC, TileJSON); defaults to the request's host. */
  PUBLIC_URL: z.url({ message: 'an absolute http(s) URL' }).optional(),
  /** Most vertices in one geometry a caller sends (drawn areas, edits, imported rows). */
  GEOMETRY_MAX_VERTICES: z.coerce.number({ message: 'an integer 4-1000000' }).int('an integer 4-1000000').min(4, 'an integer 4-1000000').max(1_000_000, 'an integer 4-1000000').default(10_000),
  /** Widest span of one such geometry, in degrees of longitude and of latitude (below 180: no antipodal edges). */
  GEOMETRY_MAX_EXTENT_DEG: z.coerce.number({ message: 'degrees, > 0 and at most 90' }).gt(0, 'degrees, > 0 and at most 90').max(90, 'degrees, > 0 and at most 90').default(10),
  /** Origins allowed to read tiles, OGC, catalogue and analyses from a browser: a comma list, or `*`; unset = no CORS. */
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && (list.join() === '*' || list.every((o) => /^https?:\/\/[^/\s*]+$/.test(o))), '* or a comma list of origins like https://map.example.org')
    .optional(),
  /** Host names the server answers to when PUBLIC_URL is unset (links are built from Host); `*` = any. Default: localhost names and HOST. */
  ALLOWED_HOSTS: z
    .string()
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .refine((list) => list.length > 0 && (list.join() === '*' || list.every((h) => /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h))), '* or a comma list of host names or IP addresses (no ports)')
    .optional(),
  /** Server processes (node:cluster) sharing the port; default 1 on the embedded database, one per CPU on PostgreSQL. */
  /** Fault injection for resilience tests: hold every change notification this long before caches see it. */
  FAULT_NOTIFY_DELAY_MS: z.coerce.number({ message: 'an integer 0-60000' }).int('an integer 0-60000').min(0, 'an integer 0-60000').max(60_000, 'an integer 0-60000').default(0),
  /** A PMTiles or MBTiles file made by `npm run export`: its tiles answer while the database cannot be reached. */
  TILES_ARCHIVE: z
    .string()
    .regex(/\.(pmtiles|mbtiles)$/i, 'the path of a .pmtiles or .mbtiles file (npm run export)')
    .optional(),
  WORKERS: z.coerce.number({ message: 'an integer 1-64' }).int('an integer 1-64').min(1, 'an integer 1-64').max(64, 'an integer 1-64').optional(),
  /** Requests per minute from one client address (anonymous callers); 0 = no limit. */
  RATE_LIMIT_PER_MIN: perMinute.default(6000),
  /** Requests per minute with one API key, from any address; 0 = no limit. */
  RATE_LIMIT_KEY_PER_MIN: perMinute.default(20000),
  /** Reverse proxies in front of the server whose X-Forwarded-For (client address) and X-Forwarded-Proto (HTTPS) are trusted; 0 = none. */
  TRUST_PROXY: z.string().regex(/^(10|\d)$/, 'an integer 0-10 (proxy hops)').transform(Number).default(0),
  /** Bearer token that may read GET /metrics from anywhere; unset = loopback clients only. */
  METRICS_TOKEN: secret,
  /** Key of the keyed hash evacuee references are stored under; unset = one made per installation and kept in its database. */
  EVACUEE_HASH_KEY: secret,
});

export type Config = z.infer<typeof configSchema> & { dataDir: string; workers: number };

export class ConfigError extends Error {}

/**
 * Variables whose value an error never repeats, those of the `secret` schema: a secret refused
 * as too short may still be most of a real one, and start-up errors end up in logs.
 */
const SECRETS = new Set(Object.entries(configSchema.shape).flatMap(([name, schema]) => (schema === secret ? [name] : [])));

/** Parses `env`; throws ConfigError with a one-line message on the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(configSchema.shape);
  const input: Record<string, string> = {};
  for (const key of known) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    const shown = SECRETS.has(name) ? `${name} (value not shown)` : `${name}=${JSON.stringify(input[name])}`;
    throw new ConfigError(`invalid ${shown}: expected ${issue.message}`);
  }
  const data = parsed.data;
  // The embedded database is a single-writer file store that belongs to one process.
  if (data.WORKERS !== undefined && data.WORKERS > 1 && !data.DATABASE_URL) {
    throw new ConfigError(`invalid WORKERS=${JSON.stringify(input.WORKERS)}: the embedded database serves one process; set DATABASE_URL to run several`);
  }
  if (data.DATABASE_READ_URL && !data.DATABASE_URL) {
    throw new ConfigError(`invalid DATABASE_READ_URL=${JSON.stringify(input.DATABASE_READ_URL)}: a read replica needs DATABASE_URL, the primary it replicates`);
  }
  const workers = data.WORKERS ?? (data.DATABASE_URL ? os.availableParallelism() : 1);
  return { ...data, dataDir: path.resolve(data.DATA_DIR), workers };
}

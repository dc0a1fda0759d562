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
  /** Memory for cached vector tiles, in megabytes. */
  TILE_CACHE_MB: z.coerce.number({ message: 'a number of megabytes 1-65536' }).min(1, 'a number of megabytes 1-65536').max(65536, 'a number of megabytes 1-65536').default(64),
  /** Largest width or height of a static map image, in pixels (after `scale`). */
  MAP_MAX_SIZE: z.coerce.number({ message: 'an integer 256-16384' }).int('an integer 256-16384').min(256, 'an integer 256-16384').max(16384, 'an integer 256-16384').default(4096),
  /**
   * Planner settings for every database connection, `name=value` comma-separated, or `none`.
   * The OGC pages and tiles are small indexed queries on which a parallel worker or JIT costs more than the query.
   */
  PG_PLANNER_SETTINGS: z
    .string()
    .regex(/^(none|[a-z_]+=[A-Za-z0-9_.]+(,[a-z_]+=[A-Za-z0-9_.]+)*)$/, 'none or name=value pairs separated by commas, e.g. max_parallel_workers_per_gather=0,jit=off')
    .default('max_parallel_workers_per_gather=0,jit=off')
    .transform((v) => (v === 'none' ? [] : v.split(',').map((pair) => pair.split('=') as [string, string]))),
  /** OGC items: above this many matches (planner estimate) numberMatched is the estimate instead of an exact count. */
  OGC_COUNT_EXACT_MAX: z.coerce.number({ message: 'an integer from 0' }).int('an integer from 0').min(0, 'an integer from 0').default(1_000_000),
  /** Public base URL used in absolute links (OGC, TileJSON); defaults to the request's host. */
  PUBLIC_URL: z.url({ message: 'an absolute http(s) URL' }).optional(),
});

export type Config = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {}

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
    throw new ConfigError(`invalid ${name}=${JSON.stringify(input[name])}: expected ${issue.message}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
}

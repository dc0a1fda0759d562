import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { answerProblem, writeEdgeHead, type EdgeHook } from './edge.ts';
import { HttpProblem } from './problem.ts';
import { isLoopback } from './client-address.ts';
import { rejectReasonOf } from './reject.ts';
import { requestIdOf } from './request-id.ts';
import type { Logger } from '../log.ts';
import type { ReplicaStatus } from '../db/types.ts';

/**
 * Prometheus metrics (prom-client) for one app: request rate and latency per
 * route template, rejected requests by reason, tile cache, database pool, live
 * clients, analysis durations; plus the process's own (memory, event-loop lag).
 * Routes are labelled by their template (`/collections/:collectionId/items`),
 * never the raw URL, so the number of series stays bounded whatever clients send.
 */

/** What the app can tell about itself when scraped; each source is optional. */
export interface MetricSources {
  tileCache?: () => { hits: number; misses: number; bytes: number; maxBytes: number; entries: number; evictions: number } | undefined;
  fastPathAnswered?: () => number | undefined;
  dbPool?: () => { total: number; idle: number; waiting: number } | undefined;
  /** The read replica (DATABASE_READ_URL), when there is one. */
  replica?: () => ReplicaStatus;
  liveClients?: () => number | undefined;
  workerPool?: () => { size: number; loaded: number; busy: number; queued: number; completed: number; overBudget: number; starved: number; abandoned: number; rejectedFull: number } | undefined;
  /** Static-map rasterising (server/maps/render.ts). */
  rasterGate?: () => { active: number; queued: number; completed: number; rejectedFull: number } | undefined;
  /** Hazard-zone recomputations after plain-SQL writes, at start and after a lost LISTEN (server/shelters/hazard-zone-keeper.ts), when on. */
  hazardZones?: () => { rounds: number; failed: number; skipped: number } | undefined;
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const TILE_ROUTE = '/tiles/:layers/:z/:x/:y.mvt';

// Process metrics are registered once per process, not per app (tests build many apps).
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Timed = ServerResponse & { [START]?: bigint; [METRICS]?: AppMetrics };
const START = Symbol('onemap.requestStart');
const METRICS = Symbol('onemap.metrics');

/** Why a refused request was refused, from its status (and the limiter's mark for 429). */
function rejectionOf(res: ServerResponse, status: number): string | null {
  if (status < 400 || status === 404 || status === 405) return null;
  if (status === 429) return rejectReasonOf(res) ?? 'rate_limit';
  if (status === 400 || status === 422) return 'validation';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 413) return 'too_large';
  if (status === 503) return 'unavailable';
  if (status >= 500) return null; // failures, not refusals: the request counter has them
  return 'other_4xx';
}

/** The route template that answered, or a fixed stand-in; never the raw URL. */
function routeOf(req: IncomingMessage): string {
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  if (typeof r.route?.path === 'string') return (r.baseUrl ?? '') + r.route.path;
  // Answered before Express (tiles/fast-path.ts) or by static files / 404.
  const url = req.url ?? '';
  return url.startsWith('/tiles/') && isMvtPath(url) ? TILE_ROUTE : '(other)';
}

/** The path (before any query) ends in `.mvt`. */
function isMvtPath(url: string): boolean {
  const q = url.indexOf('?');
  return q < 0 ? url.endsWith('.mvt') : url.startsWith('.mvt', q - 4);
}

interface RouteSeries {
  method: string;
  route: string;
  /** Answers by status (0: the client left first). */
  statuses: Map<number, number>;
  /** Observations per latency bucket (not cumulative); above the last bound only in `count`. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Requests counted and timed per method, route template and status in plain
 * records: a request costs three Map lookups and an add, where prom-client's
 * labelled counter and histogram hash their label objects into strings on every
 * call. prom-client reads the records when /metrics is scraped.
 */
export class RequestSeries {
  private readonly byRoute = new Map<string, Map<string, RouteSeries>>();
  /** The same records in the order they were first seen (the order prom-client exposes series in). */
  private readonly list: RouteSeries[] = [];

  add(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.byRoute.get(route);
    if (!byMethod) this.byRoute.set(route, (byMethod = new Map()));
    let s = byMethod.get(method);
    if (!s) {
      s = { method, route, statuses: new Map(), buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      byMethod.set(method, s);
      this.list.push(s);
    }
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    // The bucket of the first bound at or above the value (prom-client's rule).
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        s.buckets[i]++;
        break;
      }
    }
    s.sum += seconds;
    s.count++;
  }

  all(): readonly RouteSeries[] {
    return this.list;
  }
}

/**
 * The latency histogram of RequestSeries in prom-client's shape (a registry
 * accepts any object with a name and `get`): the same series, bucket lines,
 * labels and order as a prom-client Histogram with labels method and route.
 */
class LatencyHistogram {
  readonly name = 'onemap_http_request_duration_seconds';
  readonly help = 'Time from the first byte of the request to the last byte of the answer, by route template';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly series: RequestSeries) {}

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.all()) {
      const { method, route } = s;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i];
        values.push({ labels: { le, method, route }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', method, route }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { method, route }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { method, route }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Nothing to reset: the records are the app's. */
  reset(): void {}
}

export class AppMetrics {
  readonly registry = new Registry();
  /** Requests and their latency by method, route and status (read by the two metrics below when scraped). */
  private readonly series = new RequestSeries();
  private readonly rejected = new Counter({
    name: 'onemap_rejected_requests_total',
    help: 'Requests refused, by reason: rate_limit, auth_throttle, too_large, unavailable, validation, unauthorized, forbidden, other_4xx',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly analysis = new Histogram({
    name: 'onemap_analysis_duration_seconds',
    help: 'Duration of successful analysis requests, by route template',
    labelNames: ['analysis'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor(
    sources: MetricSources,
    private readonly log: Logger,
  ) {
    const r = [this.registry];
    const { series } = this;
    new Counter({
      name: 'onemap_http_requests_total',
      help: 'Requests answered, by method, route template and status (aborted = client left first)',
      labelNames: ['method', 'route', 'status'] as const,
      registers: r,
      collect() {
        this.reset();
        for (const s of series.all()) {
          for (const [status, n] of s.statuses) this.inc({ method: s.method, route: s.route, status: status ? String(status) : 'aborted' }, n);
        }
      },
    });
    this.registry.registerMetric(new LatencyHistogram(series) as unknown as Parameters<Registry['registerMetric']>[0]);
    const gauge = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: r,
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    // Counters kept elsewhere (the tile cache counts its own hits): read at scrape time.
    const counter = (name: string, help: string, read: () => number | undefined) =>
      new Counter({
        name,
        help,
        registers: r,
        collect() {
          const v = read();
          if (v === undefined) return;
          this.reset();
          this.inc(v);
        },
      });
    counter('onemap_tile_cache_hits_total', 'Tile requests answered from the tile cache', () => sources.tileCache?.()?.hits);
    counter('onemap_tile_cache_misses_total', 'Tile requests rendered because the cache had no entry', () => sources.tileCache?.()?.misses);
    counter('onemap_tile_cache_evictions_total', 'Tiles dropped from the cache to stay within its size', () => sources.tileCache?.()?.evictions);
    counter('onemap_tile_fast_path_answers_total', 'Cached public tiles answered before Express routing', () => sources.fastPathAnswered?.());
    gauge('onemap_tile_cache_bytes', 'Bytes held by the tile cache', () => sources.tileCache?.()?.bytes);
    gauge('onemap_tile_cache_max_bytes', 'Upper bound of the tile cache (TILE_CACHE_MB)', () => sources.tileCache?.()?.maxBytes);
    gauge('onemap_tile_cache_entries', 'Tiles held by the tile cache', () => sources.tileCache?.()?.entries);
    if (sources.dbPool) {
      gauge('onemap_db_pool_in_use', 'Database connections checked out of the pool (PostgreSQL backend)', () => {
      const s = sources.dbPool?.();
      return s && s.total - s.idle;
    });
    gauge('onemap_db_pool_idle', 'Idle database connections in the pool (PostgreSQL backend)', () => sources.dbPool?.()?.idle);
      gauge('onemap_db_pool_waiting', 'Queries waiting for a pool connection (PostgreSQL backend)', () => sources.dbPool?.()?.waiting);
    }
    const replica = sources.replica;
    if (replica) {
      gauge('onemap_db_replica_up', 'Whether the read replica (DATABASE_READ_URL) answers: 1 up, 0 down (its reads go to the primary)', () => (replica().up ? 1 : 0));
      new Counter({
        name: 'onemap_db_replica_reads_total',
        help: 'Reads of tiles, OGC items and analyses by the database that served them: replica, or primary (replica down or behind, or the request wrote)',
        labelNames: ['served_by'] as const,
        registers: r,
        collect() {
          const { reads } = replica();
          this.reset();
          this.inc({ served_by: 'replica' }, reads.replica);
          this.inc({ served_by: 'primary' }, reads.primary);
        },
      });
    }
    gauge('onemap_worker_pool_size', 'Worker threads for heavy computations (WORKER_POOL_SIZE)', () => sources.workerPool?.()?.size);
    gauge('onemap_worker_pool_loaded', 'Workers started and ready for computations (up to the pool size; WORKER_WARM_START=false: 0 until the first)', () => sources.workerPool?.()?.loaded);
    gauge('onemap_worker_pool_busy', 'Workers computing now', () => sources.workerPool?.()?.busy);
    gauge('onemap_worker_queue_length', 'Computations waiting for a worker (WORKER_QUEUE_MAX; beyond it 503)', () => sources.workerPool?.()?.queued);
    counter('onemap_worker_tasks_completed_total', 'Computations finished on a worker', () => sources.workerPool?.()?.completed);
    counter('onemap_worker_tasks_over_budget_total', 'Computations stopped with 422 for using more CPU time than WORKER_TASK_BUDGET_MS', () => sources.workerPool?.()?.overBudget);
    counter('onemap_worker_tasks_starved_total', 'Computations stopped with 503 for not getting their CPU time within 5 × WORKER_TASK_BUDGET_MS on the clock (busy cores)', () => sources.workerPool?.()?.starved);
    counter('onemap_worker_tasks_abandoned_total', 'Computations stopped because the client left', () => sources.workerPool?.()?.abandoned);
    counter('onemap_worker_queue_rejected_total', 'Computations refused with 503 because the queue was full', () => sources.workerPool?.()?.rejectedFull);
    gauge('onemap_map_raster_active', 'Static-map images being rasterised now (MAP_RASTER_CONCURRENCY at most)', () => sources.rasterGate?.()?.active);
    gauge('onemap_map_raster_queue_length', 'Static-map images waiting to be rasterised (MAP_RASTER_QUEUE_MAX; beyond it 503)', () => sources.rasterGate?.()?.queued);
    counter('onemap_map_raster_rejected_total', 'Static-map images refused with 503 because the rasterising queue was full', () => sources.rasterGate?.()?.rejectedFull);
    counter('onemap_hazard_zone_rounds_total', 'Hazard-zone recomputations after hazards or shelters were written in plain SQL, at start and after a lost LISTEN connection (HAZARD_ZONES_FOLLOW_SQL)', () => sources.hazardZones?.()?.rounds);
    counter('onemap_hazard_zone_failures_total', 'Of those, the ones that failed (the database was away): shelters may be flagged wrongly until the next write or POST /shelters/usability/hazard-zones', () => sources.hazardZones?.()?.failed);
    counter('onemap_hazard_zone_skipped_total', 'Of those, the ones left to another server process that was recomputing (WORKERS>1): the rounds done are rounds − skipped', () => sources.hazardZones?.()?.skipped);
    gauge('onemap_live_clients', 'Open live-update streams (GET /events)', () => sources.liveClients?.());
  }

  /** Edge hook: starts the clock and counts the request when its answer is done. */
  readonly hook: EdgeHook = (_req, res) => {
    (res as Timed)[START] = process.hrtime.bigint();
    (res as Timed)[METRICS] = this;
    res.on('close', onClose); // emitted once per response; `once` would wrap it per request
    return false;
  };

  observe(req: IncomingMessage, res: ServerResponse, seconds: number): void {
    const method = METHODS.has(req.method ?? '') ? req.method! : 'other';
    const route = routeOf(req);
    const status = res.writableFinished ? res.statusCode : 0;
    this.series.add(method, route, status, seconds);
    if (!status) return;
    const reason = rejectionOf(res, status);
    if (reason) this.rejected.inc({ reason });
    if (status < 400 && route.startsWith('/analysis/')) this.analysis.observe({ analysis: route }, seconds);
    // One access line per request; cached tiles only at debug, they are most of the traffic.
    const level = status >= 500 ? 'error' : route === TILE_ROUTE && status < 400 ? 'debug' : 'info';
    if (this.log.enabled(level)) {
      this.log[level]('request', {
        reqId: requestIdOf(req),
        method: req.method,
        url: req.url,
        route,
        status: status || 'aborted',
        ms: Math.round(seconds * 10_000) / 10,
      });
    }
  }

  /** The exposition text: this app's metrics, then the process's. */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }
}

// One shared listener (not a closure per request): the response carries its start and metrics.
function onClose(this: ServerResponse): void {
  const res = this as Timed;
  const start = res[START];
  const metrics = res[METRICS];
  if (start === undefined || !metrics) return;
  metrics.observe(res.req, res, Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * Edge hook answering `GET /metrics`. With METRICS_TOKEN set, the caller must
 * send `Authorization: Bearer <token>`; without it, only loopback callers are
 * answered (a Prometheus on the same host). A request relayed by a trusted
 * proxy is never loopback, even though the proxy connects from 127.0.0.1.
 */
export function metricsEndpoint(metrics: AppMetrics, token: string | undefined, trustProxy: number): EdgeHook {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return (req, res) => {
    const url = req.url ?? '';
    if (url !== '/metrics' && !url.startsWith('/metrics?')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let allowed: boolean;
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      allowed = given.length === expected.length && timingSafeEqual(given, expected);
    } else {
      const proxied = trustProxy > 0 && req.headers['x-forwarded-for'] !== undefined;
      allowed = !proxied && isLoopback(req.socket.remoteAddress ?? '');
    }
    if (!allowed) {
      const reason = expected ? 'Bearer <METRICS_TOKEN>' : 'a loopback caller';
      const detail = expected ? 'metrics need Authorization: Bearer <METRICS_TOKEN>' : 'metrics are answered to loopback callers only (set METRICS_TOKEN to read them remotely)';
      return answerProblem(req, res, new HttpProblem(403, 'Forbidden', detail, [{ name: 'Authorization', reason }]), ['Cache-Control', 'no-store']);
    }
    metrics.text().then(
      (text) => {
        writeEdgeHead(res, 200, ['Content-Type', metrics.registry.contentType, 'Cache-Control', 'no-store']);
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        writeEdgeHead(res, 500, ['Content-Type', 'text/plain']);
        res.end('metrics failed');
      },
    );
    return true;
  };
}

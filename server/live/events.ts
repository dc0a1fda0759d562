import { Router, type Response } from 'express';
import type { ChangeBus, FeatureChange } from '../changes.ts';
import { principalOf } from '../http/principal.ts';
import { HttpProblem } from '../http/problem.ts';
import { getLayer } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';

export interface LiveOptions {
  /**
   * Seconds between heartbeats, so proxies and clients notice a dead link: an `event: heartbeat`
   * (data `{"interval_s": N}`), not a comment, because a browser's EventSource never shows
   * comments to the page, and a wall whose link died without a FIN (a switch, a power cut at the
   * server) must see the silence to say it is no longer live.
   */
  heartbeatSeconds: number;
  /** Events kept for `Last-Event-ID` resume after a reconnect. */
  replayBuffer: number;
  /** Open streams at most; more get 503 (a wall display needs one). */
  maxClients: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = { heartbeatSeconds: 15, replayBuffer: 500, maxClients: 1000 };

interface LiveEvent {
  /** Data version of the change. */
  version: number;
  /** Place among the events of the same data version (one transaction may announce several changes). */
  seq: number;
  layer: string;
  data: string;
}

/** The SSE id of an event: `V` for the first event of data version V, `V.k` for the k-th after it. */
const eventId = (e: Pick<LiveEvent, 'version' | 'seq'>) => (e.seq === 0 ? String(e.version) : `${e.version}.${e.seq}`);

/** Reads a `Last-Event-ID` this stream gave: `V` or `V.k`, canonical decimals only. */
export function parseEventId(text: string): { version: number; seq: number } | undefined {
  const m = /^(0|[1-9]\d{0,15})(?:\.([1-9]\d{0,8}))?$/.exec(text);
  return m ? { version: Number(m[1]), seq: m[2] ? Number(m[2]) : 0 } : undefined;
}

const after = (e: LiveEvent, since: { version: number; seq: number }) => e.version > since.version || (e.version === since.version && e.seq > since.seq);

interface Client {
  res: Response;
  who: Principal;
}

/** The event a live map receives: small, and enough to flash a point or move a bar. */
function toEventData(change: FeatureChange, id: number) {
  const geometry = change.after?.type === 'Point' ? change.after : change.before?.type === 'Point' && change.op === 'delete' ? change.before : undefined;
  return {
    type: change.kind ?? 'feature',
    op: change.op,
    layer: change.layer,
    id: change.id,
    version: id,
    bbox: change.bbox ?? null,
    ...(geometry ? { geometry } : {}),
    ...(change.summary ?? {}),
    at: new Date().toISOString(),
  };
}

/**
 * `GET /events`: Server-Sent Events of committed changes. Every process relays
 * database NOTIFYs to its bus (server/live/notify.ts), so every open map sees
 * every change. Event ids are the data version, with the event's place among
 * that version's events when one transaction announced several (`V`, `V.1`,
 * `V.2`: a flood spot's edit and the shelters it made unusable), so
 * `Last-Event-ID` resumes exactly after the last event a client saw, even in
 * the middle of a transaction's events. Every process numbers them alike: a
 * transaction's notifications reach each listener together and in order. Restricted layers' events go only
 * to callers who may see them.
 */
export function liveEvents(bus: ChangeBus, options: LiveOptions = DEFAULT_LIVE_OPTIONS) {
  const buffer: LiveEvent[] = [];
  const clients = new Set<Client>();
  let lastVersion = 0;
  let lastSeq = -1;

  const write = (c: Client, e: LiveEvent) => {
    const layer = getLayer(e.layer);
    if (layer && !canSeeLayer(layer, c.who)) return;
    c.res.write(`id: ${eventId(e)}\nevent: change\ndata: ${e.data}\n\n`);
  };

  bus.on((change) => {
    // Ids are data versions, so a client resumes exactly where it left off. A
    // notice without a version (e.g. resync after a lost connection) repeats the
    // last id rather than inventing one that a later real change would reuse.
    const version = change.dataVersion ?? lastVersion;
    const seq = version === lastVersion ? lastSeq + 1 : 0;
    if (version >= lastVersion) [lastVersion, lastSeq] = [version, seq];
    const event: LiveEvent = { version, seq, layer: change.layer, data: JSON.stringify(toEventData(change, version)) };
    buffer.push(event);
    if (buffer.length > options.replayBuffer) buffer.splice(0, buffer.length - options.replayBuffer);
    for (const c of clients) write(c, event);
  });

  const beat = `event: heartbeat\ndata: ${JSON.stringify({ interval_s: options.heartbeatSeconds })}\n\n`;
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(beat);
  }, options.heartbeatSeconds * 1000);
  heartbeat.unref();

  const router = Router();
  router.get('/events', (req, res) => {
    const header = req.get('last-event-id');
    const resume = header ?? req.query.lastEventId;
    const since = typeof resume === 'string' ? parseEventId(resume) : undefined;
    if (resume !== undefined && !since) {
      const name = header !== undefined ? 'Last-Event-ID' : 'lastEventId';
      throw new HttpProblem(400, 'Bad Request', `${name} must be an event id this stream sent (V or V.k, decimal digits)`, [
        { name, reason: 'an event id: digits, optionally a dot and digits' },
      ]);
    }
    if (clients.size >= options.maxClients) {
      res.status(503).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title: 'Too many live clients', status: 503 }));
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    // A heartbeat at once: the client learns the interval from the start, not a beat later.
    res.write(`retry: 2000\n: connected, data version ${lastVersion}\n\n${beat}`);
    const client: Client = { res, who: principalOf(req) };
    if (since) for (const e of buffer) if (after(e, since)) write(client, e);
    clients.add(client);
    req.on('close', () => clients.delete(client));
  });

  return {
    router,
    clientCount: () => clients.size,
    /**
     * Tells every open map that the database went away (`up: false`) or is back, as
     * an `event: database` without an id (not a change: a resumed stream does not
     * replay it). Walls then ask /ready at once instead of at their next check.
     */
    database(up: boolean) {
      for (const c of clients) c.res.write(`event: database\ndata: ${JSON.stringify({ up })}\n\n`);
    },
    /**
     * The data version the process starts at (read once it listens): until the first change, the
     * stream counts from it, not from 0. Otherwise a notice without a version sent before any
     * change (a resync) went out as event `0.k`, and a client resuming after it was sent the
     * whole replay buffer again.
     */
    startFrom(version: number) {
      if (lastVersion === 0 && buffer.length === 0) lastVersion = version;
    },
    /** Ends every stream; with `retryMs`, tells clients how long to wait before reconnecting (shutdown). */
    close(retryMs?: number) {
      clearInterval(heartbeat);
      for (const c of clients) c.res.end(retryMs ? `retry: ${retryMs}\n: server shutting down\n\n` : undefined);
      clients.clear();
    },
  };
}

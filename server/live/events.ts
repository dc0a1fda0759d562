import { Router, type Response } from 'express';
import type { ChangeBus, FeatureChange } from '../changes.ts';
import { principalOf } from '../http/principal.ts';
import { parseCanonicalInteger } from '../http/numbers.ts';
import { getLayer } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';

export interface LiveOptions {
  /** Seconds between heartbeat comments, so proxies and clients notice a dead link. */
  heartbeatSeconds: number;
  /** Events kept for `Last-Event-ID` resume after a reconnect. */
  replayBuffer: number;
  /** Open streams at most; more get 503 (a wall display needs one). */
  maxClients: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = { heartbeatSeconds: 15, replayBuffer: 500, maxClients: 1000 };

interface LiveEvent {
  id: number;
  layer: string;
  data: string;
}

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
 * every change. Event ids are the data version, so `Last-Event-ID` resumes
 * exactly after the last change a client saw. Restricted layers' events go only
 * to callers who may see them.
 */
export function liveEvents(bus: ChangeBus, options: LiveOptions = DEFAULT_LIVE_OPTIONS) {
  const buffer: LiveEvent[] = [];
  const clients = new Set<Client>();
  let lastId = 0;

  const write = (c: Client, e: LiveEvent) => {
    const layer = getLayer(e.layer);
    if (layer && !canSeeLayer(layer, c.who)) return;
    c.res.write(`id: ${e.id}\nevent: change\ndata: ${e.data}\n\n`);
  };

  bus.on((change) => {
    // Ids are data versions, so a client resumes exactly where it left off. A
    // notice without a version (e.g. resync after a lost connection) repeats the
    // last id rather than inventing one that a later real change would reuse.
    const id = change.dataVersion ?? lastId;
    lastId = Math.max(lastId, id);
    const event: LiveEvent = { id, layer: change.layer, data: JSON.stringify(toEventData(change, id)) };
    buffer.push(event);
    if (buffer.length > options.replayBuffer) buffer.splice(0, buffer.length - options.replayBuffer);
    for (const c of clients) write(c, event);
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(`: heartbeat ${new Date().toISOString()}\n\n`);
  }, options.heartbeatSeconds * 1000);
  heartbeat.unref();

  const router = Router();
  router.get('/events', (req, res) => {
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
    res.write(`retry: 2000\n: connected, data version ${lastId}\n\n`);
    const client: Client = { res, who: principalOf(req) };
    const resume = req.get('last-event-id') ?? req.query.lastEventId;
    const since = typeof resume === 'string' ? parseCanonicalInteger(resume) : undefined;
    if (since !== undefined && since >= 0) for (const e of buffer) if (e.id > since) write(client, e);
    clients.add(client);
    req.on('close', () => clients.delete(client));
  });

  return {
    router,
    clientCount: () => clients.size,
    /** Ends every stream; with `retryMs`, tells clients how long to wait before reconnecting (shutdown). */
    close(retryMs?: number) {
      clearInterval(heartbeat);
      for (const c of clients) c.res.end(retryMs ? `retry: ${retryMs}\n: server shutting down\n\n` : undefined);
      clients.clear();
    },
  };
}

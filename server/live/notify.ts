import type { Geometry } from 'geojson';
import type { Db, Queryable } from '../db/types.ts';
import type { ChangeBus, FeatureChange } from '../changes.ts';
import type { Logger } from '../log.ts';
import { LAYERS } from '../../tiles/layers.ts';

/**
 * Changes travel through PostgreSQL NOTIFY on both backends. NOTIFY issued in a
 * transaction is delivered only when it commits, so a rolled-back write never
 * reaches a cache or a map; on a real server every process LISTENing on the same
 * database hears every change and keeps its tile cache coherent.
 */
export const CHANGE_CHANNEL = 'onemap_changes';
// NOTIFY payloads are limited to 8000 bytes; big geometries travel as their bbox.
const MAX_PAYLOAD = 7000;

function bboxOf(g: Geometry): [number, number, number, number] {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[];
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    } else for (const part of c as unknown[]) visit(part);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((x) => visit(bboxOf(x)));
  else visit(g.coordinates);
  return [minX, minY, maxX, maxY];
}

function asBoxPolygon(b: [number, number, number, number]): Geometry {
  const [x0, y0, x1, y1] = b;
  return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
}

/** Completes a change with its bbox and shrinks it to fit a NOTIFY payload. */
export function encodeChange(change: FeatureChange): string {
  const geoms = [change.before, change.after].filter((g): g is Geometry => !!g);
  const boxes = geoms.map(bboxOf);
  const bbox =
    change.bbox ??
    (boxes.length
      ? ([Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])), Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))] as [number, number, number, number])
      : undefined);
  let payload = JSON.stringify({ ...change, bbox });
  if (payload.length > MAX_PAYLOAD) {
    payload = JSON.stringify({
      ...change,
      bbox,
      before: change.before ? asBoxPolygon(bboxOf(change.before)) : change.before,
      after: change.after ? asBoxPolygon(bboxOf(change.after)) : change.after,
    });
  }
  return payload;
}

/** Call inside the write's transaction. */
export async function notifyChange(q: Queryable, change: FeatureChange): Promise<void> {
  await q.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, encodeChange(change)]);
}

/** Relays committed changes from the database to the in-process bus. */
export async function relayChanges(db: Db, bus: ChangeBus, log: Logger): Promise<() => Promise<void>> {
  return db.listen(
    CHANGE_CHANNEL,
    (payload) => {
      try {
        bus.emit(JSON.parse(payload) as FeatureChange);
      } catch (err) {
        log.warn(`ignored a malformed change notification: ${(err as Error).message}`);
      }
    },
    // After a lost connection, changes may have been missed: a change without
    // geometry per layer makes every cache drop that whole layer, and tells live maps.
    () => {
      for (const layer of LAYERS) bus.emit({ layer: layer.id, id: 'resync', op: 'update', summary: { resync: true } });
    },
  );
}

import type { Db, Queryable } from '../db/types.ts';
import type { ChangeBus, FeatureChange } from '../changes.ts';
import { WHOLE_LAYER } from '../../catalog/ports.ts';
import type { Logger } from '../log.ts';
import { bboxPolygon, geometryBBox, unionBBox } from '../geo/bbox.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { journalOf } from '../db/data-version.ts';

/**
 * Changes travel through PostgreSQL NOTIFY on both backends. NOTIFY issued in a
 * transaction is delivered only when it commits, so a rolled-back write never
 * reaches a cache or a map; on a real server every process LISTENing on the same
 * database hears every change and keeps its tile cache coherent.
 */
export const CHANGE_CHANNEL = 'onemap_changes';
// NOTIFY payloads are limited to 8000 bytes; big geometries travel as their bbox.
const MAX_PAYLOAD = 7000;

/** Completes a change with its bbox and shrinks it to fit a NOTIFY payload. */
export function encodeChange(change: FeatureChange): string {
  const bbox = change.bbox ?? unionBBox([geometryBBox(change.before), geometryBBox(change.after)]) ?? undefined;
  let payload = JSON.stringify({ ...change, bbox });
  if (payload.length > MAX_PAYLOAD) {
    payload = JSON.stringify({
      ...change,
      bbox,
      before: change.before ? bboxPolygon(geometryBBox(change.before)!) : change.before,
      after: change.after ? bboxPolygon(geometryBBox(change.after)!) : change.after,
    });
  }
  return payload;
}

/**
 * Queues the change in the write's transaction journal: it is sent as the last
 * statement before COMMIT, with the data version the transaction gets
 * (server/db/data-version.ts), and delivered only if it commits.
 */
export function recordChange(q: Queryable, change: Omit<FeatureChange, 'dataVersion'>): void {
  journalOf(q).notify({ channel: CHANGE_CHANNEL, payload: encodeChange(change) });
}

/** A change that may concern any feature of the layer: caches drop it whole, live maps reload it. */
const wholeLayerChange = (layer: string, dataVersion?: number, tables?: string[]): FeatureChange => ({ layer, id: WHOLE_LAYER, op: 'update', summary: { resync: true }, dataVersion, tables });

/** What a transaction that wrote these tables in plain SQL changed: every layer stored in them or described by them (`describedBy`). */
function plainSqlChanges(tables: readonly string[], dataVersion: number): FeatureChange[] {
  return LAYERS.flatMap((l) => {
    const own = tables.filter((t) => t === l.table || l.describedBy?.includes(t));
    return own.length ? [wholeLayerChange(l.id, dataVersion, own)] : [];
  });
}

/**
 * One notification as the changes it announces: the server's writes send one per
 * change; a transaction written in plain SQL sends `{dataVersion, tables}` at COMMIT
 * (migration 017), a change of every layer in those tables.
 */
function changesOf(payload: string): FeatureChange[] {
  const parsed = JSON.parse(payload) as FeatureChange | { dataVersion: number; tables: string[]; layer?: undefined };
  return parsed.layer === undefined ? plainSqlChanges(parsed.tables, parsed.dataVersion) : [parsed];
}

/**
 * Relays committed changes from the database to the in-process bus. `onDatabase`
 * hears when the listening connection drops (false) and is back (true): the first
 * sign, within a second, that the database went away, which live maps are told.
 */
export async function relayChanges(db: Db, bus: ChangeBus, log: Logger, delayMs = 0, onDatabase?: (up: boolean) => void): Promise<() => Promise<void>> {
  return db.listen(
    CHANGE_CHANNEL,
    (payload) => {
      try {
        const changes = changesOf(payload);
        const emit = () => {
          for (const change of changes) bus.emit(change);
        };
        // A slow notification path, on purpose (FAULT_NOTIFY_DELAY_MS): resilience tests only.
        if (delayMs > 0) setTimeout(emit, delayMs);
        else emit();
      } catch (err) {
        log.warn(`ignored a malformed change notification: ${(err as Error).message}`);
      }
    },
    // After a lost connection, changes may have been missed: a change without
    // geometry per layer makes every cache drop that whole layer, and tells live maps.
    () => {
      for (const layer of LAYERS) bus.emit(wholeLayerChange(layer.id));
      onDatabase?.(true);
    },
    () => onDatabase?.(false),
  );
}

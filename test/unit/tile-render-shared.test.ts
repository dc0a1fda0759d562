import { describe, expect, it } from 'vitest';
import { TileService } from '../../tiles/service.ts';
import type { TileEngine, TileQuery } from '../../tiles/engine.ts';
import { getLayer } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import type { Db, Logger, StatementScope } from '../../catalog/ports.ts';

/**
 * Identical requests for an uncached tile share one render: it goes on while any of
 * them is still there, not only while the client that started it is.
 */

const layer = getLayer('shelters')!;

/** An engine whose renders wait until released and stop when the signal of the scope they were handed fires. */
class HeldEngine implements TileEngine {
  readonly kind = 'postgis' as const;
  readonly signals: (AbortSignal | undefined)[] = [];
  private releases: (() => void)[] = [];

  renderLayer(query: TileQuery): Promise<Uint8Array> {
    const signal = query.scope?.signal;
    this.signals.push(signal);
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason));
      this.releases.push(() => resolve(new Uint8Array([0x1a, 0])));
    });
  }

  release(): void {
    for (const r of this.releases.splice(0)) r();
  }

  featureChanged(): void {}
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false } as unknown as Logger;

function service(engine: HeldEngine): TileService {
  const db = { backend: 'embedded' } as unknown as Db;
  return new TileService({ db, changes: { on: () => () => {} }, log: silent }, { engine });
}

/** A request for the z10 tile whose client may leave. */
function client(tiles: TileService) {
  const gone = new AbortController();
  const scope: StatementScope = { kind: 'tiles', signal: gone.signal, started: performance.now() };
  const answer = tiles.tile({ layers: [layer], tile: { z: 10, x: 834, y: 444 }, filters: {}, who: ANONYMOUS, key: 'k', scope }).then(
    (r) => ({ bytes: r.entry.body.length }),
    (e: Error) => ({ error: e.name }),
  );
  return { answer, leave: () => gone.abort() };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Two requests for the same uncached tile; the client of the first has left. */
async function twoClientsOneLeft() {
  const engine = new HeldEngine();
  const tiles = service(engine);
  const a = client(tiles);
  const b = client(tiles);
  await tick();
  a.leave();
  return { engine, tiles, a, b };
}

describe('tile service: a render shared by identical requests', () => {
  it('goes on for the others when the client that started it leaves, and renders once', async () => {
    const { engine, a, b } = await twoClientsOneLeft();
    expect(await a.answer).toEqual({ error: 'AbortError' });
    expect(engine.signals[0]?.aborted).toBe(false);
    engine.release();
    expect(await b.answer).toEqual({ bytes: 2 });
    expect(engine.signals).toHaveLength(1);
  });

  it('stops when every waiting client has left, and the next request renders afresh', async () => {
    const { engine, tiles, b } = await twoClientsOneLeft();
    b.leave();
    expect(await b.answer).toEqual({ error: 'AbortError' });
    expect(engine.signals[0]?.aborted).toBe(true);
    const c = client(tiles);
    await tick();
    engine.release();
    expect(await c.answer).toEqual({ bytes: 2 });
    expect(engine.signals).toHaveLength(2);
  });
});

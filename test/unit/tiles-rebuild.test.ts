import { describe, expect, it } from 'vitest';
import { GeojsonVtEngine } from '../../tiles/engine-geojsonvt.ts';
import { MemoryFeatureSource, type SourceFeature } from '../../tiles/source.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import type { StatementScope } from '../../catalog/ports.ts';

/**
 * The in-process engine's index of a layer is rebuilt once for every request waiting
 * for it: one client leaving does not stop it for the others, and a read that fails
 * leaves the change to be read again rather than lost.
 */

const layer = getLayer('shelters')!;

function shelter(id: number, lon: number): SourceFeature {
  return { id, geometry: { type: 'Point', coordinates: [lon, 23.4] }, properties: { name_zh: `避难场所${id}` } };
}

/** A source whose reads wait until released, stop when the signal they were handed fires, and can be told to fail. */
class HeldSource extends MemoryFeatureSource {
  readonly layerReads: (AbortSignal | undefined)[] = [];
  readonly featureReads: (number | string)[] = [];
  private releases: (() => void)[] = [];
  failNext = false;

  release(): void {
    for (const r of this.releases.splice(0)) r();
  }

  private held<T>(scope: StatementScope | undefined, read: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = scope?.signal;
      signal?.addEventListener('abort', () => reject(signal.reason));
      this.releases.push(() => {
        if (this.failNext) {
          this.failNext = false;
          reject(new Error('canceling statement due to statement timeout'));
        } else read().then(resolve, reject);
      });
    });
  }

  override loadLayer(l: LayerDef, scope?: StatementScope): Promise<SourceFeature[]> {
    this.layerReads.push(scope?.signal);
    return this.held(scope, () => super.loadLayer(l));
  }

  override loadFeature(l: LayerDef, id: number | string, scope?: StatementScope): Promise<SourceFeature | null> {
    this.featureReads.push(id);
    return this.held(scope, () => super.loadFeature(l, id));
  }
}

/** A request for the layer's index whose client may leave. */
function client(engine: GeojsonVtEngine) {
  const gone = new AbortController();
  const answer = engine.ensure(layer, { kind: 'tiles', signal: gone.signal }).then(
    (built) => ({ ok: built }),
    (e: Error) => ({ error: e.name }),
  );
  return { answer, leave: () => gone.abort() };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Two requests waiting for the first build of a layer; the client of the first has left. */
async function twoClientsOneLeft() {
  const source = new HeldSource({ shelters: [shelter(1, 113.2)] });
  const engine = new GeojsonVtEngine(source, { resolveLayer: () => layer });
  const a = client(engine);
  const b = client(engine);
  await tick();
  a.leave();
  return { source, engine, a, b };
}

describe('in-process tile engine: a layer rebuild shared by the requests waiting for it', () => {
  it('goes on for the others when the client that started it leaves, and reads the layer once', async () => {
    const { source, a, b } = await twoClientsOneLeft();
    expect(await a.answer).toEqual({ error: 'AbortError' });
    expect(source.layerReads[0]?.aborted).toBe(false);
    source.release();
    const got = await b.answer;
    expect('ok' in got && got.ok.vt).toBeTruthy();
    expect(source.layerReads).toHaveLength(1);
  });

  it('stops when every waiting client has left, and the next request reads afresh', async () => {
    const { source, engine, b } = await twoClientsOneLeft();
    b.leave();
    expect(await b.answer).toEqual({ error: 'AbortError' });
    expect(source.layerReads[0]?.aborted).toBe(true);
    const c = client(engine);
    await tick();
    source.release();
    expect('ok' in (await c.answer)).toBe(true);
    expect(source.layerReads).toHaveLength(2);
  });

  it('a changed feature whose read failed is read again by the next request, not lost', async () => {
    const source = new HeldSource({ shelters: [shelter(1, 113.2)] });
    const engine = new GeojsonVtEngine(source, { resolveLayer: () => layer });
    const first = client(engine);
    await tick();
    source.release();
    await first.answer;

    source.set('shelters', shelter(1, 113.3));
    engine.featureChanged({ layer: 'shelters', id: 1, op: 'update' });
    source.failNext = true;
    const failed = client(engine);
    await tick();
    source.release();
    expect(await failed.answer).toEqual({ error: 'Error' });

    const again = client(engine);
    await tick();
    source.release();
    const got = await again.answer;
    expect(source.featureReads).toEqual([1, 1]);
    // the index holds the moved shelter: at z0, 113.3 E is x 3337 of 4096 (113.2 E was 3336)
    const z0 = 'ok' in got ? got.ok.vt!.getTile(0, 0, 0) : null;
    expect(z0?.features.map((f) => (f.geometry as number[][])[0][0])).toEqual([Math.round(((113.3 + 180) / 360) * 4096)]);
  });
});

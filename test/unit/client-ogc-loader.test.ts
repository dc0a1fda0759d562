/**
 * The map's fallback loader of OGC items (client/src/ogc-items-loader.ts, used
 * when the server serves no tiles) sends what every other request of the client
 * sends: the API key and the furthest Consistency-Token. OpenLayers' own url
 * loader sends neither, which lost restricted layers and read-your-writes.
 * Fresh copies of the client modules (key and token are module state shared
 * with the other unit files of the worker); sessionStorage and fetch are stubs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Loader = typeof import('../../client/src/ogc-items-loader.ts');
type Auth = typeof import('../../client/src/auth.ts');
type Consistency = typeof import('../../client/src/consistency.ts');

let loaderModule: Loader;
let auth: Auth;
let consistency: Consistency;
const storage = new Map<string, string>();
const sent: { url: string; headers: Record<string, string> }[] = [];
let answer: () => Response;

beforeAll(async () => {
  vi.resetModules();
  vi.stubGlobal('sessionStorage', {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, v),
    removeItem: (k: string) => void storage.delete(k),
  });
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    sent.push({ url, headers: init.headers as Record<string, string> });
    return answer();
  });
  auth = await import('../../client/src/auth.ts');
  consistency = await import('../../client/src/consistency.ts');
  loaderModule = await import('../../client/src/ogc-items-loader.ts');
});
afterAll(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

const projection = { getCode: () => 'EPSG:3857' } as never;
const format = { readFeatures: (json: unknown) => (json as { features: never[] }).features };

describe('the OGC items loader of the map', () => {
  it('sends the key and the furthest Consistency-Token, and keeps a further token it is given', async () => {
    auth.setApiKey('om_test_key');
    consistency.noteConsistencyToken(new Response(null, { headers: { 'Consistency-Token': '0/A0' } }));
    answer = () => new Response(JSON.stringify({ type: 'FeatureCollection', features: [{ id: 1 }, { id: 2 }] }), { headers: { 'Consistency-Token': '0/B0' } });
    const load = loaderModule.ogcItemsLoader((extent) => `/ogc/collections/shelters/items?bbox=${extent.join(',')}`, format as never, () => {});
    const features = await load([1, 2, 3, 4], 10, projection);
    expect(features).toEqual([{ id: 1 }, { id: 2 }]);
    expect(sent.at(-1)!.url).toBe('/ogc/collections/shelters/items?bbox=1,2,3,4');
    expect(sent.at(-1)!.headers).toMatchObject({ Authorization: 'Bearer om_test_key', 'Consistency-Token': '0/A0', Accept: 'application/geo+json' });
    expect(consistency.consistencyHeaders()).toEqual({ 'Consistency-Token': '0/B0' });
  });

  it('a failed load hands back its extent (to be loaded again) and rejects', async () => {
    answer = () => new Response(JSON.stringify({ status: 503, title: 'busy' }), { status: 503, headers: { 'content-type': 'application/problem+json' } });
    const failed: number[][] = [];
    const load = loaderModule.ogcItemsLoader(() => '/ogc/collections/shelters/items', format as never, (e) => failed.push(e));
    await expect(load([5, 6, 7, 8], 10, projection)).rejects.toThrow();
    expect(failed).toEqual([[5, 6, 7, 8]]);
  });
});

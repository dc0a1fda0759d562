import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.ts';
import { joinNames } from '../../server/maps/area.ts';
import { ImageCache, etagOf, type CachedImage } from '../../server/maps/cache.ts';
import { gridCluster } from '../../server/maps/cluster.ts';
import { detectFonts, fontFamilyFor, pickCjkFamily } from '../../server/maps/fonts.ts';
import { legendGroup, legendSize, layerSection } from '../../server/maps/legend.ts';
import { escapeXml, fitText, geometryPath, textWidth } from '../../server/maps/markup.ts';
import { fitBBox, latToWorldY, lonToWorldX, MAX_FIT_ZOOM, worldXToLon, worldYToLat } from '../../server/maps/projection.ts';
import { formatTimestamp, layoutFor, niceLength } from '../../server/maps/svg.ts';
import { getLayer, RISK_COLORS } from '../../catalog/layers.ts';

describe('Web Mercator', () => {
  it('agrees with the XYZ tile grid of the tiles (tile of Guangzhou at z12)', () => {
    // The slippy-map formula (OSM wiki) puts Yuexiu (113.27°E, 23.13°N) in XYZ tile z12 x=3336 y=1777.
    const z = 12;
    const rad = (23.13 * Math.PI) / 180;
    const slippyY = ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * 2 ** z;
    expect(Math.floor(lonToWorldX(113.27) * 2 ** z)).toBe(3336);
    expect(Math.floor(latToWorldY(23.13) * 2 ** z)).toBe(1777);
    expect(latToWorldY(23.13) * 2 ** z).toBeCloseTo(slippyY, 9);
    expect(worldXToLon(lonToWorldX(113.27))).toBeCloseTo(113.27, 9);
    expect(worldYToLat(latToWorldY(23.13))).toBeCloseTo(23.13, 9);
    expect(latToWorldY(0)).toBeCloseTo(0.5, 12);
  });

  it('fits a bbox inside the frame, centred, with padding and aspect preserved', () => {
    const frame = { x: 10, y: 30, width: 400, height: 300 };
    const v = fitBBox([113.0, 23.0, 113.2, 23.1], frame, 20);
    const [x0, y0] = v.project(113.0, 23.1);
    const [x1, y1] = v.project(113.2, 23.0);
    // Wide bbox: touches the side padding, centred vertically.
    expect(x0).toBeCloseTo(frame.x + 20, 6);
    expect(x1).toBeCloseTo(frame.x + frame.width - 20, 6);
    expect((y0 + y1) / 2).toBeCloseTo(frame.y + frame.height / 2, 6);
    expect(y0).toBeGreaterThanOrEqual(frame.y + 20);
    expect(y1).toBeLessThanOrEqual(frame.y + frame.height - 20);
    // The extent is the whole frame.
    const [ex0, , ex1] = v.extent;
    expect(v.project(ex0, 23.05)[0]).toBeCloseTo(frame.x, 6);
    expect(v.project(ex1, 23.05)[0]).toBeCloseTo(frame.x + frame.width, 6);
    // Ground resolution: 0.2° of longitude at 23.05°N ≈ 20.5 km over 360 px.
    expect(v.metresPerPixel * 360).toBeGreaterThan(20_300);
    expect(v.metresPerPixel * 360).toBeLessThan(20_700);
  });

  it('caps the zoom for a degenerate (one-point) bbox', () => {
    const v = fitBBox([113, 23, 113, 23], { x: 0, y: 0, width: 400, height: 300 });
    expect(v.zoom).toBeCloseTo(MAX_FIT_ZOOM, 9);
    expect(v.project(113, 23)).toEqual([200, 150]);
  });
});

describe('grid clustering', () => {
  const pt = (x: number, y: number, rank: number, color = `c${rank}`) => ({ x, y, rank, color });

  it('keeps sparse points and merges dense cells, ring = most severe member', () => {
    const points = [pt(5, 5, 3), pt(6, 6, 3), pt(7, 7, 0, '#red'), pt(8, 8, 2), pt(100, 100, 3), pt(101, 101, 1)];
    const { singles, clusters } = gridCluster(points, 40, 3);
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({ count: 4, color: '#red', x: 6.5, y: 6.5 });
    expect(singles.map((s) => [s.x, s.y])).toEqual([
      [100, 100],
      [101, 101],
    ]);
  });

  it('minPoints decides when a cell becomes a cluster', () => {
    const points = [pt(1, 1, 0), pt(2, 2, 0)];
    expect(gridCluster(points, 40, 2).clusters).toHaveLength(1);
    expect(gridCluster(points, 40, 3).clusters).toHaveLength(0);
  });
});

describe('fonts', () => {
  it('prefers a Simplified-Chinese sans face and skips monospace', () => {
    const out = 'Noto Serif CJK SC\nNoto Sans Mono CJK SC\nNoto Sans CJK JP,Noto Sans CJK JP Regular\nNoto Sans CJK SC,Noto Sans CJK SC Regular\n';
    expect(pickCjkFamily(out)).toBe('Noto Sans CJK SC');
    expect(pickCjkFamily('WenQuanYi Zen Hei\n')).toBe('WenQuanYi Zen Hei');
    expect(pickCjkFamily('')).toBeNull();
    expect(fontFamilyFor('Noto Sans CJK SC')).toMatch(/^'Noto Sans CJK SC', .*sans-serif$/);
  });

  it('warns once (per detection) when no CJK font exists and still gives a font-family', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', (l) => lines.push(l));
    const fonts = await detectFonts(log, async () => '');
    expect(fonts.cjkFamily).toBeNull();
    expect(fonts.fontFamily).toContain('sans-serif');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/warn.*fonts-noto-cjk/);
  });

  it('finds the CJK font installed on this machine (fonts-noto-cjk)', async () => {
    const lines: string[] = [];
    const fonts = await detectFonts(createLogger('warn', (l) => lines.push(l)));
    expect(fonts.cjkFamily, 'install fonts-noto-cjk').toMatch(/CJK/);
    expect(lines).toEqual([]);
  });
});

describe('image cache', () => {
  const image = (bytes: number, layers: string[] = ['risk_points'], extent: [number, number, number, number] | null = [113, 23, 114, 24]): CachedImage => {
    const body = Buffer.alloc(bytes, 1);
    return { body, contentType: 'image/png', etag: etagOf(body), layers: new Set(layers), extent };
  };

  it('evicts the least recently used images beyond its byte and count limits', () => {
    const cache = new ImageCache(300, 10);
    cache.set('a', image(100));
    cache.set('b', image(100));
    cache.set('c', image(100));
    cache.get('a'); // a is now the most recently used
    cache.set('d', image(100));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.totalBytes).toBe(300);
    const byCount = new ImageCache(1e9, 2);
    for (const k of ['a', 'b', 'c']) byCount.set(k, image(1));
    expect(byCount.size).toBe(2);
    cache.set('huge', image(1000));
    expect(cache.get('huge')).toBeUndefined();
  });

  it('an edit drops images of that layer whose extent it touches, and only those', () => {
    const cache = new ImageCache(1e6, 100);
    cache.set('gz', image(10, ['risk_points', 'districts'], [113, 23, 114, 24]));
    cache.set('sz', image(10, ['risk_points'], [114, 22, 115, 23]));
    cache.set('shelters', image(10, ['shelters'], [113, 23, 114, 24]));
    cache.set('legend', image(10, [], null));
    expect(cache.invalidate({ layer: 'risk_points', id: 1, op: 'update', before: { type: 'Point', coordinates: [113.5, 23.5] }, after: { type: 'Point', coordinates: [113.6, 23.5] } })).toBe(1);
    expect(cache.get('gz')).toBeUndefined();
    expect(cache.get('sz')).toBeDefined();
    expect(cache.get('shelters')).toBeDefined();
    // Moving a point from Shenzhen to far away touches the Shenzhen image through `before`.
    expect(cache.invalidate({ layer: 'risk_points', id: 2, op: 'update', before: { type: 'Point', coordinates: [114.5, 22.5] }, after: { type: 'Point', coordinates: [0, 0] } })).toBe(1);
    // A change carrying only its bbox (as relayed through NOTIFY) is placed by it.
    cache.set('gz', image(10, ['risk_points'], [113, 23, 114, 24]));
    expect(cache.invalidate({ layer: 'risk_points', id: 3, op: 'delete', bbox: [120, 30, 121, 31] })).toBe(0);
    expect(cache.invalidate({ layer: 'risk_points', id: 3, op: 'delete', bbox: [113.1, 23.1, 113.2, 23.2] })).toBe(1);
    // No geometry known: every image of the layer goes.
    cache.set('gz', image(10, ['districts'], [113, 23, 114, 24]));
    expect(cache.invalidate({ layer: 'districts', id: 'yuexiu', op: 'update' })).toBe(1);
    expect(cache.get('legend')).toBeDefined();
  });
});

describe('area names', () => {
  it('does not repeat a parent name the unit name already contains', () => {
    expect(joinNames(['坪山区', '坪山街道', '坪山街道第一社区'])).toBe('坪山区坪山街道第一社区');
    expect(joinNames(['越秀区', '洪桥街道'])).toBe('越秀区洪桥街道');
  });
});

describe('markup and layout', () => {
  it('escapes text from the database', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('estimates CJK text as one em per character and shortens with an ellipsis', () => {
    expect(textWidth('越秀区', 10)).toBe(30);
    expect(textWidth('abc', 10)).toBeLessThan(20);
    expect(fitText('应急管理一张图', 10, 45)).toBe('应急管…');
    expect(fitText('短', 10, 45)).toBe('短');
  });

  it('writes polygon paths and skips sub-pixel vertices', () => {
    const d = geometryPath(
      { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10.01, 0.01], [10, 10], [0, 0]]] },
      (x, y) => [x, y],
    );
    expect(d).toBe('M0 0L10 0L10 10L0 0Z');
  });

  it('lays out title, frame, legend and footer; thumbnails are map only', () => {
    const l = layoutFor(600, 400);
    expect(l.frame.x + l.frame.width).toBe(l.legend!.x);
    expect(l.title!.height + l.frame.height + l.footer!.height).toBe(400);
    expect(layoutFor(200, 150)).toMatchObject({ title: null, legend: null, footer: null, frame: { x: 0, y: 0, width: 200, height: 150 } });
  });

  it('chooses 1-2-5 scale-bar lengths', () => {
    expect(niceLength(2400)).toBe(2000);
    expect(niceLength(999)).toBe(500);
    expect(niceLength(150)).toBe(100);
  });

  it('prints the timestamp in China Standard Time', () => {
    expect(formatTimestamp(new Date('2026-11-25T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-26 00:30 (UTC+8)');
  });

  it('legend: registry colours and titles, cut with a note when it does not fit', () => {
    const section = layerSection(getLayer('risk_points')!, 'zh', true);
    expect(section.items.map((i) => i.color)).toEqual([...Object.values(RISK_COLORS), RISK_COLORS.red]);
    expect(section.items[0].label).toBe('重大风险');
    const full = legendGroup([section], 'zh', 0, 0, 200, legendSize([section], 'zh').height + 10);
    expect(full).not.toContain('图例未完');
    const cut = legendGroup([section], 'zh', 0, 0, 200, 70);
    expect(cut).toContain('图例未完');
  });
});

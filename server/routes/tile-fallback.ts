import type { Response } from 'express';
import type { TileArchive } from '../../tiles/archive/archive-reader.ts';
import { pickLayers } from '../../tiles/archive/layer-split.ts';
import { MVT_CONTENT_TYPE, TILE_CSP } from '../../tiles/engine.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import type { TileCoord } from '../../tiles/tile-coords.ts';

/**
 * Tiles from a pre-rendered archive (TILES_ARCHIVE) while the database cannot
 * be reached, so wall displays keep a map instead of going blank. Only public
 * layers the archive holds, only at its zooms; the answer says where it came
 * from and when the copy was made, and is not cached by browsers or proxies,
 * so live tiles return as soon as the database does.
 */
export class TileArchiveFallback {
  private readonly held: Set<string>;

  constructor(readonly archive: TileArchive) {
    this.held = new Set(archive.json.layers ?? archive.json.vector_layers?.map((v) => v.id) ?? []);
  }

  get exportedAt(): string | null {
    return this.archive.json.exported_at ?? null;
  }

  /** What /ready reports while it is in use. */
  describe(): { file: string; exported_at: string | null; layers: string[]; minzoom: number; maxzoom: number } {
    return { file: this.archive.file, exported_at: this.exportedAt, layers: [...this.held], minzoom: this.archive.minzoom, maxzoom: this.archive.maxzoom };
  }

  holds(layers: readonly LayerDef[], tile: TileCoord): boolean {
    return tile.z >= this.archive.minzoom && tile.z <= this.archive.maxzoom && layers.every((l) => this.held.has(l.id));
  }

  async send(res: Response, layers: readonly LayerDef[], tile: TileCoord): Promise<void> {
    const stored = await this.archive.getTile(tile.z, tile.x, tile.y);
    const body = stored ? pickLayers(stored, layers.map((l) => l.id)) : null;
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': TILE_CSP,
      'X-Tiles-Source': 'archive',
      ...(this.exportedAt ? { 'X-Tiles-Archive-Date': this.exportedAt } : {}),
    });
    if (!body) {
      res.status(204).end();
      return;
    }
    res.status(200).type(MVT_CONTENT_TYPE).set('Content-Length', String(body.length)).end(body);
  }
}

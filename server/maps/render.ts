import sharp from 'sharp';
import { HttpProblem } from '../http/problem.ts';
import type { ImageFormat } from './params.ts';

/**
 * Rasterises a composed SVG with sharp (librsvg inside). The SVG carries its
 * output size in its width/height attributes (CSS size × scale), so one user unit
 * is `scale` pixels. The background is flattened to white: the images go into
 * reports and messages, where transparency only causes surprises.
 */
export const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
};

/** Refuse anything larger than this many input pixels, whatever the caller asked (defence in depth behind maxSize). */
const LIMIT_INPUT_PIXELS = 8192 * 8192;

/**
 * `svg` as text, or its UTF-8 bytes (as a worker composes it, server/maps/compose.ts).
 * With `timeoutSeconds` > 0, libvips stops the rasterising after that long and the
 * result is a 422 `Request too costly`: it runs on libuv's threads, outside the worker
 * pool and its budget. libvips checks the clock between the regions it renders, so
 * a slow region can overrun the limit by a few seconds.
 */
export async function rasterise(svg: string | Uint8Array, format: ImageFormat, timeoutSeconds = 0): Promise<Buffer> {
  const input = typeof svg === 'string' ? Buffer.from(svg) : Buffer.from(svg.buffer, svg.byteOffset, svg.byteLength);
  const image = sharp(input, { density: 72, limitInputPixels: LIMIT_INPUT_PIXELS }).flatten({ background: '#ffffff' });
  if (timeoutSeconds > 0) image.timeout({ seconds: timeoutSeconds });
  const encoded =
    format === 'png'
      ? image.png({ compressionLevel: 6 })
      : format === 'webp'
        ? image.webp({ quality: 88 })
        : image.jpeg({ quality: 88, chromaSubsampling: '4:4:4' });
  try {
    return await encoded.toBuffer();
  } catch (err) {
    if (timeoutSeconds > 0 && /\btimeout\b/.test(String((err as Error)?.message))) {
      throw new HttpProblem(
        422,
        'Request too costly',
        `rasterising the map takes more than the ${timeoutSeconds} s allowed per request; choose a smaller area, fewer layers or fewer pixels`,
      );
    }
    throw err;
  }
}

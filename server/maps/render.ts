import sharp from 'sharp';
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

/** `svg` as text, or its UTF-8 bytes (as a worker composes it, server/maps/compose.ts). */
export async function rasterise(svg: string | Uint8Array, format: ImageFormat): Promise<Buffer> {
  const input = typeof svg === 'string' ? Buffer.from(svg) : Buffer.from(svg.buffer, svg.byteOffset, svg.byteLength);
  const image = sharp(input, { density: 72, limitInputPixels: LIMIT_INPUT_PIXELS }).flatten({ background: '#ffffff' });
  switch (format) {
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 88 }).toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 88, chromaSubsampling: '4:4:4' }).toBuffer();
  }
}

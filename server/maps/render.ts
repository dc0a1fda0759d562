import sharp from 'sharp';
import { HttpProblem } from '../http/problem.ts';
import { Gate, type GateOptions } from '../work/gate.ts';
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
 * Rasterisations at once in this process (MAP_RASTER_CONCURRENCY) and waiting
 * (MAP_RASTER_QUEUE_MAX). sharp runs libvips on libuv's thread pool (four threads unless
 * UV_THREADPOOL_SIZE says otherwise), which reading files, compressing answers and DNS
 * also need: six large static maps at once held all four, and the client's page, a small
 * file, then took up to 3.3 s instead of 9 ms (2026-12-06, docs/reliability.md).
 */
export const DEFAULT_RASTER_GATE = { concurrency: 1, maxQueue: 8 };
const RASTER_RETRY_AFTER_S = 2;

let gate = newGate(DEFAULT_RASTER_GATE);

function newGate(o: Pick<GateOptions, 'concurrency' | 'maxQueue'>): Gate {
  return new Gate({ ...o, retryAfterS: RASTER_RETRY_AFTER_S, what: 'image rasterising' });
}

/** The process's rasteriser gate (sharp's threads are the process's, whatever the app). */
export function rasterGate(): Gate {
  return gate;
}

/** Sets the gate's limits; rasterisations running or waiting finish on the gate they entered. */
export function configureRasterGate(o: Pick<GateOptions, 'concurrency' | 'maxQueue'>): Gate {
  if (o.concurrency !== gate.options.concurrency || o.maxQueue !== gate.options.maxQueue) gate = newGate(o);
  return gate;
}

/**
 * `svg` as text, or its UTF-8 bytes (as a worker composes it, server/maps/compose.ts),
 * rasterised once the gate lets it in (a full queue: 503 + Retry-After).
 * With `timeoutSeconds` > 0, libvips stops the rasterising after that long and the
 * result is a 422 `Request too costly`: it runs on libuv's threads, outside the worker
 * pool and its budget. The time waiting at the gate does not count. libvips checks the
 * clock between the regions it renders, so a slow region can overrun the limit by a few seconds.
 */
export function rasterise(svg: string | Uint8Array, format: ImageFormat, signal: AbortSignal | undefined, timeoutSeconds = 0): Promise<Buffer> {
  return gate.run(() => rasteriseNow(svg, format, timeoutSeconds), signal);
}

async function rasteriseNow(svg: string | Uint8Array, format: ImageFormat, timeoutSeconds: number): Promise<Buffer> {
  const input = typeof svg === 'string' ? Buffer.from(svg) : Buffer.from(svg.buffer, svg.byteOffset, svg.byteLength);
  const image = sharp(input, { density: 72, limitInputPixels: LIMIT_INPUT_PIXELS }).flatten({ background: '#ffffff' });
  if (timeoutSeconds > 0) image.timeout({ seconds: timeoutSeconds });
  const encoded =
    format === 'png'
      ? image.png({ compressionLevel: 6 })
      : format === 'webp'
        ? image.webp({ quality: 88 })
        : image.jpeg({ quality: 88, chromaSubsampling: '4:4:4' });
  const started = performance.now();
  try {
    return await encoded.toBuffer();
  } catch (err) {
    if (timeoutSeconds > 0 && stoppedByTimeout(String((err as Error)?.message), performance.now() - started, timeoutSeconds)) {
      throw new HttpProblem(
        422,
        'Request too costly',
        `rasterising the map takes more than the ${timeoutSeconds} s allowed per request; choose a smaller area, fewer layers or fewer pixels`,
      );
    }
    throw err;
  }
}

/**
 * Whether libvips failed because its time limit stopped it. Stopped while reading the
 * SVG it says "timeout"; stopped while the encoder was writing, the encoder only says it
 * could not write ("vips2png: unable to write to target target"), so a failure at or past
 * the limit counts as the limit too.
 */
export function stoppedByTimeout(message: string, elapsedMs: number, timeoutSeconds: number): boolean {
  return /\btimeout\b/.test(message) || elapsedMs >= timeoutSeconds * 1000;
}

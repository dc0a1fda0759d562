import type { Request } from 'express';

/**
 * Absolute base URL for links in responses. GDAL and QGIS resolve root-relative
 * links wrongly, so every href we emit is absolute: PUBLIC_URL when configured
 * (behind a proxy), else the scheme and Host of the request.
 */
export function baseUrl(req: Request, publicUrl?: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

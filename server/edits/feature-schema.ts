import { z } from 'zod';
import type { Geometry } from 'geojson';
import type { LayerDef, LayerProperty } from '../../catalog/layers.ts';
import type { Principal } from '../../catalog/access.ts';
import { visibleProperties } from '../../catalog/access.ts';

/**
 * Validation of edited features, derived from the layer registry: property
 * types, enums, bounds, required fields and geometry type. The database checks
 * the same rules again (CHECKs, SRID, validity) — this layer gives clear messages.
 */

const GEOMETRY_TYPES: Record<LayerDef['geometry'], readonly string[]> = {
  point: ['Point'],
  line: ['LineString', 'MultiLineString'],
  polygon: ['Polygon', 'MultiPolygon'],
};

const lon = z.number({ message: 'a longitude (number)' }).finite('a finite longitude').min(-180, 'a longitude within -180..180').max(180, 'a longitude within -180..180');
const lat = z.number({ message: 'a latitude (number)' }).finite('a finite latitude').min(-90, 'a latitude within -90..90').max(90, 'a latitude within -90..90');
const position = z.tuple([lon, lat], { message: 'a [longitude, latitude] pair' }).or(z.tuple([lon, lat, z.number().finite()]));
const line = z.array(position).min(2, 'a line needs at least 2 positions').max(100_000, 'at most 100,000 positions');
const ring = z
  .array(position)
  .min(4, 'a polygon ring needs at least 4 positions')
  .max(100_000, 'at most 100,000 positions')
  .refine((r) => r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1], 'a closed ring (first position = last)');
const polygon = z.array(ring).min(1, 'a polygon needs an outer ring');

const geometrySchemas = {
  Point: z.object({ type: z.literal('Point'), coordinates: position }).strict(),
  LineString: z.object({ type: z.literal('LineString'), coordinates: line }).strict(),
  MultiLineString: z.object({ type: z.literal('MultiLineString'), coordinates: z.array(line).min(1) }).strict(),
  Polygon: z.object({ type: z.literal('Polygon'), coordinates: polygon }).strict(),
  MultiPolygon: z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(polygon).min(1) }).strict(),
} as const;

export function geometrySchema(layer: LayerDef): z.ZodType<Geometry> {
  const allowed = GEOMETRY_TYPES[layer.geometry];
  return z
    .object({ type: z.string() }, { message: `a GeoJSON geometry of type ${allowed.join(' or ')}` })
    .passthrough()
    .superRefine((g, ctx) => {
      if (!allowed.includes(g.type)) {
        ctx.addIssue({ code: 'custom', message: `a GeoJSON geometry of type ${allowed.join(' or ')}, not ${g.type}` });
        return;
      }
      const r = geometrySchemas[g.type as keyof typeof geometrySchemas].safeParse(g);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }) as unknown as z.ZodType<Geometry>;
}

function propertySchema(prop: LayerProperty): z.ZodType {
  const bounds = prop.min !== undefined || prop.max !== undefined ? ` ${prop.min ?? '-∞'}..${prop.max ?? '∞'}` : '';
  switch (prop.type) {
    case 'string':
      return prop.enum
        ? z.enum(prop.enum as [string, ...string[]], { message: `one of ${prop.enum.join(', ')}` })
        : z.string({ message: 'a string' }).trim().min(1, 'a non-empty string').max(500, 'at most 500 characters');
    case 'integer': {
      let s = z.number({ message: `an integer${bounds}` }).int(`an integer${bounds}`);
      if (prop.min !== undefined) s = s.min(prop.min, `an integer${bounds}`);
      if (prop.max !== undefined) s = s.max(prop.max, `an integer${bounds}`);
      return s;
    }
    case 'number': {
      let s = z.number({ message: `a number${bounds}` }).finite(`a finite number${bounds}`);
      if (prop.min !== undefined) s = s.min(prop.min, `a number${bounds}`);
      if (prop.max !== undefined) s = s.max(prop.max, `a number${bounds}`);
      return s;
    }
    case 'boolean':
      return z.boolean({ message: 'true or false' });
    case 'date':
      return z.iso.date({ message: 'a date YYYY-MM-DD' });
    case 'datetime':
      return z.iso.datetime({ message: 'an RFC 3339 date-time in UTC (2026-12-05T06:00:00Z)' });
  }
}

/** Properties an edit may set: visible to the caller and not server-owned. */
export function writableProperties(layer: LayerDef, who: Principal): LayerProperty[] {
  return visibleProperties(layer, who).filter((p) => !p.readOnly);
}

/**
 * Schema of a feature's properties. `partial` for PATCH (every field optional);
 * otherwise required fields must be present. Unknown fields are refused, so a
 * typo never silently drops data. Optional fields accept null to clear them.
 */
export function propertiesSchema(layer: LayerDef, who: Principal, partial: boolean) {
  const shape: Record<string, z.ZodType> = {};
  for (const prop of writableProperties(layer, who)) {
    const base = propertySchema(prop);
    shape[prop.name] = partial || !prop.required ? (prop.required ? base.optional() : base.nullable().optional()) : base;
  }
  return z.object(shape).strict();
}

export function featureSchema(layer: LayerDef, who: Principal, partial: boolean) {
  return z
    .object({
      type: z.literal('Feature', { message: 'a GeoJSON Feature' }),
      id: z.union([z.string(), z.number()]).optional(),
      geometry: partial ? geometrySchema(layer).optional() : geometrySchema(layer),
      properties: propertiesSchema(layer, who, partial),
    })
    .strict();
}

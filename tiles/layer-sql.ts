import { ident, utcMomentSql } from '../catalog/sql-names.ts';
import type { LayerDef, LayerProperty } from '../catalog/layers.ts';

/**
 * SQL fragments derived from the layer registry, shared by the feature source
 * of the geojson-vt engine and the ST_AsMVT statements, so both read the same
 * rows and give every property the same type. Identifiers come from the
 * registry only (checked here), never from a request.
 */

/**
 * A property as it leaves the database: numerics as float8 (ST_AsMVT would write
 * `numeric` as a string), integers as int8, dates as 'YYYY-MM-DD' whatever the
 * server's DateStyle, moments as RFC 3339 in UTC.
 */
export function propertyExpr(prop: LayerProperty, alias = 't'): string {
  const col = `${alias}.${ident(prop.name)}`;
  switch (prop.type) {
    case 'number':
      return `${col}::float8`;
    case 'integer':
      return `${col}::int8`;
    case 'date':
      return `to_char(${col}, 'YYYY-MM-DD')`;
    case 'datetime':
      return utcMomentSql(col);
    default:
      return col;
  }
}

export function propertySqlType(prop: LayerProperty): string {
  switch (prop.type) {
    case 'number':
      return 'float8';
    case 'integer':
      return 'int8';
    case 'boolean':
      return 'boolean';
    default:
      return 'text';
  }
}

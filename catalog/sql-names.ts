/**
 * SQL names built from the layer registry. Identifiers come from the registry
 * only, never from a request; anything that is not a plain lower-case name is a
 * registry bug and throws.
 */

const PLAIN_NAME = /^[a-z_][a-z0-9_]*$/;

/** A registry identifier (table or column), double-quoted. */
export function ident(name: string): string {
  if (!PLAIN_NAME.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A `datetime` property as it leaves the database: RFC 3339 in UTC (2026-12-05T06:00:00Z), whatever the server's TimeZone. */
export function utcMomentSql(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
}

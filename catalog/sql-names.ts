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

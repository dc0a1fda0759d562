/**
 * Every fixed list of values is written twice: in the code (the layer
 * registry's property enums, the key roles, the LEC factor tables) and in a SQL
 * CHECK of the table that stores it. This test reads the CHECK lists from the
 * database catalogue (pg_constraint) and ties each to its list in the code, both
 * ways: a value added on one side only, or a new CHECK list nobody ties, fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { ROLES } from '../../server/auth/keys.ts';
import { LEC_VALUES } from '../../server/risk/grading.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
/** "table.column" → the values its CHECK allows. */
let checkLists: Map<string, string[]>;

/** Lists whose values the code only spells as TypeScript types (no runtime list to compare). */
const UNTIED = new Set(['audit_log.operation', 'shelter_checkins.direction']);

/**
 * `CHECK ((level = ANY (ARRAY['red'::text, …])))` → level, [red, …]. Numbers come
 * back as `0.1`, `(1)::numeric` or `1.0`; they are compared as numbers.
 */
function parseInList(def: string): { column: string; values: string[] } | null {
  const m = /^CHECK \(\(?"?(\w+)"?(?:::text)? = ANY \(\(?ARRAY\[(.*)\]\)?(?:::text\[\])?\)\)?\)$/.exec(def);
  if (!m) return null;
  const values = m[2].split(/,\s*/).map((v) => {
    const s = /^'(.*)'::[\w ]+$/.exec(v)?.[1] ?? v.replace(/::[\w ]+$/, '').replace(/^\((.*)\)$/, '$1');
    return s;
  });
  return { column: m[1], values };
}

beforeAll(async () => {
  db = await testDb();
  const r = await db.query<{ tbl: string; def: string }>(
    `SELECT c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'c' AND n.nspname = 'public'`,
  );
  checkLists = new Map();
  for (const row of r.rows) {
    const parsed = parseInList(row.def);
    if (parsed) checkLists.set(`${row.tbl}.${parsed.column}`, parsed.values);
  }
});
afterAll(async () => db?.close());

const sorted = (values: readonly (string | number)[]) => values.map(String).sort();
const asNumbers = (values: readonly (string | number)[]) => values.map(Number).sort((a, b) => a - b);

describe('code vocabularies and SQL CHECK lists', () => {
  it('reads the CHECK lists from the catalogue (the parser is not blind)', () => {
    expect(checkLists.get('risk_points.level')).toEqual(['red', 'orange', 'yellow', 'blue']);
    expect(asNumbers(checkLists.get('risk_points.lec_l')!)).toEqual([0.1, 0.2, 0.5, 1, 3, 6, 10]);
    expect(checkLists.size).toBeGreaterThan(15);
  });

  it('every enum of a layer property equals the CHECK list of its column', () => {
    const mismatches: string[] = [];
    for (const layer of LAYERS) {
      if (!layer.table) continue;
      for (const prop of layer.properties) {
        if (!prop.enum) continue;
        const key = `${layer.table}.${prop.name}`;
        const check = checkLists.get(key);
        // District ids are rows of `districts` (a foreign key), not a CHECK list.
        if (!check && prop.name === 'district_id') continue;
        if (!check) mismatches.push(`${key}: registry enum ${prop.enum.join(',')} but no CHECK list`);
        else if (sorted(check).join() !== sorted(prop.enum).join()) mismatches.push(`${key}: registry ${sorted(prop.enum)} ≠ CHECK ${sorted(check)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('the registry district ids are exactly the seeded districts', async () => {
    const layer = LAYERS.find((l) => l.properties.some((p) => p.name === 'district_id' && p.enum))!;
    const ids = layer.properties.find((p) => p.name === 'district_id')!.enum!;
    const rows = await db.query<{ id: string }>('SELECT id FROM districts');
    expect(sorted(rows.rows.map((r) => r.id))).toEqual(sorted(ids));
  });

  it('key roles and LEC factor values equal their CHECK lists', () => {
    expect(sorted(checkLists.get('api_keys.role')!)).toEqual(sorted(ROLES));
    for (const k of ['l', 'e', 'c'] as const) expect(asNumbers(checkLists.get(`risk_points.lec_${k}`)!), `lec_${k}`).toEqual(asNumbers(LEC_VALUES[k]));
  });

  it('every CHECK list is tied to a list in the code', () => {
    const tied = new Set<string>(['api_keys.role', 'risk_points.lec_l', 'risk_points.lec_e', 'risk_points.lec_c', ...UNTIED]);
    for (const layer of LAYERS) for (const p of layer.properties) if (layer.table && p.enum) tied.add(`${layer.table}.${p.name}`);
    expect([...checkLists.keys()].filter((k) => !tied.has(k)).sort()).toEqual([]);
  });
});

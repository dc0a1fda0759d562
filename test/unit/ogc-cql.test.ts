import { describe, expect, it } from 'vitest';
import { CqlError, checkCql, cqlToSql, parseCql2Text } from '../../server/ogc/cql.ts';
import { getLayer } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { queryables as queryablesOf } from '../../server/ogc/params.ts';

const queryables = queryablesOf(getLayer('risk_points')!, ANONYMOUS);

function sql(text: string): { sql: string; values: unknown[] } {
  const node = parseCql2Text(text);
  checkCql(node, queryables);
  const values: unknown[] = [];
  const out = cqlToSql(node, queryables, (n) => `t."${n}"`, (v) => (values.push(v), `$${values.length}`), 't."geom"');
  return { sql: out, values };
}

const fails = (text: string) => {
  try {
    const node = parseCql2Text(text);
    checkCql(node, queryables);
  } catch (err) {
    expect(err).toBeInstanceOf(CqlError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${text}`);
};

describe('CQL2-text grammar', () => {
  it('comparisons bind every value as a parameter, typed by the property', () => {
    expect(sql(`level = 'red'`)).toEqual({ sql: `(t."level" = $1::text)`, values: ['red'] });
    expect(sql(`last_inspection >= DATE('2024-06-01')`)).toEqual({ sql: `(t."last_inspection" >= $1::date)`, values: ['2024-06-01'] });
    expect(sql(`"district_id" <> 'huadu'`).values).toEqual(['huadu']);
  });

  it('AND binds tighter than OR; NOT and parentheses nest', () => {
    expect(sql(`level = 'red' OR level = 'blue' AND district_id = 'huadu'`).sql).toBe(
      `((t."level" = $1::text) OR ((t."level" = $2::text) AND (t."district_id" = $3::text)))`,
    );
    expect(sql(`NOT (level = 'red' OR level = 'blue')`).sql).toBe(`(NOT ((t."level" = $1::text) OR (t."level" = $2::text)))`);
    expect(sql(`not level = 'red' and TRUE`).sql).toBe(`((NOT (t."level" = $1::text)) AND true)`);
  });

  it('LIKE, BETWEEN, IN, IS NULL with their NOT forms', () => {
    expect(sql(`street_id LIKE 'ogct%'`)).toEqual({ sql: `(t."street_id" LIKE $1::text)`, values: ['ogct%'] });
    expect(sql(`street_id NOT LIKE 'x_'`).sql).toBe(`(t."street_id" NOT LIKE $1::text)`);
    expect(sql(`last_inspection BETWEEN DATE('2024-01-01') AND DATE('2024-02-01')`).values).toEqual(['2024-01-01', '2024-02-01']);
    expect(sql(`level NOT IN ('red', 'orange')`)).toEqual({ sql: `(t."level" NOT IN ($1::text, $2::text))`, values: ['red', 'orange'] });
    expect(sql(`last_inspection IS NULL`).sql).toBe(`(t."last_inspection" IS NULL)`);
    expect(sql(`last_inspection IS NOT NULL`).sql).toBe(`(t."last_inspection" IS NOT NULL)`);
  });

  it('strings: doubled quotes, injection attempts stay values', () => {
    expect(sql(`street_id = 'it''s'`).values).toEqual(["it's"]);
    const evil = sql(`street_id = 'x''); DROP TABLE risk_points; --'`);
    expect(evil.sql).toBe(`(t."street_id" = $1::text)`);
    expect(evil.values).toEqual(["x'); DROP TABLE risk_points; --"]);
  });

  it('S_INTERSECTS with WKT and BBOX literals, rewritten from the parsed numbers', () => {
    expect(sql(`S_INTERSECTS(geometry, POINT(113.27 23.13))`)).toEqual({ sql: `ST_Intersects(t."geom", ST_GeomFromText($1::text, 4326))`, values: ['POINT(113.27 23.13)'] });
    expect(sql(`S_INTERSECTS(geometry, BBOX(113.2, 23.1, 113.3, 23.2))`).values).toEqual(['POLYGON((113.2 23.1,113.3 23.1,113.3 23.2,113.2 23.2,113.2 23.1))']);
    expect(sql(`s_intersects(geometry, POLYGON((113 23, 114 23, 114 24, 113 23)))`).values).toEqual(['POLYGON((113 23,114 23,114 24,113 23))']);
    expect(sql(`S_INTERSECTS(geometry, MULTIPOINT((113 23), (114 24)))`).values).toEqual(['MULTIPOINT(113 23,114 24)']);
    expect(sql(`S_INTERSECTS(geometry, LINESTRING(113 23, 114 24 5))`).values).toEqual(['LINESTRING(113 23,114 24)']);
  });

  it('every spatial literal of the grammar (basic-spatial-functions-plus): Z, GEOMETRYCOLLECTION, either argument order', () => {
    expect(sql(`S_INTERSECTS(geometry, POINT Z(113 23 40))`).values).toEqual(['POINT(113 23)']);
    expect(sql(`S_INTERSECTS(geometry, MULTILINESTRING((113 23, 114 24), (113.5 23, 113.5 24)))`).values).toEqual(['MULTILINESTRING((113 23,114 24),(113.5 23,113.5 24))']);
    expect(sql(`S_INTERSECTS(geometry, MULTIPOLYGON(((113 23, 114 23, 114 24, 113 23)), ((110 20, 111 20, 111 21, 110 20))))`).values).toEqual([
      'MULTIPOLYGON(((113 23,114 23,114 24,113 23)),((110 20,111 20,111 21,110 20)))',
    ]);
    expect(sql(`S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(113 23), LINESTRING Z(113 23 1, 114 24 2)))`).values).toEqual([
      'GEOMETRYCOLLECTION(POINT(113 23),LINESTRING(113 23,114 24))',
    ]);
    expect(sql(`S_INTERSECTS(BBOX(113.2, 23.1, 0, 113.3, 23.2, 100), geometry)`).values).toEqual(['POLYGON((113.2 23.1,113.3 23.1,113.3 23.2,113.2 23.2,113.2 23.1))']);
    expect(sql(`geometry IS NOT NULL`).sql).toBe(`(t."geom" IS NOT NULL)`);
  });

  it('character literals take the CQL2-text escapes; other backslash pairs stay for LIKE', () => {
    expect(sql(`street_id = 'it\\'s'`).values).toEqual(["it's"]);
    expect(sql(`street_id = 'a\\tb\\nc\\rd\\\\e'`).values).toEqual(['a\tb\nc\rd\\e']);
    expect(sql(`street_id = '\\a\\b\\v\\f'`).values).toEqual(['\x07\b\v\f']);
    expect(sql(`street_id LIKE 'ogct\\_h%'`).values).toEqual(['ogct\\_h%']);
  });

  it('refuses unknown properties, naming them and the queryables', () => {
    expect(fails(`levle = 'red'`)).toMatch(/unknown property 'levle'.*level/);
    expect(fails(`contact_phone = '1'`)).toMatch(/unknown property 'contact_phone'/);
    expect(fails(`name_zh = 'x'`)).toMatch(/unknown property 'name_zh'/);
    // identifiers of the CQL2 grammar beyond ASCII: named, not a syntax error
    expect(fails(`等级 = 'red'`)).toMatch(/unknown property '等级'/);
    expect(fails(`ns:level.code = 'red'`)).toMatch(/unknown property 'ns:level.code'/);
    expect(fails(`S_INTERSECTS(geom, POINT(1 2))`)).toMatch(/unknown property 'geom'/);
    expect(fails(`geometry = 'x'`)).toMatch(/S_INTERSECTS/);
  });

  it('refuses wrong types, values outside a fixed list, and bad syntax with a position', () => {
    expect(fails(`level = 3`)).toMatch(/'level' is compared with a 'string'/);
    expect(fails(`level = 'purple'`)).toMatch(/not a value of 'level': red, orange, yellow, blue/);
    expect(fails(`last_inspection > DATE('2024-02-30')`)).toMatch(/not a valid date/);
    expect(fails(`level LIKE 3`)).toMatch(/LIKE needs a string/);
    expect(fails(`level = 'red' AND`)).toMatch(/at the end/);
    expect(fails(`level = 'red' level = 'blue'`)).toMatch(/character 15/);
    expect(fails(`level == 'red'`)).toMatch(/expected a literal/);
    expect(fails(`(level = 'red'`)).toMatch(/expected '\)'/);
    expect(fails(`level = 'red`)).toMatch(/unterminated string/);
    expect(fails(`'red' = level`)).toMatch(/expected a property name/);
    expect(fails(`S_INTERSECTS(geometry, POINT(200 23))`)).toMatch(/outside CRS84/);
    expect(fails(`S_INTERSECTS(geometry, BBOX(1, 2, 3))`)).toMatch(/BBOX takes 4 numbers/);
    expect(fails(`S_INTERSECTS(level, POINT(1 2))`)).toMatch(/'level' is not a geometry/);
    expect(fails(`S_INTERSECTS(geometry, POLYGON((113 23, 114 23, 113 23)))`)).toMatch(/at least 4 positions at character 32/);
    expect(fails(`S_INTERSECTS(geometry, POLYGON((113 23, 114 23, 114 24, 113 24)))`)).toMatch(/end where it starts/);
    expect(fails(`S_INTERSECTS(geometry, LINESTRING(113 23))`)).toMatch(/at least 2 positions/);
    expect(fails(`S_INTERSECTS(geometry, GEOMETRYCOLLECTION(BBOX(1, 2, 3, 4)))`)).toMatch(/expected a geometry literal/);
    expect(fails(`level; DROP TABLE x`)).toMatch(/unexpected character ';'/);
    expect(fails('')).toMatch(/empty/);
    expect(fails('('.repeat(60) + `level = 'red'` + ')'.repeat(60))).toMatch(/nested/);
  });
});

import type { LayerProperty } from '../../catalog/layers.ts';

/**
 * CQL2-text filters (OGC API – Features Part 3, `filter=` with
 * `filter-lang=cql2-text`): a small recursive-descent grammar of our own (no
 * maintained npm CQL2 parser fits), turned into a typed tree that is checked
 * against the collection's queryables, and then into SQL where every value is
 * a bound parameter and every column name comes from the registry.
 *
 * Supported: comparisons (= <> < <= > >=), AND / OR / NOT, parentheses,
 * [NOT] LIKE, [NOT] BETWEEN, [NOT] IN (…), IS [NOT] NULL, TRUE / FALSE,
 * DATE('…') and TIMESTAMP('…') literals, and S_INTERSECTS(geometry, <spatial
 * literal>) with every literal of the CQL2 grammar (POINT … MULTIPOLYGON,
 * GEOMETRYCOLLECTION, BBOX, with or without Z) in CRS84 longitude/latitude.
 * Character literals take CQL2-text escapes (\' and '' for a quote, \\, \t, \n …).
 * A property is always compared with literals (no property-to-property
 * comparison, no arithmetic, no functions), which CQL2's permissions allow for
 * Basic CQL2 and the advanced comparison operators.
 */

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'date'; value: string }
  | { kind: 'timestamp'; value: string };

export type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type CqlNode =
  | { op: 'and' | 'or'; args: CqlNode[] }
  | { op: 'not'; arg: CqlNode }
  | { op: 'const'; value: boolean }
  | { op: 'cmp'; property: string; cmp: CmpOp; value: Literal }
  | { op: 'like'; property: string; pattern: string; negated: boolean }
  | { op: 'between'; property: string; low: Literal; high: Literal; negated: boolean }
  | { op: 'in'; property: string; values: Literal[]; negated: boolean }
  | { op: 'isNull'; property: string; negated: boolean }
  /** `wkt` is rebuilt from the parsed coordinates, never the caller's text; `property` must be the geometry. */
  | { op: 'intersects'; property: string; wkt: string };

/** A CQL2 syntax or semantic error; the message says where and what is allowed. */
export class CqlError extends Error {}

// ---------------------------------------------------------------- tokens

type Token =
  | { t: 'ident'; v: string; quoted: boolean; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'punct'; v: string; at: number }
  | { t: 'end'; at: number };

const MAX_LENGTH = 10_000;

/** Backslash escapes of a CQL2-text character literal. */
const ESCAPES: Record<string, string> = { "'": "'", '\\': '\\', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r' };
/** CQL2 identifiers: letters (any script), `_` and `:` first; then also digits, `.` and combining marks. */
const IDENT_START = /[\p{L}_:]/u;
const IDENT = /[\p{L}_:][\p{L}\p{N}\p{M}_:.\u203F\u2040]*/uy;

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new CqlError(`longer than ${MAX_LENGTH} characters`);
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new CqlError(`unterminated string starting at character ${at + 1}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] === '\\' && i + 1 < text.length) {
          // CQL2-text escapes (/req/cql2-text/escaping). Any other backslash pair is kept
          // as written, so LIKE patterns keep their own escapes (\% and \_).
          const escaped = ESCAPES[text[i + 1]];
          v += escaped ?? text.slice(i, i + 2);
          i += 2;
          continue;
        }
        v += text[i++];
      }
      out.push({ t: 'string', v, at });
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new CqlError(`unterminated quoted name at character ${at + 1}`);
      out.push({ t: 'ident', v: text.slice(i + 1, end), quoted: true, at });
      i = end + 1;
    } else if (/[0-9.]/.test(c) || ((c === '-' || c === '+') && /[0-9.]/.test(text[i + 1] ?? ''))) {
      const m = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw new CqlError(`bad number at character ${at + 1}`);
      out.push({ t: 'number', v: Number(m[0]), at });
      i += m[0].length;
    } else if (IDENT_START.test(c)) {
      IDENT.lastIndex = i;
      const m = IDENT.exec(text)!;
      out.push({ t: 'ident', v: m[0], quoted: false, at });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (two === '<>' || two === '<=' || two === '>=') {
        out.push({ t: 'punct', v: two, at });
        i += 2;
      } else if ('()=<>,'.includes(c)) {
        out.push({ t: 'punct', v: c, at });
        i++;
      } else {
        throw new CqlError(`unexpected character '${c}' at character ${at + 1}`);
      }
    }
  }
  out.push({ t: 'end', at: text.length });
  return out;
}

// ---------------------------------------------------------------- parser

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'LIKE', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'DATE', 'TIMESTAMP', 'S_INTERSECTS', 'BBOX']);
const WKT_TYPES = ['POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'] as const;
/** Words that start a spatial literal (rule spatialInstance). */
const GEOMETRY_WORDS = [...WKT_TYPES, 'GEOMETRYCOLLECTION', 'BBOX'] as const;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private where(tok: Token = this.peek()): string {
    return tok.t === 'end' ? 'at the end' : `at character ${tok.at + 1}`;
  }
  private isKeyword(word: string, tok: Token = this.peek()): boolean {
    return tok.t === 'ident' && !tok.quoted && tok.v.toUpperCase() === word;
  }
  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }
  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw new CqlError(`expected ${word} ${this.where()}`);
  }
  private acceptPunct(p: string): boolean {
    const tok = this.peek();
    if (tok.t === 'punct' && tok.v === p) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw new CqlError(`expected '${p}' ${this.where()}`);
  }

  parse(): CqlNode {
    const node = this.or();
    if (this.peek().t !== 'end') throw new CqlError(`unexpected ${describe(this.peek())} ${this.where()}`);
    return node;
  }

  private or(): CqlNode {
    const args = [this.and()];
    while (this.acceptKeyword('OR')) args.push(this.and());
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private and(): CqlNode {
    const args = [this.not()];
    while (this.acceptKeyword('AND')) args.push(this.not());
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private not(): CqlNode {
    if (this.acceptKeyword('NOT')) return { op: 'not', arg: this.not() };
    return this.primary();
  }

  private primary(): CqlNode {
    if (++this.depth > 50) throw new CqlError('nested more than 50 levels deep');
    try {
      if (this.acceptPunct('(')) {
        const node = this.or();
        this.expectPunct(')');
        return node;
      }
      if (this.acceptKeyword('TRUE')) return { op: 'const', value: true };
      if (this.acceptKeyword('FALSE')) return { op: 'const', value: false };
      if (this.acceptKeyword('S_INTERSECTS')) return this.intersects();
      return this.predicate();
    } finally {
      this.depth--;
    }
  }

  private property(): string {
    const tok = this.next();
    if (tok.t !== 'ident' || (!tok.quoted && KEYWORDS.has(tok.v.toUpperCase()))) {
      throw new CqlError(`expected a property name ${this.where(tok)}, found ${describe(tok)} (a property is compared with literals: name = 'value')`);
    }
    return tok.v;
  }

  private predicate(): CqlNode {
    const property = this.property();
    if (this.acceptKeyword('IS')) {
      const negated = this.acceptKeyword('NOT');
      this.expectKeyword('NULL');
      return { op: 'isNull', property, negated };
    }
    const negated = this.acceptKeyword('NOT');
    if (this.acceptKeyword('LIKE')) {
      const tok = this.next();
      if (tok.t !== 'string') throw new CqlError(`LIKE needs a string pattern ${this.where(tok)}`);
      return { op: 'like', property, pattern: tok.v, negated };
    }
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.literal();
      this.expectKeyword('AND');
      return { op: 'between', property, low, high: this.literal(), negated };
    }
    if (this.acceptKeyword('IN')) {
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.acceptPunct(',')) values.push(this.literal());
      this.expectPunct(')');
      return { op: 'in', property, values, negated };
    }
    if (negated) throw new CqlError(`expected LIKE, BETWEEN or IN after NOT ${this.where()}`);
    const tok = this.next();
    if (tok.t !== 'punct' || !['=', '<>', '<', '<=', '>', '>='].includes(tok.v)) {
      throw new CqlError(`expected a comparison (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS after '${property}' ${this.where(tok)}`);
    }
    return { op: 'cmp', property, cmp: tok.v as CmpOp, value: this.literal() };
  }

  private literal(): Literal {
    const tok = this.next();
    if (tok.t === 'string') return { kind: 'string', value: tok.v };
    if (tok.t === 'number') return { kind: 'number', value: tok.v };
    if (this.isKeyword('TRUE', tok)) return { kind: 'boolean', value: true };
    if (this.isKeyword('FALSE', tok)) return { kind: 'boolean', value: false };
    if (this.isKeyword('DATE', tok) || this.isKeyword('TIMESTAMP', tok)) {
      const kind = this.isKeyword('DATE', tok) ? 'date' : 'timestamp';
      this.expectPunct('(');
      const s = this.next();
      if (s.t !== 'string') throw new CqlError(`${kind.toUpperCase()}( needs a quoted value ${this.where(s)}`);
      this.expectPunct(')');
      const ok = kind === 'date' ? validDate(s.v) : validTimestamp(s.v);
      if (!ok) throw new CqlError(`'${s.v}' is not a valid ${kind === 'date' ? 'date (YYYY-MM-DD)' : 'RFC 3339 timestamp (2024-06-01T08:00:00Z)'}`);
      return { kind, value: s.v };
    }
    throw new CqlError(`expected a literal (a 'string', a number, TRUE/FALSE, DATE('…'), TIMESTAMP('…')) ${this.where(tok)}, found ${describe(tok)}`);
  }

  private intersects(): CqlNode {
    this.expectPunct('(');
    // S_INTERSECTS is symmetric: the literal may come first.
    let property: string;
    let wkt: string;
    if (this.atGeometryLiteral()) {
      wkt = this.geometry();
      this.expectPunct(',');
      property = this.property();
    } else {
      property = this.property();
      this.expectPunct(',');
      wkt = this.geometry();
    }
    this.expectPunct(')');
    return { op: 'intersects', property, wkt };
  }

  private atGeometryLiteral(): boolean {
    const tok = this.peek();
    return tok.t === 'ident' && !tok.quoted && (GEOMETRY_WORDS as readonly string[]).includes(tok.v.toUpperCase());
  }

  /** A spatial literal (rule spatialInstance), validated and rewritten as WKT text. */
  private geometry(inCollection = false): string {
    const tok = this.next();
    const word = tok.t === 'ident' && !tok.quoted ? tok.v.toUpperCase() : '';
    if (word === 'BBOX' && !inCollection) {
      this.expectPunct('(');
      const n = [this.number()];
      while (this.acceptPunct(',')) n.push(this.number());
      this.expectPunct(')');
      if (n.length !== 4 && n.length !== 6) throw new CqlError('BBOX takes 4 numbers (minLon, minLat, maxLon, maxLat) or 6 with heights');
      const [x0, y0, x1, y1] = n.length === 6 ? [n[0], n[1], n[3], n[4]] : n;
      checkPosition([x0, y0]);
      checkPosition([x1, y1]);
      if (x0 > x1 || y0 > y1) throw new CqlError('BBOX minimum above maximum (order: minLon, minLat, maxLon, maxLat)');
      return `POLYGON((${x0} ${y0},${x1} ${y0},${x1} ${y1},${x0} ${y1},${x0} ${y0}))`;
    }
    const allowed = inCollection ? WKT_TYPES : GEOMETRY_WORDS;
    if (!(allowed as readonly string[]).includes(word)) {
      throw new CqlError(`expected a geometry literal (${allowed.join(', ')}) ${this.where(tok)}, found ${describe(tok)}`);
    }
    // `POINT Z (1 2 3)`: the Z is optional and a third number is accepted either way (heights are ignored).
    if (this.isKeyword('Z')) this.i++;
    switch (word) {
      case 'POINT': {
        this.expectPunct('(');
        const position = this.position();
        this.expectPunct(')');
        return `POINT(${position})`;
      }
      case 'LINESTRING':
        return `LINESTRING${this.lineText()}`;
      case 'POLYGON':
        return `POLYGON${this.polygonText()}`;
      case 'MULTIPOINT':
        // Both (1 2, 3 4) and ((1 2), (3 4)).
        return `MULTIPOINT${this.list(() => {
          if (!this.acceptPunct('(')) return this.position();
          const position = this.position();
          this.expectPunct(')');
          return position;
        })}`;
      case 'MULTILINESTRING':
        return `MULTILINESTRING${this.list(() => this.lineText())}`;
      case 'MULTIPOLYGON':
        return `MULTIPOLYGON${this.list(() => this.polygonText())}`;
      default:
        return `GEOMETRYCOLLECTION${this.list(() => this.geometry(true))}`;
    }
  }

  /** `( item , item … )`. */
  private list(item: () => string): string {
    this.expectPunct('(');
    const parts = [item()];
    while (this.acceptPunct(',')) parts.push(item());
    this.expectPunct(')');
    return `(${parts.join(',')})`;
  }

  private lineText(): string {
    const at = this.peek();
    const text = this.list(() => this.position());
    if (!text.includes(',')) throw new CqlError(`a line needs at least 2 positions ${this.where(at)}`);
    return text;
  }

  /** Rings of at least 4 positions that end where they start (PostGIS refuses others). */
  private polygonText(): string {
    return this.list(() => {
      const at = this.peek();
      const positions: string[] = [];
      this.list(() => {
        const p = this.position();
        positions.push(p);
        return p;
      });
      if (positions.length < 4) throw new CqlError(`a polygon ring needs at least 4 positions ${this.where(at)}`);
      if (positions[0] !== positions[positions.length - 1]) throw new CqlError(`a polygon ring must end where it starts ${this.where(at)}`);
      return `(${positions.join(',')})`;
    });
  }

  private position(): string {
    const p = [this.number(), this.number()];
    if (this.peek().t === 'number') this.number(); // a height is ignored
    checkPosition(p);
    return `${p[0]} ${p[1]}`;
  }

  private number(): number {
    const tok = this.next();
    if (tok.t !== 'number' || !Number.isFinite(tok.v)) throw new CqlError(`expected a number ${this.where(tok)}, found ${describe(tok)}`);
    return tok.v;
  }
}

function describe(tok: Token): string {
  if (tok.t === 'end') return 'the end of the filter';
  if (tok.t === 'string') return `'${tok.v}'`;
  return `'${String(tok.v)}'`;
}

function checkPosition([lon, lat]: number[]): void {
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) throw new CqlError(`position ${lon} ${lat} is outside CRS84 (longitude -180..180, latitude -90..90)`);
}

function validDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}

function validTimestamp(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)) && validDate(s.slice(0, 10));
}

/** Parses CQL2-text into a tree; throws CqlError with a message naming the position. */
export function parseCql2Text(text: string): CqlNode {
  if (!text.trim()) throw new CqlError('empty filter');
  return new Parser(tokenize(text)).parse();
}

// ---------------------------------------------------------------- checking against the queryables

/** The name of every collection's geometry in filters (the queryables list it). */
export const GEOMETRY = 'geometry';

/** Checks every property against `queryables` and every literal against the property's type and values. */
export function checkCql(node: CqlNode, queryables: readonly LayerProperty[]): void {
  const prop = (name: string): LayerProperty => {
    const p = queryables.find((q) => q.name === name);
    if (p) return p;
    if (name === GEOMETRY) throw new CqlError(`'${GEOMETRY}' is compared only with S_INTERSECTS(${GEOMETRY}, <geometry>) or IS [NOT] NULL`);
    throw new CqlError(`unknown property '${name}'; queryables of this collection: ${[...queryables.map((q) => q.name), GEOMETRY].join(', ')}`);
  };
  const literal = (p: LayerProperty, v: Literal, enumCheck: boolean) => {
    const ok =
      (p.type === 'string' && v.kind === 'string') ||
      ((p.type === 'integer' || p.type === 'number') && v.kind === 'number') ||
      (p.type === 'boolean' && v.kind === 'boolean') ||
      (p.type === 'date' && (v.kind === 'date' || v.kind === 'timestamp' || (v.kind === 'string' && validDate(v.value)))) ||
      (p.type === 'datetime' && (v.kind === 'date' || v.kind === 'timestamp'));
    if (!ok) {
      const wanted = { string: "a 'string'", integer: 'a number', number: 'a number', boolean: 'TRUE or FALSE', date: "DATE('YYYY-MM-DD')", datetime: "TIMESTAMP('2026-12-05T06:00:00Z')" }[p.type];
      throw new CqlError(`'${p.name}' is compared with ${wanted}, not ${v.kind === 'string' ? `'${v.value}'` : String(v.value)}`);
    }
    if (p.type === 'integer' && v.kind === 'number' && !Number.isSafeInteger(v.value)) throw new CqlError(`'${p.name}' is an integer, not ${v.value}`);
    if (enumCheck && p.enum && v.kind === 'string' && !p.enum.includes(v.value)) {
      throw new CqlError(`'${v.value}' is not a value of '${p.name}': ${p.enum.join(', ')}`);
    }
  };
  switch (node.op) {
    case 'and':
    case 'or':
      for (const a of node.args) checkCql(a, queryables);
      return;
    case 'not':
      return checkCql(node.arg, queryables);
    case 'const':
      return;
    case 'intersects':
      if (node.property !== GEOMETRY) {
        prop(node.property); // an unknown name is refused as such
        throw new CqlError(`S_INTERSECTS compares the geometry property '${GEOMETRY}' with a geometry literal; '${node.property}' is not a geometry`);
      }
      return;
    case 'isNull':
      if (node.property !== GEOMETRY) prop(node.property);
      return;
    case 'cmp': {
      const p = prop(node.property);
      literal(p, node.value, node.cmp === '=' || node.cmp === '<>');
      if (p.type === 'boolean' && node.cmp !== '=' && node.cmp !== '<>') throw new CqlError(`'${p.name}' is a boolean: only = and <>`);
      return;
    }
    case 'like': {
      const p = prop(node.property);
      if (p.type !== 'string') throw new CqlError(`LIKE works on text properties; '${p.name}' is ${p.type}`);
      return;
    }
    case 'between': {
      const p = prop(node.property);
      if (p.type === 'boolean' || p.type === 'string') throw new CqlError(`BETWEEN works on numbers and dates; '${p.name}' is ${p.type}`);
      literal(p, node.low, false);
      literal(p, node.high, false);
      return;
    }
    case 'in': {
      const p = prop(node.property);
      for (const v of node.values) literal(p, v, true);
      return;
    }
  }
}

// ---------------------------------------------------------------- SQL

const SQL_TYPE: Record<LayerProperty['type'], string> = { string: 'text', integer: 'bigint', number: 'float8', boolean: 'boolean', date: 'date', datetime: 'timestamptz' };

/**
 * SQL condition for a checked tree. `column` maps a property name (already
 * checked against the registry) to its quoted column; `add` binds a value.
 */
export function cqlToSql(node: CqlNode, queryables: readonly LayerProperty[], column: (name: string) => string, add: (v: unknown) => string, geom: string): string {
  const typeOf = (name: string) => queryables.find((q) => q.name === name)!.type;
  const value = (name: string, v: Literal) => {
    // A timestamp against a date column compares instants (the date at 00:00 UTC).
    if (v.kind === 'timestamp') return `${add(v.value)}::timestamptz`;
    return `${add(v.value)}::${SQL_TYPE[typeOf(name)]}`;
  };
  const col = (name: string, v?: Literal) => (v?.kind === 'timestamp' ? `(${column(name)}::timestamp AT TIME ZONE 'UTC')` : column(name));
  const rec = (n: CqlNode) => cqlToSql(n, queryables, column, add, geom);
  switch (node.op) {
    case 'and':
    case 'or':
      return `(${node.args.map(rec).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      // CQL2 NOT of an unknown (NULL) comparison is unknown too, exactly as in SQL.
      return `(NOT ${rec(node.arg)})`;
    case 'const':
      return node.value ? 'true' : 'false';
    case 'isNull':
      return `(${node.property === GEOMETRY ? geom : column(node.property)} IS ${node.negated ? 'NOT ' : ''}NULL)`;
    case 'cmp':
      return `(${col(node.property, node.value)} ${node.cmp} ${value(node.property, node.value)})`;
    case 'like':
      return `(${column(node.property)} ${node.negated ? 'NOT ' : ''}LIKE ${add(node.pattern)}::text)`;
    case 'between':
      return `(${col(node.property, node.low)} ${node.negated ? 'NOT ' : ''}BETWEEN ${value(node.property, node.low)} AND ${value(node.property, node.high)})`;
    case 'in':
      return `(${column(node.property)} ${node.negated ? 'NOT ' : ''}IN (${node.values.map((v) => value(node.property, v)).join(', ')}))`;
    case 'intersects':
      return `ST_Intersects(${geom}, ST_GeomFromText(${add(node.wkt)}::text, 4326))`;
  }
}

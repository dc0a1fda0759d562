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
 * DATE('…') and TIMESTAMP('…') literals, and S_INTERSECTS(geometry, <WKT or
 * BBOX(…)>) in CRS84 longitude/latitude. A property is always compared with
 * literals (no property-to-property comparison, no arithmetic, no functions).
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
  /** `wkt` is rebuilt from the parsed coordinates, never the caller's text. */
  | { op: 'intersects'; wkt: string };

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
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
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
    const first = this.property();
    this.expectPunct(',');
    const wkt = this.geometry();
    this.expectPunct(')');
    if (first !== 'geometry') throw new CqlError(`S_INTERSECTS compares the property 'geometry' with a geometry literal, not '${first}'`);
    return { op: 'intersects', wkt };
  }

  /** A WKT or BBOX literal, validated and rewritten as WKT text. */
  private geometry(): string {
    const tok = this.next();
    const word = tok.t === 'ident' && !tok.quoted ? tok.v.toUpperCase() : '';
    if (word === 'BBOX') {
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
    if (!(WKT_TYPES as readonly string[]).includes(word)) {
      throw new CqlError(`expected a geometry literal (${WKT_TYPES.join(', ')} or BBOX) ${this.where(tok)}, found ${describe(tok)}`);
    }
    const type = word as (typeof WKT_TYPES)[number];
    const depth = { POINT: 0, LINESTRING: 1, MULTIPOINT: 1, POLYGON: 2, MULTILINESTRING: 2, MULTIPOLYGON: 3 }[type];
    if (type === 'POINT') {
      this.expectPunct('(');
      const position = this.position();
      this.expectPunct(')');
      return `POINT(${position})`;
    }
    return `${type}${this.nested(depth, type)}`;
  }

  private nested(depth: number, type: string): string {
    this.expectPunct('(');
    const parts: string[] = [];
    do {
      // MULTIPOINT accepts both (1 2, 3 4) and ((1 2), (3 4)).
      if (depth === 1 && type === 'MULTIPOINT' && this.acceptPunct('(')) {
        parts.push(this.position());
        this.expectPunct(')');
      } else {
        parts.push(depth === 1 ? this.position() : this.nested(depth - 1, type));
      }
    } while (this.acceptPunct(','));
    this.expectPunct(')');
    if (depth === 1 && type !== 'MULTIPOINT' && parts.length < 2) throw new CqlError(`${type}: a line needs at least 2 positions`);
    return `(${parts.join(',')})`;
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

/** Checks every property against `queryables` and every literal against the property's type and values. */
export function checkCql(node: CqlNode, queryables: readonly LayerProperty[]): void {
  const prop = (name: string): LayerProperty => {
    const p = queryables.find((q) => q.name === name);
    if (!p) throw new CqlError(`unknown property '${name}'; queryables of this collection: ${[...queryables.map((q) => q.name), 'geometry'].join(', ')}`);
    return p;
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
    case 'intersects':
      return;
    case 'isNull':
      prop(node.property);
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
      return `(${column(node.property)} IS ${node.negated ? 'NOT ' : ''}NULL)`;
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

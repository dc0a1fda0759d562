/**
 * Checks a document against the rules of OpenAPI 3.0 that a generator can
 * break: required top-level fields, operations with responses and unique ids,
 * parameters (location, path templating, schema XOR content), resolvable
 * internal $refs, and schema objects that use only the OpenAPI 3.0 dialect of
 * JSON Schema (no `const`, no type arrays, no `$schema`, boolean exclusive
 * bounds, `items` on every array). Returns one message per problem.
 */

type Obj = Record<string, unknown>;

const SCHEMA_KEYWORDS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type', 'allOf', 'oneOf',
  'anyOf', 'not', 'items', 'properties', 'additionalProperties', 'description', 'format', 'default', 'nullable',
  'discriminator', 'readOnly', 'writeOnly', 'xml', 'externalDocs', 'example', 'deprecated', '$ref',
]);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PARAM_IN = new Set(['query', 'header', 'path', 'cookie']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkOpenApi30(doc: unknown): string[] {
  const errors: string[] = [];
  const err = (where: string, what: string): void => {
    errors.push(`${where}: ${what}`);
  };
  if (!isObj(doc)) return ['document: not an object'];

  const resolve = (ref: string, where: string): unknown => {
    if (!ref.startsWith('#/')) return undefined; // external refs are allowed (not resolved here)
    let node: unknown = doc;
    for (const part of ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
      if (!isObj(node) || !(part in node)) {
        err(where, `$ref ${ref} does not resolve`);
        return undefined;
      }
      node = node[part];
    }
    return node;
  };

  const checkSchema = (s: unknown, where: string): void => {
    if (!isObj(s)) return err(where, 'schema is not an object');
    if (typeof s.$ref === 'string') {
      resolve(s.$ref, where);
      return;
    }
    for (const k of Object.keys(s)) if (!SCHEMA_KEYWORDS.has(k) && !k.startsWith('x-')) err(where, `keyword ${k} is not allowed in an OpenAPI 3.0 schema`);
    if ('type' in s && (typeof s.type !== 'string' || !TYPES.has(s.type))) err(where, `type ${JSON.stringify(s.type)} is not one OpenAPI 3.0 type`);
    if (s.type === 'array' && !isObj(s.items)) err(where, 'type array needs items');
    for (const b of ['exclusiveMinimum', 'exclusiveMaximum']) if (b in s && typeof s[b] !== 'boolean') err(where, `${b} must be a boolean in 3.0`);
    if ('enum' in s && (!Array.isArray(s.enum) || s.enum.length === 0)) err(where, 'enum must be a non-empty array');
    if ('required' in s && (!Array.isArray(s.required) || s.required.some((r) => typeof r !== 'string'))) err(where, 'required must be a list of names');
    if (typeof s.pattern === 'string') {
      try {
        new RegExp(s.pattern);
      } catch {
        err(where, `pattern ${s.pattern} is not a regular expression`);
      }
    }
    if (s.nullable !== undefined && typeof s.nullable !== 'boolean') err(where, 'nullable must be a boolean');
    if (isObj(s.properties)) for (const [k, v] of Object.entries(s.properties)) checkSchema(v, `${where}.properties.${k}`);
    if (isObj(s.items)) checkSchema(s.items, `${where}.items`);
    if (isObj(s.additionalProperties)) checkSchema(s.additionalProperties, `${where}.additionalProperties`);
    for (const k of ['allOf', 'oneOf', 'anyOf']) if (Array.isArray(s[k])) (s[k] as unknown[]).forEach((x, i) => checkSchema(x, `${where}.${k}[${i}]`));
    if (s.not !== undefined) checkSchema(s.not, `${where}.not`);
  };

  const checkContent = (content: unknown, where: string) => {
    if (!isObj(content)) return err(where, 'content must be an object');
    for (const [media, m] of Object.entries(content)) {
      if (!isObj(m)) err(`${where}.${media}`, 'media type must be an object');
      else if (m.schema !== undefined) checkSchema(m.schema, `${where}.${media}.schema`);
    }
  };

  const checkResponse = (r: unknown, where: string) => {
    if (!isObj(r)) return err(where, 'response must be an object');
    if (typeof r.$ref === 'string') return void checkResponse(resolve(r.$ref, where), `${where} (${r.$ref})`);
    if (typeof r.description !== 'string') err(where, 'response needs a description');
    if (r.content !== undefined) checkContent(r.content, `${where}.content`);
    if (isObj(r.headers)) for (const [h, v] of Object.entries(r.headers)) if (isObj(v) && v.schema) checkSchema(v.schema, `${where}.headers.${h}`);
  };

  if (typeof doc.openapi !== 'string' || !/^3\.0\.\d+$/.test(doc.openapi)) err('openapi', `must be 3.0.x, is ${JSON.stringify(doc.openapi)}`);
  const info = doc.info;
  if (!isObj(info)) err('info', 'missing');
  else {
    if (typeof info.title !== 'string') err('info.title', 'missing');
    if (typeof info.version !== 'string') err('info.version', 'missing');
  }
  if (doc.servers !== undefined) {
    if (!Array.isArray(doc.servers)) err('servers', 'must be an array');
    else doc.servers.forEach((s, i) => isObj(s) && typeof s.url === 'string' ? undefined : err(`servers[${i}]`, 'needs a url'));
  }
  if (!isObj(doc.paths)) err('paths', 'missing');
  const operationIds = new Map<string, string>();
  for (const [path, item] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    if (!path.startsWith('/')) err(path, 'paths must start with /');
    if (!isObj(item)) {
      err(path, 'path item must be an object');
      continue;
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!isObj(op)) {
        err(where, 'operation must be an object');
        continue;
      }
      if (typeof op.operationId === 'string') {
        if (operationIds.has(op.operationId)) err(where, `operationId ${op.operationId} also used by ${operationIds.get(op.operationId)}`);
        operationIds.set(op.operationId, where);
      }
      if (!isObj(op.responses) || Object.keys(op.responses).length === 0) err(where, 'responses must list at least one response');
      else for (const [code, r] of Object.entries(op.responses)) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(code)) err(where, `response code ${code} is not valid`);
        checkResponse(r, `${where} responses.${code}`);
      }
      const params = [...(Array.isArray(item.parameters) ? item.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])];
      const seen = new Set<string>();
      const pathParams = new Set<string>();
      for (const raw of params) {
        const p = isObj(raw) && typeof raw.$ref === 'string' ? resolve(raw.$ref, where) : raw;
        if (!isObj(p)) {
          err(where, 'parameter must be an object');
          continue;
        }
        const pw = `${where} parameter ${String(p.name)}`;
        if (typeof p.name !== 'string') err(pw, 'needs a name');
        if (typeof p.in !== 'string' || !PARAM_IN.has(p.in)) err(pw, `in must be one of ${[...PARAM_IN].join(', ')}`);
        const key = `${String(p.in)}:${String(p.name)}`;
        if (seen.has(key)) err(pw, 'declared twice');
        seen.add(key);
        if (p.in === 'path') {
          pathParams.add(String(p.name));
          if (p.required !== true) err(pw, 'path parameters must be required: true');
          if (!templated.includes(String(p.name))) err(pw, 'is not in the path template');
        }
        if ((p.schema === undefined) === (p.content === undefined)) err(pw, 'needs exactly one of schema and content');
        if (p.schema !== undefined) checkSchema(p.schema, `${pw} schema`);
        if (p.style !== undefined) {
          const styles: Record<string, string[]> = { query: ['form', 'spaceDelimited', 'pipeDelimited', 'deepObject'], path: ['matrix', 'label', 'simple'], header: ['simple'], cookie: ['form'] };
          if (!styles[String(p.in)]?.includes(String(p.style))) err(pw, `style ${String(p.style)} is not allowed in ${String(p.in)}`);
        }
      }
      for (const t of templated) if (!pathParams.has(t)) err(where, `path template {${t}} has no path parameter`);
    }
  }
  const components = isObj(doc.components) ? doc.components : {};
  if (isObj(components.schemas)) for (const [k, v] of Object.entries(components.schemas)) checkSchema(v, `components.schemas.${k}`);
  if (isObj(components.responses)) for (const [k, v] of Object.entries(components.responses)) checkResponse(v, `components.responses.${k}`);
  return errors;
}

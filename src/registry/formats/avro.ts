/**
 * Avro: parsing (avsc validates names, defaults and references), canonical text, and
 * compatibility by Avro's schema-resolution rules, checked the way Avro's Java
 * SchemaCompatibility (used by Confluent) does:
 *   - records match by unqualified name or a reader alias; a reader field finds its
 *     writer field by name or by the reader field's aliases (renames); a reader field
 *     missing from the writer needs a default (READER_FIELD_MISSING_DEFAULT_VALUE);
 *     writer fields absent from the reader are skipped;
 *   - promotions int→long→float→double, string↔bytes; anything else TYPE_MISMATCH;
 *   - enums: every writer symbol must be a reader symbol unless the reader enum has a
 *     default (MISSING_ENUM_SYMBOLS); fixed: same name and size;
 *   - unions: each writer branch must be readable by some reader branch
 *     (MISSING_UNION_BRANCH); a writer union read by a non-union needs every branch readable.
 * Canonical text: the schema's JSON with whitespace removed, `{"type":"int"}` collapsed to
 * `"int"`, and keys in a fixed order (name, namespace, type, fields, symbols, items,
 * values, size, default, then the rest sorted). Names, docs, defaults and aliases are
 * kept: they matter to resolution, so unlike Avro's Parsing Canonical Form they are
 * part of the identity (key order inside default values is not: it carries no meaning).
 */
import avsc from 'avsc';
import { RegistryErrorCodes, registryError } from '../errors.js';
import {
  type CheckLabels,
  type CompatibilityIssue,
  type ParsedSchema,
  type ResolvedReference,
  type SchemaProvider,
  sortKeys,
} from './provider.js';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

type AvroNode =
  | { kind: 'primitive'; name: string }
  | {
      kind: 'record';
      fullname: string;
      aliases: string[];
      fields: { name: string; aliases: string[]; type: AvroNode; hasDefault: boolean }[];
    }
  | { kind: 'enum'; fullname: string; aliases: string[]; symbols: string[]; hasDefault: boolean }
  | { kind: 'fixed'; fullname: string; aliases: string[]; size: number }
  | { kind: 'array'; items: AvroNode }
  | { kind: 'map'; values: AvroNode }
  | { kind: 'union'; branches: AvroNode[] };

export class AvroSchema implements ParsedSchema {
  readonly type = 'AVRO' as const;
  constructor(
    readonly json: unknown,
    readonly root: AvroNode,
    /** avsc type, with references resolved: ready to encode and decode. */
    readonly avroType: avsc.Type,
  ) {}

  canonical(_normalize: boolean): string {
    return JSON.stringify(canonicalAvro(this.json));
  }
}

function invalid(message: string, cause?: unknown): Error {
  return registryError(RegistryErrorCodes.INVALID_SCHEMA, `Invalid schema: ${message}`, cause);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
}

export const avroProvider: SchemaProvider<AvroSchema> = {
  type: 'AVRO',

  parse(schema: string, deps: readonly ResolvedReference[]): AvroSchema {
    const registry: Record<string, avsc.Type> = {};
    const names = new Map<string, AvroNode>();
    for (const dep of deps) {
      if (dep.schemaType !== 'AVRO') throw invalid(`reference '${dep.name}' is a ${dep.schemaType} schema`);
      const depJson = parseJson(dep.schema, `reference '${dep.name}'`);
      try {
        avsc.Type.forSchema(depJson as avsc.Schema, { registry });
      } catch (err) {
        throw invalid(`reference '${dep.name}': ${(err as Error).message}`, err);
      }
      buildNode(depJson, '', names);
    }
    const json = parseJson(schema, 'schema');
    let avroType: avsc.Type;
    try {
      avroType = avsc.Type.forSchema(json as avsc.Schema, { registry });
    } catch (err) {
      throw invalid((err as Error).message, err);
    }
    return new AvroSchema(json, buildNode(json, '', names), avroType);
  },

  check(reader: AvroSchema, writer: AvroSchema, labels: CheckLabels): CompatibilityIssue[] {
    const out: CompatibilityIssue[] = [];
    checkNode(reader.root, writer.root, '', out, new Set(), labels);
    return out;
  },
};

function fullnameOf(name: string, namespace: string): string {
  if (name.includes('.') || namespace === '') return name;
  return `${namespace}.${name}`;
}

function namespaceOf(fullname: string): string {
  const i = fullname.lastIndexOf('.');
  return i === -1 ? '' : fullname.slice(0, i);
}

/** Builds the resolution graph. avsc already validated the schema, so shapes are trusted. */
function buildNode(json: unknown, namespace: string, names: Map<string, AvroNode>): AvroNode {
  if (typeof json === 'string') {
    if (PRIMITIVES.has(json)) return { kind: 'primitive', name: json };
    const node = names.get(fullnameOf(json, namespace)) ?? names.get(json);
    if (node === undefined) throw invalid(`unknown type '${json}'`);
    return node;
  }
  if (Array.isArray(json))
    return { kind: 'union', branches: json.map((b) => buildNode(b, namespace, names)) };
  const obj = json as Record<string, unknown>;
  const type = obj.type;
  if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
    const name = String(obj.name);
    const ns = typeof obj.namespace === 'string' && !name.includes('.') ? obj.namespace : namespace;
    const fullname = fullnameOf(name, ns);
    const own = namespaceOf(fullname);
    const aliases = Array.isArray(obj.aliases) ? obj.aliases.map((a) => fullnameOf(String(a), own)) : [];
    if (type === 'enum') {
      const node: AvroNode = {
        kind: 'enum',
        fullname,
        aliases,
        symbols: (obj.symbols as string[]) ?? [],
        hasDefault: obj.default !== undefined,
      };
      names.set(fullname, node);
      return node;
    }
    if (type === 'fixed') {
      const node: AvroNode = { kind: 'fixed', fullname, aliases, size: Number(obj.size) };
      names.set(fullname, node);
      return node;
    }
    const node: AvroNode & { kind: 'record' } = { kind: 'record', fullname, aliases, fields: [] };
    names.set(fullname, node); // before the fields: recursive types refer to it
    for (const f of (obj.fields as Record<string, unknown>[]) ?? []) {
      node.fields.push({
        name: String(f.name),
        aliases: Array.isArray(f.aliases) ? f.aliases.map(String) : [],
        type: buildNode(f.type, own, names),
        hasDefault: Object.hasOwn(f, 'default'),
      });
    }
    return node;
  }
  if (type === 'array') return { kind: 'array', items: buildNode(obj.items, namespace, names) };
  if (type === 'map') return { kind: 'map', values: buildNode(obj.values, namespace, names) };
  return buildNode(type, namespace, names);
}

const PROMOTIONS: Record<string, readonly string[]> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  bytes: ['string'],
  string: ['bytes'],
};

function describeType(n: AvroNode): string {
  if (n.kind === 'primitive') return n.name.toUpperCase();
  return n.kind.toUpperCase();
}

function unqualified(fullname: string): string {
  return fullname.slice(fullname.lastIndexOf('.') + 1);
}

function namesMatch(r: { fullname: string; aliases: string[] }, w: { fullname: string }): boolean {
  if (unqualified(r.fullname) === unqualified(w.fullname)) return true;
  return r.aliases.includes(w.fullname) || r.aliases.some((a) => unqualified(a) === unqualified(w.fullname));
}

/** True when `reader` can read everything `writer` writes (used for union branch matching). */
function compatible(reader: AvroNode, writer: AvroNode, labels: CheckLabels): boolean {
  const out: CompatibilityIssue[] = [];
  checkNode(reader, writer, '', out, new Set(), labels);
  return out.length === 0;
}

const nodeIds = new WeakMap<object, number>();
let nextNodeId = 0;
function nodeId(n: AvroNode): number {
  let id = nodeIds.get(n);
  if (id === undefined) {
    id = nextNodeId++;
    nodeIds.set(n, id);
  }
  return id;
}

function checkNode(
  r: AvroNode,
  w: AvroNode,
  path: string,
  out: CompatibilityIssue[],
  seen: Set<string>,
  labels: CheckLabels,
): void {
  const { reader: R, writer: W } = labels;
  if (r.kind === w.kind) {
    switch (r.kind) {
      case 'primitive': {
        const wp = w as AvroNode & { kind: 'primitive' };
        if (r.name === wp.name) return;
        if (PROMOTIONS[r.name]?.includes(wp.name)) return;
        out.push({
          errorType: 'TYPE_MISMATCH',
          path: path || '/',
          description: `The type (path '${path || '/'}') of a field in the ${R} schema does not match with the ${W} schema`,
          additionalInfo: `reader type: ${describeType(r)} not compatible with writer type: ${describeType(w)}`,
        });
        return;
      }
      case 'record': {
        const wr = w as AvroNode & { kind: 'record' };
        const pair = `${nodeId(r)}:${nodeId(w)}`;
        if (seen.has(pair)) return; // recursive type: already being checked
        seen.add(pair);
        if (!namesMatch(r, wr)) {
          out.push({
            errorType: 'NAME_MISMATCH',
            path: `${path}/name`,
            description: `The name of the schema has changed (path '${path}/name')`,
            additionalInfo: `expected: ${wr.fullname}`,
          });
          return;
        }
        r.fields.forEach((rf, i) => {
          const wf =
            wr.fields.find((f) => f.name === rf.name) ?? wr.fields.find((f) => rf.aliases.includes(f.name));
          const fieldPath = `${path}/fields/${i}`;
          if (wf === undefined) {
            if (!rf.hasDefault) {
              out.push({
                errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
                path: fieldPath,
                description: `The field '${rf.name}' at path '${fieldPath}' in the ${R} schema has no default value and is missing in the ${W} schema`,
                additionalInfo: rf.name,
              });
            }
            return;
          }
          checkNode(rf.type, wf.type, `${fieldPath}/type`, out, seen, labels);
        });
        return;
      }
      case 'enum': {
        const we = w as AvroNode & { kind: 'enum' };
        if (!namesMatch(r, we)) {
          out.push({
            errorType: 'NAME_MISMATCH',
            path: `${path}/name`,
            description: `The name of the schema has changed (path '${path}/name')`,
            additionalInfo: `expected: ${we.fullname}`,
          });
          return;
        }
        const missing = we.symbols.filter((s) => !r.symbols.includes(s));
        if (missing.length > 0 && !r.hasDefault) {
          out.push({
            errorType: 'MISSING_ENUM_SYMBOLS',
            path: `${path}/symbols`,
            description: `The ${R} schema is missing enum symbols '[${missing.join(', ')}]' at path '${path}/symbols' in the ${W} schema`,
            additionalInfo: `[${missing.join(', ')}]`,
          });
        }
        return;
      }
      case 'fixed': {
        const wf = w as AvroNode & { kind: 'fixed' };
        if (!namesMatch(r, wf)) {
          out.push({
            errorType: 'NAME_MISMATCH',
            path: `${path}/name`,
            description: `The name of the schema has changed (path '${path}/name')`,
            additionalInfo: `expected: ${wf.fullname}`,
          });
          return;
        }
        if (r.size !== wf.size) {
          out.push({
            errorType: 'FIXED_SIZE_MISMATCH',
            path: `${path}/size`,
            description: `The size of FIXED type field at path '${path}/size' in the ${R} schema does not match with the ${W} schema`,
            additionalInfo: `expected: ${wf.size}, found: ${r.size}`,
          });
        }
        return;
      }
      case 'array':
        checkNode(r.items, (w as AvroNode & { kind: 'array' }).items, `${path}/items`, out, seen, labels);
        return;
      case 'map':
        checkNode(r.values, (w as AvroNode & { kind: 'map' }).values, `${path}/values`, out, seen, labels);
        return;
      case 'union': {
        const wu = w as AvroNode & { kind: 'union' };
        wu.branches.forEach((wb, i) => {
          if (!r.branches.some((rb) => compatible(rb, wb, labels))) {
            const p = `${path}/${i}`;
            out.push({
              errorType: 'MISSING_UNION_BRANCH',
              path: p,
              description: `The ${R} schema is missing a type inside a union field at path '${p}' in the ${W} schema`,
              additionalInfo: `reader union lacking writer type: ${describeType(wb)}`,
            });
          }
        });
        return;
      }
    }
  }
  if (w.kind === 'union') {
    for (const wb of w.branches) checkNode(r, wb, path, out, seen, labels);
    return;
  }
  if (r.kind === 'union') {
    if (r.branches.some((rb) => compatible(rb, w, labels))) return;
    out.push({
      errorType: 'MISSING_UNION_BRANCH',
      path: path || '/',
      description: `The ${R} schema is missing a type inside a union field at path '${path || '/'}' in the ${W} schema`,
      additionalInfo: `reader union lacking writer type: ${describeType(w)}`,
    });
    return;
  }
  out.push({
    errorType: 'TYPE_MISMATCH',
    path: path || '/',
    description: `The type (path '${path || '/'}') of a field in the ${R} schema does not match with the ${W} schema`,
    additionalInfo: `reader type: ${describeType(r)} not compatible with writer type: ${describeType(w)}`,
  });
}

const KEY_ORDER = ['name', 'namespace', 'type', 'fields', 'symbols', 'items', 'values', 'size', 'default'];

function orderKeys(obj: Record<string, unknown>, transform: (k: string, v: unknown) => unknown) {
  const keys = Object.keys(obj);
  const known = KEY_ORDER.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !KEY_ORDER.includes(k)).sort();
  const out: Record<string, unknown> = {};
  for (const k of [...known, ...rest]) out[k] = transform(k, obj[k]);
  return out;
}

/** Canonical JSON value of an Avro schema (see header). Data (defaults) is kept verbatim. */
export function canonicalAvro(json: unknown): unknown {
  if (typeof json === 'string') return json;
  if (Array.isArray(json)) return json.map(canonicalAvro);
  if (json === null || typeof json !== 'object') return json;
  const obj = json as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && typeof obj.type === 'string' && PRIMITIVES.has(obj.type)) return obj.type;
  return orderKeys(obj, (k, v) => {
    if (k === 'type' || k === 'items' || k === 'values') return canonicalAvro(v);
    if (k === 'fields' && Array.isArray(v)) {
      return v.map((f) =>
        orderKeys(f as Record<string, unknown>, (fk, fv) =>
          fk === 'type' ? canonicalAvro(fv) : sortKeys(fv),
        ),
      );
    }
    if (k === 'default') return sortKeys(v);
    return sortKeys(v);
  });
}

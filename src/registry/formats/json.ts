/**
 * JSON Schema: parsing and validation with ajv (draft-07 by default; 2019-09 and 2020-12
 * when `$schema` says so), references as schemas added under their reference name (the
 * URL a `$ref` uses), canonical text, and compatibility by Confluent's JSON Schema diff:
 * compare the writer schema ("original") with the reader schema ("update"), record every
 * difference by its Confluent type, and the change is compatible only when every
 * difference is in COMPATIBLE_CHANGES. Notable rules, as in Confluent:
 *   - a property added to an OPEN content model (no additionalProperties:false, no
 *     patternProperties) is incompatible unless its schema is empty, because old data may
 *     already hold that name with another type; added to a closed model it is fine unless
 *     it is required without a default;
 *   - removing a property is fine for an open reader, not for a closed one;
 *   - making a property required is incompatible; dropping `required` is fine;
 *   - closing the content model (additionalProperties → false) is incompatible;
 *   - integer → number widens, number → integer narrows; other type changes break;
 *   - enum values added are fine, removed are not; bounds may relax, not tighten.
 * Canonical text: JSON with keys sorted recursively and no whitespace; `normalize` also
 * sorts and deduplicates `required` and `type` arrays.
 */
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { RegistryErrorCodes, registryError } from '../errors.js';
import {
  type CheckLabels,
  type CompatibilityIssue,
  type ParsedSchema,
  type ResolvedReference,
  type SchemaProvider,
  sortedJson,
} from './provider.js';

type Json = boolean | Record<string, unknown>;
type Validator = ((data: unknown) => boolean) & { errors?: unknown };

// ajv-formats is CommonJS with a default export; under NodeNext the callable is `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => void;

export class JsonSchemaDoc implements ParsedSchema {
  readonly type = 'JSON' as const;
  constructor(
    readonly json: Json,
    readonly deps: ReadonlyMap<string, Json>,
    readonly validate: Validator,
  ) {}

  canonical(normalize: boolean): string {
    return sortedJson(normalize ? normalizeJson(this.json) : this.json);
  }
}

function invalid(message: string, cause?: unknown): Error {
  return registryError(RegistryErrorCodes.INVALID_SCHEMA, `Invalid schema: ${message}`, cause);
}

function makeAjv(root: Json): Ajv {
  const dialect = typeof root === 'object' && typeof root.$schema === 'string' ? root.$schema : '';
  const opts = { strict: false, allErrors: false, logger: false as const, validateSchema: true };
  const ajv = dialect.includes('2020-12')
    ? new Ajv2020(opts)
    : dialect.includes('2019-09')
      ? new Ajv2019(opts)
      : new Ajv(opts);
  addFormats(ajv as Ajv);
  return ajv as Ajv;
}

function parseJson(text: string, what: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
  if (typeof v !== 'boolean' && (v === null || typeof v !== 'object' || Array.isArray(v))) {
    throw invalid(`${what} must be a JSON object or boolean`);
  }
  return v as Json;
}

export const jsonProvider: SchemaProvider<JsonSchemaDoc> = {
  type: 'JSON',

  parse(schema: string, deps: readonly ResolvedReference[]): JsonSchemaDoc {
    const json = parseJson(schema, 'schema');
    const ajv = makeAjv(json);
    const depMap = new Map<string, Json>();
    for (const dep of deps) {
      if (dep.schemaType !== 'JSON') throw invalid(`reference '${dep.name}' is a ${dep.schemaType} schema`);
      const depJson = parseJson(dep.schema, `reference '${dep.name}'`);
      depMap.set(dep.name, depJson);
      try {
        // Registered under the reference name, which is what a `$ref` in the schema uses.
        ajv.addSchema(depJson as AnySchema, dep.name);
      } catch (err) {
        throw invalid(`reference '${dep.name}': ${(err as Error).message}`, err);
      }
    }
    let validate: Validator;
    try {
      validate = ajv.compile(json as AnySchema) as Validator;
    } catch (err) {
      throw invalid((err as Error).message, err);
    }
    return new JsonSchemaDoc(json, depMap, validate);
  },

  check(reader: JsonSchemaDoc, writer: JsonSchemaDoc, labels: CheckLabels): CompatibilityIssue[] {
    const ctx = new DiffContext(writer, reader);
    ctx.compare(writer.json, reader.json, '#');
    return ctx.diffs
      .filter((d) => !COMPATIBLE_CHANGES.has(d.type))
      .map((d) => ({
        errorType: d.type,
        path: d.path,
        description: describe(d.type, d.path, labels),
      }));
  },
};

function normalizeJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (
        (k === 'required' || k === 'type') &&
        Array.isArray(val) &&
        val.every((x) => typeof x === 'string')
      ) {
        out[k] = [...new Set(val as string[])].sort();
      } else out[k] = normalizeJson(val);
    }
    return out;
  }
  return v;
}

// Confluent's SchemaDiff.COMPATIBLE_CHANGES (JSON Schema provider).
const COMPATIBLE_CHANGES = new Set([
  'ID_CHANGED',
  'DESCRIPTION_CHANGED',
  'TITLE_CHANGED',
  'DEFAULT_CHANGED',
  'SCHEMA_REMOVED',
  'TYPE_EXTENDED',
  'MAX_LENGTH_INCREASED',
  'MAX_LENGTH_REMOVED',
  'MIN_LENGTH_DECREASED',
  'MIN_LENGTH_REMOVED',
  'PATTERN_REMOVED',
  'MAXIMUM_INCREASED',
  'MAXIMUM_REMOVED',
  'MINIMUM_DECREASED',
  'MINIMUM_REMOVED',
  'EXCLUSIVE_MAXIMUM_INCREASED',
  'EXCLUSIVE_MAXIMUM_REMOVED',
  'EXCLUSIVE_MINIMUM_DECREASED',
  'EXCLUSIVE_MINIMUM_REMOVED',
  'MULTIPLE_OF_REDUCED',
  'MULTIPLE_OF_REMOVED',
  'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED',
  'REQUIRED_ATTRIBUTE_REMOVED',
  'DEPENDENCY_ARRAY_NARROWED',
  'DEPENDENCY_ARRAY_REMOVED',
  'DEPENDENCY_SCHEMA_REMOVED',
  'MAX_PROPERTIES_INCREASED',
  'MAX_PROPERTIES_REMOVED',
  'MIN_PROPERTIES_DECREASED',
  'MIN_PROPERTIES_REMOVED',
  'ADDITIONAL_PROPERTIES_ADDED',
  'ADDITIONAL_PROPERTIES_EXTENDED',
  'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
  'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'MAX_ITEMS_INCREASED',
  'MAX_ITEMS_REMOVED',
  'MIN_ITEMS_DECREASED',
  'MIN_ITEMS_REMOVED',
  'UNIQUE_ITEMS_REMOVED',
  'ADDITIONAL_ITEMS_ADDED',
  'ADDITIONAL_ITEMS_EXTENDED',
  'ENUM_ARRAY_EXTENDED',
  'COMBINED_TYPE_EXTENDED',
  'PRODUCT_TYPE_NARROWED',
  'SUM_TYPE_EXTENDED',
  'NOT_TYPE_NARROWED',
]);

function describe(type: string, path: string, labels: CheckLabels): string {
  const r = labels.reader;
  const w = labels.writer;
  switch (type) {
    case 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL':
      return `The ${w} schema has an open content model and the ${r} schema adds the property at path '${path}' which is missing in the ${w} schema`;
    case 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL':
      return `The ${r} schema adds the required property at path '${path}' with no default, which is missing in the ${w} schema`;
    case 'REQUIRED_ATTRIBUTE_ADDED':
      return `The property at path '${path}' is required in the ${r} schema but optional in the ${w} schema`;
    case 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL':
      return `The ${r} schema has a closed content model and is missing the property at path '${path}' of the ${w} schema`;
    case 'ADDITIONAL_PROPERTIES_REMOVED':
      return `The ${r} schema closes the content model at path '${path}' that is open in the ${w} schema`;
    case 'TYPE_CHANGED':
    case 'TYPE_NARROWED':
      return `The type at path '${path}' in the ${r} schema does not accept every value of the type in the ${w} schema`;
    case 'ENUM_ARRAY_NARROWED':
    case 'ENUM_ARRAY_CHANGED':
      return `The enum at path '${path}' in the ${r} schema lacks values allowed by the ${w} schema`;
    default:
      return `The ${r} schema is incompatible with the ${w} schema at path '${path}' (${type})`;
  }
}

type Kind =
  | 'empty'
  | 'false'
  | 'combined'
  | 'object'
  | 'array'
  | 'string'
  | 'number'
  | 'boolean'
  | 'null'
  | 'enum'
  | 'not';

const VALIDATION_KEYS = new Set([
  'type',
  'enum',
  'const',
  'not',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
]);

function kindOf(s: Json): { kind: Kind; schema: Record<string, unknown> } {
  if (s === true) return { kind: 'empty', schema: {} };
  if (s === false) return { kind: 'false', schema: {} };
  const o = s;
  if (!Object.keys(o).some((k) => VALIDATION_KEYS.has(k))) return { kind: 'empty', schema: o };
  if (Array.isArray(o.anyOf) || Array.isArray(o.oneOf) || Array.isArray(o.allOf))
    return { kind: 'combined', schema: o };
  if (Array.isArray(o.enum) || o.const !== undefined) return { kind: 'enum', schema: o };
  if (o.not !== undefined) return { kind: 'not', schema: o };
  if (Array.isArray(o.type)) {
    if (o.type.length === 1) return kindOf({ ...o, type: o.type[0] });
    return { kind: 'combined', schema: { anyOf: o.type.map((t) => ({ ...o, type: t })) } };
  }
  switch (o.type) {
    case 'object':
      return { kind: 'object', schema: o };
    case 'array':
      return { kind: 'array', schema: o };
    case 'string':
      return { kind: 'string', schema: o };
    case 'number':
    case 'integer':
      return { kind: 'number', schema: o };
    case 'boolean':
      return { kind: 'boolean', schema: o };
    case 'null':
      return { kind: 'null', schema: o };
  }
  if (o.properties !== undefined || o.required !== undefined || o.additionalProperties !== undefined) {
    return { kind: 'object', schema: o };
  }
  if (o.items !== undefined || o.minItems !== undefined || o.maxItems !== undefined)
    return { kind: 'array', schema: o };
  if (o.minLength !== undefined || o.maxLength !== undefined || o.pattern !== undefined)
    return { kind: 'string', schema: o };
  return { kind: 'number', schema: o };
}

interface Diff {
  type: string;
  path: string;
}

class DiffContext {
  diffs: Diff[] = [];
  private readonly visiting = new Set<string>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;

  constructor(
    private readonly originalDoc: JsonSchemaDoc,
    private readonly updateDoc: JsonSchemaDoc,
  ) {}

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  add(type: string, path: string): void {
    this.diffs.push({ type, path });
  }

  /** Runs a comparison in isolation; true when it found only compatible differences. */
  trial(original: unknown, update: unknown, path: string): { ok: boolean; diffs: Diff[] } {
    const saved = this.diffs;
    this.diffs = [];
    this.compare(original, update, path);
    const diffs = this.diffs;
    this.diffs = saved;
    return { ok: diffs.every((d) => COMPATIBLE_CHANGES.has(d.type)), diffs };
  }

  private deref(s: unknown, doc: JsonSchemaDoc): Json {
    let cur = s as Json;
    for (let hops = 0; hops < 32 && typeof cur === 'object' && typeof cur.$ref === 'string'; hops++) {
      cur = resolveRef(cur.$ref, doc);
    }
    return cur;
  }

  compare(originalIn: unknown, updateIn: unknown, path: string): void {
    if (originalIn === undefined && updateIn === undefined) return;
    if (originalIn === undefined) {
      this.add('SCHEMA_ADDED', path);
      return;
    }
    if (updateIn === undefined) {
      this.add('SCHEMA_REMOVED', path);
      return;
    }
    const original = this.deref(originalIn, this.originalDoc);
    const update = this.deref(updateIn, this.updateDoc);
    const o = kindOf(original);
    const u = kindOf(update);

    if (o.kind !== 'combined' && u.kind === 'combined') {
      const subs = combinedSubschemas(u.schema);
      if (subs.criterion !== 'allOf' || subs.schemas.length === 1) {
        for (const sub of subs.schemas) {
          const t = this.trial(originalIn, sub, path);
          if (t.ok) {
            this.diffs.push(...t.diffs);
            if (subs.schemas.length > 1) this.add('SUM_TYPE_EXTENDED', path);
            return;
          }
        }
      }
    } else if (o.kind === 'combined' && u.kind !== 'combined') {
      const subs = combinedSubschemas(o.schema);
      if (subs.schemas.length === 1) {
        const t = this.trial(subs.schemas[0], updateIn, path);
        if (t.ok) {
          this.diffs.push(...t.diffs);
          return;
        }
      }
    }

    if (o.kind !== u.kind) {
      if (o.kind === 'false' || u.kind === 'empty') return;
      this.add('TYPE_CHANGED', path);
      return;
    }
    if (typeof original === 'object' && typeof update === 'object') {
      const key = `${this.id(original)}:${this.id(update)}`;
      if (this.visiting.has(key)) return;
      this.visiting.add(key);
      try {
        this.compareSame(o.kind, o.schema, u.schema, path);
      } finally {
        this.visiting.delete(key);
      }
    }
  }

  private compareSame(
    kind: Kind,
    o: Record<string, unknown>,
    u: Record<string, unknown>,
    path: string,
  ): void {
    if (JSON.stringify(o.default) !== JSON.stringify(u.default)) this.add('DEFAULT_CHANGED', path);
    switch (kind) {
      case 'string':
        this.bound(o.maxLength, u.maxLength, 'MAX_LENGTH', 'max', path);
        this.bound(o.minLength, u.minLength, 'MIN_LENGTH', 'min', path);
        if (o.pattern !== u.pattern) {
          if (o.pattern === undefined) this.add('PATTERN_ADDED', path);
          else if (u.pattern === undefined) this.add('PATTERN_REMOVED', path);
          else this.add('PATTERN_CHANGED', path);
        }
        return;
      case 'number': {
        const oi = o.type === 'integer';
        const ui = u.type === 'integer';
        if (oi && !ui) this.add('TYPE_EXTENDED', path);
        if (!oi && ui) this.add('TYPE_NARROWED', path);
        this.bound(o.maximum, u.maximum, 'MAXIMUM', 'max', path);
        this.bound(o.minimum, u.minimum, 'MINIMUM', 'min', path);
        if (typeof o.exclusiveMaximum === 'number' || typeof u.exclusiveMaximum === 'number')
          this.bound(o.exclusiveMaximum, u.exclusiveMaximum, 'EXCLUSIVE_MAXIMUM', 'max', path);
        if (typeof o.exclusiveMinimum === 'number' || typeof u.exclusiveMinimum === 'number')
          this.bound(o.exclusiveMinimum, u.exclusiveMinimum, 'EXCLUSIVE_MINIMUM', 'min', path);
        if (o.multipleOf !== u.multipleOf) {
          if (o.multipleOf === undefined) this.add('MULTIPLE_OF_ADDED', path);
          else if (u.multipleOf === undefined) this.add('MULTIPLE_OF_REMOVED', path);
          else if ((o.multipleOf as number) % (u.multipleOf as number) === 0)
            this.add('MULTIPLE_OF_REDUCED', path);
          else if ((u.multipleOf as number) % (o.multipleOf as number) === 0)
            this.add('MULTIPLE_OF_EXPANDED', path);
          else this.add('MULTIPLE_OF_CHANGED', path);
        }
        return;
      }
      case 'enum': {
        const ov = enumValues(o).map((v) => JSON.stringify(v));
        const uv = enumValues(u).map((v) => JSON.stringify(v));
        const oInU = ov.every((v) => uv.includes(v));
        const uInO = uv.every((v) => ov.includes(v));
        if (oInU && uInO) return;
        if (oInU) this.add('ENUM_ARRAY_EXTENDED', `${path}/enum`);
        else if (uInO) this.add('ENUM_ARRAY_NARROWED', `${path}/enum`);
        else this.add('ENUM_ARRAY_CHANGED', `${path}/enum`);
        return;
      }
      case 'not': {
        // The reader's `not` may exclude less than the writer's, never more.
        const t = this.trial(u.not, o.not, `${path}/not`);
        this.add(t.ok ? 'NOT_TYPE_NARROWED' : 'NOT_TYPE_EXTENDED', path);
        return;
      }
      case 'combined': {
        this.compareCombined(o, u, path);
        return;
      }
      case 'object': {
        this.compareObject(o, u, path);
        return;
      }
      case 'array': {
        this.compareArray(o, u, path);
        return;
      }
      default:
        return;
    }
  }

  private bound(o: unknown, u: unknown, name: string, dir: 'max' | 'min', path: string): void {
    if (o === u) return;
    const p = `${path}/${camel(name)}`;
    if (o === undefined) {
      this.add(`${name}_ADDED`, p);
      return;
    }
    if (u === undefined) {
      this.add(`${name}_REMOVED`, p);
      return;
    }
    const up = (u as number) > (o as number);
    if (dir === 'max') this.add(up ? `${name}_INCREASED` : `${name}_DECREASED`, p);
    else this.add(up ? `${name}_INCREASED` : `${name}_DECREASED`, p);
  }

  private compareCombined(o: Record<string, unknown>, u: Record<string, unknown>, path: string): void {
    const os = combinedSubschemas(o);
    const us = combinedSubschemas(u);
    if (os.criterion !== us.criterion) {
      // anyOf ↔ oneOf of one branch each is the same set of values.
      if (
        !(
          os.criterion !== 'allOf' &&
          us.criterion !== 'allOf' &&
          os.schemas.length === 1 &&
          us.schemas.length === 1
        )
      ) {
        this.add('COMBINED_TYPE_CHANGED', path);
        return;
      }
    }
    const sum = os.criterion !== 'allOf';
    if (us.schemas.length > os.schemas.length)
      this.add(sum ? 'SUM_TYPE_EXTENDED' : 'PRODUCT_TYPE_EXTENDED', path);
    else if (us.schemas.length < os.schemas.length)
      this.add(sum ? 'SUM_TYPE_NARROWED' : 'PRODUCT_TYPE_NARROWED', path);
    // Each branch on the smaller side must match a distinct branch on the other.
    const used = new Set<number>();
    const [small, large, smallIsOriginal] =
      os.schemas.length <= us.schemas.length
        ? [os.schemas, us.schemas, true]
        : [us.schemas, os.schemas, false];
    small.forEach((s, i) => {
      const p = `${path}/${os.criterion}/${i}`;
      let best = -1;
      for (let j = 0; j < large.length; j++) {
        if (used.has(j)) continue;
        const t = smallIsOriginal ? this.trial(s, large[j], p) : this.trial(large[j], s, p);
        if (t.ok) {
          best = j;
          this.diffs.push(...t.diffs);
          break;
        }
      }
      if (best === -1) this.add('COMBINED_TYPE_SUBSCHEMAS_CHANGED', p);
      else used.add(best);
    });
  }

  private compareObject(o: Record<string, unknown>, u: Record<string, unknown>, path: string): void {
    const oProps = (o.properties ?? {}) as Record<string, unknown>;
    const uProps = (u.properties ?? {}) as Record<string, unknown>;
    const oReq = new Set((o.required ?? []) as string[]);
    const uReq = new Set((u.required ?? []) as string[]);
    for (const name of Object.keys(oProps)) {
      if (!(name in uProps)) continue;
      const p = `${path}/required/${name}`;
      if (oReq.has(name) && !uReq.has(name)) this.add('REQUIRED_ATTRIBUTE_REMOVED', p);
      else if (!oReq.has(name) && uReq.has(name)) {
        this.add(
          hasDefault(uProps[name]) ? 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED' : 'REQUIRED_ATTRIBUTE_ADDED',
          p,
        );
      }
    }
    for (const name of new Set([...Object.keys(oProps), ...Object.keys(uProps)])) {
      const p = `${path}/properties/${name}`;
      const os = oProps[name];
      const us = uProps[name];
      if (us === undefined) {
        if (isOpen(u)) this.add('PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL', p);
        else {
          const partial = partialSchemaFor(u, name);
          if (partial !== undefined) {
            const t = this.trial(os, partial, p);
            this.diffs.push(...t.diffs);
            this.add(
              t.ok
                ? 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
                : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
              p,
            );
          } else if (os === false) this.add('PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL', p);
          else this.add('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', p);
        }
      } else if (os === undefined) {
        if (isOpen(o)) {
          this.add(
            kindOf(us as Json).kind === 'empty'
              ? 'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL'
              : 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
            p,
          );
        } else {
          const partial = partialSchemaFor(o, name);
          if (partial !== undefined) {
            const t = this.trial(partial, us, p);
            this.diffs.push(...t.diffs);
            this.add(
              t.ok
                ? 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
                : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
              p,
            );
          }
          if (uReq.has(name)) {
            this.add(
              hasDefault(us)
                ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL'
                : 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
              p,
            );
          } else this.add('OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', p);
        }
      } else this.compare(os, us, p);
    }
    const ap = `${path}/additionalProperties`;
    const oPermits = o.additionalProperties !== false;
    const uPermits = u.additionalProperties !== false;
    const oAp = typeof o.additionalProperties === 'object' ? o.additionalProperties : undefined;
    const uAp = typeof u.additionalProperties === 'object' ? u.additionalProperties : undefined;
    if (oPermits !== uPermits)
      this.add(uPermits ? 'ADDITIONAL_PROPERTIES_ADDED' : 'ADDITIONAL_PROPERTIES_REMOVED', ap);
    else if (oAp === undefined && uAp !== undefined) this.add('ADDITIONAL_PROPERTIES_NARROWED', ap);
    else if (oAp !== undefined && uAp === undefined) this.add('ADDITIONAL_PROPERTIES_EXTENDED', ap);
    else if (oAp !== undefined && uAp !== undefined) this.compare(oAp, uAp, ap);
    this.bound(o.maxProperties, u.maxProperties, 'MAX_PROPERTIES', 'max', path);
    this.bound(o.minProperties, u.minProperties, 'MIN_PROPERTIES', 'min', path);
  }

  private compareArray(o: Record<string, unknown>, u: Record<string, unknown>, path: string): void {
    const oi = o.items;
    const ui = u.items;
    const p = `${path}/items`;
    if (!Array.isArray(oi) && !Array.isArray(ui)) {
      if (oi === undefined && ui !== undefined) {
        if (kindOf(ui as Json).kind !== 'empty') this.add('ADDITIONAL_ITEMS_NARROWED', p);
      } else if (oi !== undefined && ui === undefined) this.add('ADDITIONAL_ITEMS_EXTENDED', p);
      else if (oi !== undefined) this.compare(oi, ui, p);
    } else if (Array.isArray(oi) && Array.isArray(ui)) {
      const n = Math.max(oi.length, ui.length);
      for (let i = 0; i < n; i++) {
        if (i >= ui.length) this.add('ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL', `${p}/${i}`);
        else if (i >= oi.length) this.add('ITEM_ADDED_TO_OPEN_CONTENT_MODEL', `${p}/${i}`);
        else this.compare(oi[i], ui[i], `${p}/${i}`);
      }
    } else this.add('TYPE_CHANGED', p);
    this.bound(o.maxItems, u.maxItems, 'MAX_ITEMS', 'max', path);
    this.bound(o.minItems, u.minItems, 'MIN_ITEMS', 'min', path);
    if (o.uniqueItems === true && u.uniqueItems !== true) this.add('UNIQUE_ITEMS_REMOVED', path);
    if (o.uniqueItems !== true && u.uniqueItems === true) this.add('UNIQUE_ITEMS_ADDED', path);
  }
}

function camel(upper: string): string {
  return upper.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function enumValues(s: Record<string, unknown>): unknown[] {
  return Array.isArray(s.enum) ? s.enum : [s.const];
}

function hasDefault(s: unknown): boolean {
  return typeof s === 'object' && s !== null && Object.hasOwn(s, 'default');
}

function isOpen(s: Record<string, unknown>): boolean {
  const pp = s.patternProperties as Record<string, unknown> | undefined;
  return (
    (pp === undefined || Object.keys(pp).length === 0) &&
    (s.additionalProperties === undefined || s.additionalProperties === true)
  );
}

function partialSchemaFor(s: Record<string, unknown>, name: string): unknown {
  const pp = (s.patternProperties ?? {}) as Record<string, unknown>;
  for (const [pattern, schema] of Object.entries(pp)) {
    try {
      if (new RegExp(pattern, 'u').test(name)) return schema;
    } catch {
      // an invalid pattern was already rejected by ajv
    }
  }
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

function combinedSubschemas(s: Record<string, unknown>): { criterion: string; schemas: unknown[] } {
  for (const c of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(s[c])) return { criterion: c, schemas: s[c] as unknown[] };
  }
  return { criterion: 'allOf', schemas: [s] };
}

function resolveRef(ref: string, doc: JsonSchemaDoc): Json {
  const hash = ref.indexOf('#');
  const base = hash === -1 ? ref : ref.slice(0, hash);
  const pointer = hash === -1 ? '' : ref.slice(hash + 1);
  const root = base === '' ? doc.json : doc.deps.get(base);
  if (root === undefined) return true; // ajv resolved it at parse time; unknown here means "anything"
  let cur: unknown = root;
  for (const part of pointer.split('/').filter((p) => p !== '')) {
    const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
    cur = (cur as Record<string, unknown> | undefined)?.[key];
  }
  return (cur ?? true) as Json;
}

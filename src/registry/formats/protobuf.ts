/**
 * Protobuf: parsing with protobufjs (imports satisfied by references, or by the bundled
 * google/protobuf well-known types), canonical text, and compatibility by Confluent's
 * Protobuf diff: compare the writer ("original") and reader ("update") files message by
 * message and field by field NUMBER, and accept only Confluent's COMPATIBLE_CHANGES:
 *   - fields added or removed, renamed (names are not on the wire), oneofs added/removed,
 *     messages added or moved, enums and enum constants changed: compatible;
 *   - a field's kind changing (scalar / message / map): FIELD_KIND_CHANGED;
 *   - a scalar changing outside its wire group (int32/int64/uint32/uint64/bool/enum,
 *     sint32/sint64, string/bytes, fixed32/sfixed32, fixed64/sfixed64, float, double):
 *     FIELD_SCALAR_KIND_CHANGED; a message type changing: FIELD_NAMED_TYPE_CHANGED;
 *   - singular ↔ repeated: fine for string/bytes/message, FIELD_NUMERIC_LABEL_CHANGED else;
 *   - package changed, message removed, proto2 required added/removed, a field removed
 *     from a oneof, several fields moved into one oneof: incompatible;
 *   - a field taking a number the writer schema reserves: RESERVED_FIELD_NUMBER_REUSED
 *     (newer Confluent versions check reserved numbers too; this name is Sluice's).
 * So "changing a field's number" is, as in Confluent, a removal plus an addition and is
 * compatible; it is the TYPE at a reused number that breaks.
 * Canonical text: re-printed from the parse (comments and whitespace dropped, fields in
 * number order, declaration order of types kept because Confluent's message indexes
 * count it); `normalize` additionally sorts imports and options. If the re-printed
 * text would not parse back to the same descriptor (a construct the printer does not
 * render), the submitted text is stored verbatim instead: never lose schema content.
 */
import protobuf from 'protobufjs';
import { RegistryErrorCodes, registryError } from '../errors.js';
import {
  type CheckLabels,
  type CompatibilityIssue,
  type ParsedSchema,
  type ResolvedReference,
  type SchemaProvider,
  sortedJson,
} from './provider.js';

const { Root, Type, Enum, Namespace, Service } = protobuf;
type PbType = protobuf.Type;
type PbEnum = protobuf.Enum;
type PbNamespace = protobuf.Namespace;
type PbField = protobuf.Field;

export class ProtobufSchema implements ParsedSchema {
  readonly type = 'PROTOBUF' as const;
  constructor(
    /** Package of this file ('' if none). */
    readonly pkg: string,
    readonly syntax: string,
    readonly imports: string[],
    /** This file's own parse, unresolved: what canonical() prints. */
    readonly own: protobuf.Root,
    /** This file plus every reference, resolved: what checks and serdes use. */
    readonly root: protobuf.Root,
    /** The text as submitted: stored verbatim when re-printing would not be faithful. */
    readonly text: string,
  ) {}

  /** Top-level messages of this file, in declaration order (index = Confluent message index). */
  topMessages(): PbType[] {
    const ns = this.pkg === '' ? this.root : (this.root.lookup(this.pkg) as PbNamespace);
    const own = this.pkg === '' ? this.own : (this.own.lookup(this.pkg) as PbNamespace);
    return own.nestedArray
      .filter((n) => n instanceof Type)
      .map((n) => ns.lookup(n.name) as PbType)
      .filter((t) => t instanceof Type);
  }

  /** Confluent message indexes of a message of this file, by full name ('.pkg.Outer.Inner' or 'Outer.Inner'). */
  messageIndexes(fullName: string): number[] {
    const name = fullName.replace(/^\./, '');
    const local = this.pkg !== '' && name.startsWith(`${this.pkg}.`) ? name.slice(this.pkg.length + 1) : name;
    const parts = local.split('.');
    const indexes: number[] = [];
    let candidates = this.topMessages();
    for (const part of parts) {
      const i = candidates.findIndex((t) => t.name === part);
      if (i === -1) throw new Error(`message ${fullName} is not in this schema`);
      indexes.push(i);
      candidates = candidates[i].nestedArray.filter((n): n is PbType => n instanceof Type);
    }
    return indexes;
  }

  /** The message at Confluent message indexes. */
  messageAt(indexes: readonly number[]): PbType {
    let candidates = this.topMessages();
    let t: PbType | undefined;
    for (const i of indexes.length === 0 ? [0] : indexes) {
      t = candidates[i];
      if (t === undefined) throw new Error(`no message at indexes [${indexes.join(',')}]`);
      candidates = t.nestedArray.filter((n): n is PbType => n instanceof Type);
    }
    return t as PbType;
  }

  canonical(normalize: boolean): string {
    const printed = printFile(this, normalize);
    // Safety net: constructs the printer does not know (extensions, groups, aggregate
    // options…) must not be lost. If the re-printed file does not parse to the same
    // descriptor, the submitted text is stored as is (trimmed).
    try {
      const again = protobuf.parse(printed, new Root(), { keepCase: true }).root.toJSON();
      if (sortedJson(again) === sortedJson(this.own.toJSON())) return printed;
    } catch {
      // fall through
    }
    return `${this.text.trim()}\n`;
  }
}

function invalid(message: string, cause?: unknown): Error {
  return registryError(RegistryErrorCodes.INVALID_SCHEMA, `Invalid schema: ${message}`, cause);
}

const SYNTAX_RE = /^\s*syntax\s*=\s*["'](proto2|proto3)["']/m;

function parseInto(text: string, root: protobuf.Root, what: string): protobuf.IParserResult {
  try {
    return protobuf.parse(text, root, { keepCase: true, alternateCommentMode: true });
  } catch (err) {
    throw invalid(`${what}: ${(err as Error).message}`, err);
  }
}

export const protobufProvider: SchemaProvider<ProtobufSchema> = {
  type: 'PROTOBUF',

  parse(schema: string, deps: readonly ResolvedReference[]): ProtobufSchema {
    const ownParse = parseInto(schema, new Root(), 'schema');
    const root = new Root();
    const provided = new Set<string>();
    const loadCommon = (name: string): boolean => {
      const common = protobuf.common.get(name);
      if (common === null || common === undefined) return false;
      if (!provided.has(name)) {
        root.addJSON(common.nested ?? {});
        provided.add(name);
      }
      return true;
    };
    for (const dep of deps) {
      if (dep.schemaType !== 'PROTOBUF')
        throw invalid(`reference '${dep.name}' is a ${dep.schemaType} schema`);
      if (provided.has(dep.name)) continue;
      const r = parseInto(dep.schema, root, `reference '${dep.name}'`);
      provided.add(dep.name);
      for (const imp of [...(r.imports ?? []), ...(r.weakImports ?? [])]) {
        if (!deps.some((d) => d.name === imp) && !loadCommon(imp)) {
          throw invalid(`reference '${dep.name}' imports '${imp}', which is not among the references`);
        }
      }
    }
    const imports = [...(ownParse.imports ?? []), ...(ownParse.weakImports ?? [])];
    for (const imp of imports) {
      if (!provided.has(imp) && !loadCommon(imp)) {
        throw invalid(`import '${imp}' is not a known reference (add it to "references")`);
      }
    }
    parseInto(schema, root, 'schema');
    try {
      root.resolveAll();
    } catch (err) {
      throw invalid((err as Error).message, err);
    }
    const syntax = SYNTAX_RE.exec(schema)?.[1] ?? 'proto2';
    return new ProtobufSchema(ownParse.package ?? '', syntax, imports, ownParse.root, root, schema);
  },

  check(reader: ProtobufSchema, writer: ProtobufSchema, labels: CheckLabels): CompatibilityIssue[] {
    const ctx = new PbDiff(writer, reader);
    if (writer.pkg !== reader.pkg) ctx.add('PACKAGE_CHANGED', '#/');
    ctx.compareTypes(ownTypes(writer), ownTypes(reader), '#');
    return ctx.diffs
      .filter((d) => !COMPATIBLE.has(d.type))
      .map((d) => ({ errorType: d.type, path: d.path, description: describe(d.type, d.path, labels) }));
  },
};

function ownTypes(s: ProtobufSchema): protobuf.ReflectionObject[] {
  const ns = s.pkg === '' ? s.root : (s.root.lookup(s.pkg) as PbNamespace);
  const own = s.pkg === '' ? s.own : (s.own.lookup(s.pkg) as PbNamespace);
  return own.nestedArray
    .map((n) => ns.lookup(n.name))
    .filter((n): n is protobuf.ReflectionObject => n !== null);
}

// Confluent's protobuf SchemaDiff.COMPATIBLE_CHANGES.
const COMPATIBLE = new Set([
  'MESSAGE_ADDED',
  'MESSAGE_MOVED',
  'ENUM_ADDED',
  'ENUM_REMOVED',
  'ENUM_CONST_ADDED',
  'ENUM_CONST_CHANGED',
  'ENUM_CONST_REMOVED',
  'FIELD_ADDED',
  'FIELD_REMOVED',
  'FIELD_NAME_CHANGED',
  'FIELD_STRING_OR_BYTES_LABEL_CHANGED',
  'ONEOF_ADDED',
  'ONEOF_REMOVED',
  'ONEOF_FIELD_ADDED',
]);

function describe(type: string, path: string, l: CheckLabels): string {
  switch (type) {
    case 'FIELD_KIND_CHANGED':
      return `The kind of the field at path '${path}' in the ${l.reader} schema does not match its kind in the ${l.writer} schema`;
    case 'FIELD_SCALAR_KIND_CHANGED':
      return `The type of the field at path '${path}' in the ${l.reader} schema is not wire-compatible with its type in the ${l.writer} schema`;
    case 'FIELD_NAMED_TYPE_CHANGED':
      return `The message type of the field at path '${path}' in the ${l.reader} schema does not match the ${l.writer} schema`;
    case 'FIELD_NUMERIC_LABEL_CHANGED':
      return `The numeric field at path '${path}' changes between singular and repeated`;
    case 'PACKAGE_CHANGED':
      return `The package at path '${path}' of the ${l.reader} schema differs from the ${l.writer} schema`;
    case 'MESSAGE_REMOVED':
      return `The message at path '${path}' of the ${l.writer} schema is missing in the ${l.reader} schema`;
    case 'REQUIRED_FIELD_ADDED':
      return `The required field at path '${path}' of the ${l.reader} schema is missing in the ${l.writer} schema`;
    case 'REQUIRED_FIELD_REMOVED':
      return `The required field at path '${path}' of the ${l.writer} schema is missing in the ${l.reader} schema`;
    case 'ONEOF_FIELD_REMOVED':
      return `A field of the oneof at path '${path}' in the ${l.writer} schema is missing in the ${l.reader} schema`;
    case 'RESERVED_FIELD_NUMBER_REUSED':
      return `The field at path '${path}' in the ${l.reader} schema uses a number reserved in the ${l.writer} schema`;
    case 'MULTIPLE_FIELDS_MOVED_TO_ONEOF':
      return `Several existing fields were moved into the oneof at path '${path}'`;
    case 'FIELD_MOVED_TO_EXISTING_ONEOF':
      return `An existing field was moved into the existing oneof at path '${path}'`;
    default:
      return `${type} at path '${path}'`;
  }
}

const SCALAR_GROUP: Record<string, string> = {
  int32: 'GENERAL_NUMBER',
  int64: 'GENERAL_NUMBER',
  uint32: 'GENERAL_NUMBER',
  uint64: 'GENERAL_NUMBER',
  bool: 'GENERAL_NUMBER',
  sint32: 'SIGNED_NUMBER',
  sint64: 'SIGNED_NUMBER',
  string: 'STRING_OR_BYTES',
  bytes: 'STRING_OR_BYTES',
  fixed32: 'FIXED32',
  sfixed32: 'FIXED32',
  fixed64: 'FIXED64',
  sfixed64: 'FIXED64',
  float: 'FLOAT',
  double: 'DOUBLE',
};

function isSyntheticOneof(o: protobuf.OneOf): boolean {
  return o.fieldsArray.length === 1 && o.fieldsArray[0].options?.proto3_optional === true;
}

class PbDiff {
  diffs: { type: string; path: string }[] = [];
  private readonly visiting = new Set<string>();
  constructor(
    private readonly original: ProtobufSchema,
    private readonly update: ProtobufSchema,
  ) {}

  add(type: string, path: string): void {
    this.diffs.push({ type, path });
  }

  compareTypes(
    original: protobuf.ReflectionObject[],
    update: protobuf.ReflectionObject[],
    path: string,
  ): void {
    const om = original.filter((n): n is PbType => n instanceof Type);
    const um = update.filter((n): n is PbType => n instanceof Type);
    for (const name of new Set([...om.map((t) => t.name), ...um.map((t) => t.name)])) {
      const o = om.find((t) => t.name === name);
      const u = um.find((t) => t.name === name);
      const p = `${path}/${name}`;
      if (u === undefined) this.add('MESSAGE_REMOVED', p);
      else if (o === undefined) this.add('MESSAGE_ADDED', p);
      else {
        this.compareMessage(o, u, p);
        if (om.indexOf(o) !== um.indexOf(u)) this.add('MESSAGE_MOVED', p);
      }
    }
    const oe = original.filter((n): n is PbEnum => n instanceof Enum);
    const ue = update.filter((n): n is PbEnum => n instanceof Enum);
    for (const name of new Set([...oe.map((t) => t.name), ...ue.map((t) => t.name)])) {
      const o = oe.find((t) => t.name === name);
      const u = ue.find((t) => t.name === name);
      const p = `${path}/${name}`;
      if (u === undefined) this.add('ENUM_REMOVED', p);
      else if (o === undefined) this.add('ENUM_ADDED', p);
      else {
        for (const [k, v] of Object.entries(o.values)) {
          const uv = Object.entries(u.values).find(([, n]) => n === v);
          if (uv === undefined) this.add('ENUM_CONST_REMOVED', `${p}/${k}`);
          else if (uv[0] !== k) this.add('ENUM_CONST_CHANGED', `${p}/${k}`);
        }
        for (const [k, v] of Object.entries(u.values)) {
          if (!Object.values(o.values).includes(v)) this.add('ENUM_CONST_ADDED', `${p}/${k}`);
        }
      }
    }
  }

  compareMessage(o: PbType, u: PbType, path: string): void {
    const key = `${o.fullName}|${u.fullName}`;
    if (this.visiting.has(key)) return;
    this.visiting.add(key);
    try {
      const oneofsOf = (t: PbType) => t.oneofsArray.filter((x) => !isSyntheticOneof(x));
      const inOneof = (f: PbField) =>
        f.partOf !== null && f.partOf !== undefined && !isSyntheticOneof(f.partOf);
      const oTop = new Map(o.fieldsArray.filter((f) => !inOneof(f)).map((f) => [f.id, f]));
      const uTop = new Map(u.fieldsArray.filter((f) => !inOneof(f)).map((f) => [f.id, f]));
      const oOneofIds = new Map<number, string>();
      for (const of of oneofsOf(o)) for (const f of of.fieldsArray) oOneofIds.set(f.id, of.name);
      for (const uo of oneofsOf(u)) {
        let moved = 0;
        let existing = 0;
        for (const f of uo.fieldsArray) {
          if (oTop.delete(f.id)) moved++;
          else if (oOneofIds.has(f.id)) existing++;
        }
        if (moved > 1) this.add('MULTIPLE_FIELDS_MOVED_TO_ONEOF', `${path}/${uo.name}`);
        else if (moved === 1 && existing > 0) this.add('FIELD_MOVED_TO_EXISTING_ONEOF', `${path}/${uo.name}`);
      }
      const oOneofs = new Map(oneofsOf(o).map((x) => [x.name, x]));
      const uOneofs = new Map(oneofsOf(u).map((x) => [x.name, x]));
      for (const name of new Set([...oOneofs.keys(), ...uOneofs.keys()])) {
        const oo = oOneofs.get(name);
        const uo = uOneofs.get(name);
        const p = `${path}/${name}`;
        if (uo === undefined) this.add('ONEOF_REMOVED', p);
        else if (oo === undefined) this.add('ONEOF_ADDED', p);
        else {
          const uf = new Map(uo.fieldsArray.map((f) => [f.id, f]));
          const of = new Map(oo.fieldsArray.map((f) => [f.id, f]));
          for (const [id, f] of of) {
            const g = uf.get(id);
            if (g === undefined) this.add('ONEOF_FIELD_REMOVED', `${p}/${id}`);
            else this.compareField(f, g, `${path}/${id}`);
          }
          for (const id of uf.keys()) if (!of.has(id)) this.add('ONEOF_FIELD_ADDED', `${p}/${id}`);
        }
      }
      for (const id of new Set([...oTop.keys(), ...uTop.keys()])) {
        const of = oTop.get(id);
        const uf = uTop.get(id);
        const p = `${path}/${id}`;
        if (uf === undefined)
          this.add(of?.rule === 'required' ? 'REQUIRED_FIELD_REMOVED' : 'FIELD_REMOVED', p);
        else if (of === undefined)
          this.add(uf.rule === 'required' ? 'REQUIRED_FIELD_ADDED' : 'FIELD_ADDED', p);
        else this.compareField(of, uf, p);
      }
      // A number the writer reserved (a field removed earlier) must not come back: old data
      // may still hold the removed field under it. Newer Confluent versions check this too
      // (ReservedNumbers); the difference name here is Sluice's.
      const reservedInOriginal = (id: number) =>
        (o.reserved ?? []).some((r) => Array.isArray(r) && id >= r[0] && id <= r[1]);
      for (const uf of u.fieldsArray) {
        if (!o.fieldsArray.some((f) => f.id === uf.id) && reservedInOriginal(uf.id)) {
          this.add('RESERVED_FIELD_NUMBER_REUSED', `${path}/${uf.id}`);
        }
      }
      // Fields moved into or out of a oneof still need their types compared.
      const oAll = new Map(o.fieldsArray.map((f) => [f.id, f]));
      for (const uf of u.fieldsArray) {
        const of = oAll.get(uf.id);
        if (of === undefined) continue;
        const oName = inOneof(of) ? of.partOf?.name : undefined;
        const uName = inOneof(uf) ? uf.partOf?.name : undefined;
        if (oName === uName) continue;
        this.compareField(of, uf, `${path}/${uf.id}`);
      }
      this.compareTypes(o.nestedArray, u.nestedArray, path);
    } finally {
      this.visiting.delete(key);
    }
  }

  private compareField(o: PbField, u: PbField, path: string): void {
    if (o.name !== u.name) this.add('FIELD_NAME_CHANGED', path);
    const ok = kindOfField(o);
    const uk = kindOfField(u);
    if (ok !== uk) {
      this.add('FIELD_KIND_CHANGED', path);
      return;
    }
    if (ok === 'MAP') {
      if (SCALAR_GROUP[keyTypeOf(o)] !== SCALAR_GROUP[keyTypeOf(u)])
        this.add('FIELD_SCALAR_KIND_CHANGED', path);
      this.compareValueTypes(o, u, path);
      return;
    }
    this.compareValueTypes(o, u, path);
    const oRep = o.repeated;
    const uRep = u.repeated;
    if (oRep !== uRep) {
      const lengthDelimited = ok === 'MESSAGE' || SCALAR_GROUP[o.type] === 'STRING_OR_BYTES';
      this.add(lengthDelimited ? 'FIELD_STRING_OR_BYTES_LABEL_CHANGED' : 'FIELD_NUMERIC_LABEL_CHANGED', path);
    }
  }

  private compareValueTypes(o: PbField, u: PbField, path: string): void {
    const ot = o.resolvedType;
    const ut = u.resolvedType;
    const oScalar = ot === null || ot instanceof Enum;
    const uScalar = ut === null || ut instanceof Enum;
    if (oScalar !== uScalar) {
      this.add('FIELD_KIND_CHANGED', path);
      return;
    }
    if (oScalar) {
      const og = ot instanceof Enum ? 'GENERAL_NUMBER' : SCALAR_GROUP[o.type];
      const ug = ut instanceof Enum ? 'GENERAL_NUMBER' : SCALAR_GROUP[u.type];
      if (og !== ug) this.add('FIELD_SCALAR_KIND_CHANGED', path);
      return;
    }
    const om = ot as PbType;
    const um = ut as PbType;
    const local = (t: PbType, s: ProtobufSchema) => {
      const full = t.fullName.replace(/^\./, '');
      return s.pkg !== '' && full.startsWith(`${s.pkg}.`) ? full.slice(s.pkg.length + 1) : full;
    };
    if (local(om, this.original) !== local(um, this.update)) {
      this.add('FIELD_NAMED_TYPE_CHANGED', path);
      return;
    }
    const before = this.diffs.length;
    this.compareMessage(om, um, `#/${local(om, this.original)}`);
    if (this.diffs.slice(before).some((d) => !COMPATIBLE.has(d.type)))
      this.add('FIELD_NAMED_TYPE_CHANGED', path);
  }
}

function keyTypeOf(f: PbField): string {
  return (f as unknown as { keyType: string }).keyType;
}

function kindOfField(f: PbField): 'MAP' | 'MESSAGE' | 'SCALAR' {
  if (f.map) return 'MAP';
  return f.resolvedType instanceof Type ? 'MESSAGE' : 'SCALAR';
}

// ---- printing --------------------------------------------------------------------

function quote(s: string): string {
  return JSON.stringify(s);
}

// Options whose values are enum constants (printed bare); every other string is quoted.
const ENUM_OPTIONS = new Set(['optimize_for', 'ctype', 'jstype', 'idempotency_level']);

function optionValue(v: unknown, key = ''): string {
  if (typeof v === 'string') return ENUM_OPTIONS.has(key) ? v : quote(v);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function printOptions(
  options: Record<string, unknown> | undefined,
  indent: string,
  normalize: boolean,
): string[] {
  if (options === undefined) return [];
  const entries = Object.entries(options).filter(([k]) => k !== 'proto3_optional');
  if (normalize) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${indent}option ${k.includes('.') ? `(${k})` : k} = ${optionValue(v, k)};`);
}

function fieldOptions(f: PbField): string {
  const entries = Object.entries(f.options ?? {}).filter(([k]) => k !== 'proto3_optional');
  if (entries.length === 0) return '';
  return ` [${entries.map(([k, v]) => `${k} = ${optionValue(v, k)}`).join(', ')}]`;
}

function printField(f: PbField, syntax: string, inOneof: boolean): string {
  const opts = fieldOptions(f);
  if (f.map) return `map<${keyTypeOf(f)}, ${f.type}> ${f.name} = ${f.id}${opts};`;
  let label = '';
  if (!inOneof) {
    if (f.rule === 'repeated') label = 'repeated ';
    else if (f.rule === 'required') label = 'required ';
    else if (f.options?.proto3_optional === true || (syntax === 'proto2' && f.rule !== 'repeated'))
      label = 'optional ';
  }
  return `${label}${f.type} ${f.name} = ${f.id}${opts};`;
}

function printReserved(reserved: (number[] | string)[] | undefined, indent: string): string[] {
  if (reserved === undefined || reserved.length === 0) return [];
  const ranges = reserved.filter((r): r is number[] => Array.isArray(r));
  const names = reserved.filter((r): r is string => typeof r === 'string');
  const out: string[] = [];
  if (ranges.length > 0) {
    const text = ranges
      .map(([a, b]) => (a === b ? `${a}` : b === 0x1fffffff ? `${a} to max` : `${a} to ${b}`))
      .join(', ');
    out.push(`${indent}reserved ${text};`);
  }
  if (names.length > 0) out.push(`${indent}reserved ${names.map(quote).join(', ')};`);
  return out;
}

function printType(
  t: protobuf.ReflectionObject,
  indent: string,
  syntax: string,
  normalize: boolean,
): string[] {
  const inner = `${indent}  `;
  if (t instanceof Type) {
    const out = [`${indent}message ${t.name} {`];
    out.push(...printOptions(t.options, inner, normalize));
    const realOneofs = t.oneofsArray.filter((o) => !isSyntheticOneof(o));
    const inReal = (f: PbField) => realOneofs.some((o) => o.fieldsArray.includes(f));
    for (const f of [...t.fieldsArray].filter((x) => !inReal(x)).sort((a, b) => a.id - b.id)) {
      out.push(`${inner}${printField(f, syntax, false)}`);
    }
    for (const o of realOneofs) {
      out.push(`${inner}oneof ${o.name} {`);
      for (const f of [...o.fieldsArray].sort((a, b) => a.id - b.id))
        out.push(`${inner}  ${printField(f, syntax, true)}`);
      out.push(`${inner}}`);
    }
    out.push(...printReserved(t.reserved, inner));
    for (const n of t.nestedArray) out.push(...printType(n, inner, syntax, normalize));
    out.push(`${indent}}`);
    return out;
  }
  if (t instanceof Enum) {
    const out = [`${indent}enum ${t.name} {`];
    out.push(...printOptions(t.options, inner, normalize));
    for (const [k, v] of Object.entries(t.values)) {
      const vo = t.valuesOptions?.[k];
      const opts =
        vo === undefined
          ? ''
          : ` [${Object.entries(vo)
              .map(([a, b]) => `${a} = ${optionValue(b)}`)
              .join(', ')}]`;
      out.push(`${inner}${k} = ${v}${opts};`);
    }
    out.push(...printReserved(t.reserved, inner));
    out.push(`${indent}}`);
    return out;
  }
  if (t instanceof Service) {
    const out = [`${indent}service ${t.name} {`];
    out.push(...printOptions(t.options, inner, normalize));
    for (const m of t.methodsArray) {
      const req = `${m.requestStream ? 'stream ' : ''}${m.requestType}`;
      const res = `${m.responseStream ? 'stream ' : ''}${m.responseType}`;
      out.push(`${inner}rpc ${m.name} (${req}) returns (${res});`);
    }
    out.push(`${indent}}`);
    return out;
  }
  if (t instanceof Namespace) {
    // A nested package segment: flatten by printing its members.
    return t.nestedArray.flatMap((n) => printType(n, indent, syntax, normalize));
  }
  return [];
}

function printFile(s: ProtobufSchema, normalize: boolean): string {
  const lines = [`syntax = ${quote(s.syntax)};`];
  if (s.pkg !== '') lines.push(`package ${s.pkg};`);
  const ns = s.pkg === '' ? s.own : (s.own.lookup(s.pkg) as PbNamespace);
  const imports = normalize ? [...s.imports].sort() : s.imports;
  for (const i of imports) lines.push(`import ${quote(i)};`);
  lines.push(...printOptions(ns.options, '', normalize));
  for (const n of ns.nestedArray) lines.push(...printType(n, '', s.syntax, normalize));
  return `${lines.join('\n')}\n`;
}

/**
 * The generic Kafka message codec: compiles a message definition (schema.ts) at one version
 * into a specialised encoder and decoder, once, by generating JavaScript source
 * (`new Function`). Each struct at each version becomes one straight-line function: no
 * per-field interpretation, no per-call lookups, object literals of a fixed shape (so V8
 * keeps the decoded objects monomorphic).
 *
 * Decoding: every field of the definition appears in the result; fields the version lacks
 * (or tagged fields the sender left out) take their defaults. Strings are copied out of the
 * frame; bytes, uuids and records are views of it. Unknown tagged fields are skipped.
 * Any malformed input throws SluiceError PROTOCOL: truncation (ByteReader), null where the
 * version forbids it, tagged fields whose size disagrees with their content, and array
 * counts that cannot fit in the bytes left (checked before the loop, so a count of 2^31
 * costs nothing and allocates nothing), and more array elements in total than the reader's
 * `elementBudget` (decodeRequest sets one, bounding the objects a single request can create).
 *
 * Encoding: a field left undefined is written as its default. A field the version cannot
 * carry is dropped if it is ignorable or holds its default; otherwise encoding throws
 * SluiceError UNSUPPORTED (as Kafka does). Tagged fields are written only when not default.
 * Records may be one Buffer or a list of Buffers; large ones are appended by reference
 * (ByteWriter.rawRef) so a Fetch response can go to the socket with writev, uncopied.
 *
 * The generated code calls only ByteReader/ByteWriter methods and the helpers below; field
 * names come from our own definitions, never from input, so there is no injection surface.
 */
import { SluiceError } from '../common/index.js';
import { type ByteReader, ByteWriter } from './primitives.js';
import { type Field, inRange, type MessageDef, parseRange, type ScalarType } from './schema.js';

export interface MessageCodec<In = unknown, Out = unknown> {
  readonly version: number;
  encode(w: ByteWriter, body: In): void;
  decode(r: ByteReader): Out;
}

const EMPTY = Buffer.alloc(0);
const ZERO_UUID = Buffer.alloc(16);

function fail(message: string): never {
  throw new SluiceError('PROTOCOL', message);
}

function nullNotAllowed(path: string): never {
  throw new SluiceError('PROTOCOL', `${path} is null, but it is not nullable in this version`);
}

function nullArgument(path: string): never {
  throw new SluiceError('INVALID_ARGUMENT', `${path} may not be null in this version`);
}

function countTooLarge(path: string, n: number, left: number): never {
  throw new SluiceError('PROTOCOL', `${path}: array of ${n} elements cannot fit in the ${left} bytes left`);
}

function tooManyElements(path: string): never {
  throw new SluiceError('PROTOCOL', `${path}: the message has more array elements than allowed`);
}

function notCarried(path: string, version: number): never {
  throw new SluiceError(
    'UNSUPPORTED',
    `${path} has a non-default value but version ${version} cannot carry it`,
  );
}

function writeRecords(w: ByteWriter, v: unknown, flexible: boolean, path: string, nullable: boolean): void {
  if (v === null || v === undefined) {
    if (!nullable) nullArgument(path);
    if (flexible) w.uvarint(0);
    else w.int32(-1);
    return;
  }
  if (Array.isArray(v)) {
    let total = 0;
    for (const b of v as Uint8Array[]) total += b.length;
    if (flexible) w.uvarint(total + 1);
    else w.int32(total);
    for (const b of v as Uint8Array[]) w.rawRef(b);
    return;
  }
  const b = v as Uint8Array;
  if (flexible) w.uvarint(b.length + 1);
  else w.int32(b.length);
  w.rawRef(b);
}

/** The default value of a field, fresh (arrays and structs are new objects each call). */
export function defaultValue(field: Field, version: number): unknown {
  if (field.default !== undefined) {
    if (field.default === null) return null;
    if (field.type === 'bool' && typeof field.default === 'string') return field.default === 'true';
    return field.default;
  }
  const t = field.type;
  if (t === 'struct') return defaultStruct(field.fields ?? [], version);
  if (t.startsWith('[]')) return [];
  switch (t as ScalarType) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
    case 'records':
      // Empty, not null: librdkafka rejects a null records field in Fetch responses
      // ("invalid MessageSetSize -1"); Kafka itself always sends empty records.
      return EMPTY;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function defaultStruct(fields: readonly Field[], version: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultValue(f, version);
  return o;
}

/**
 * The body a decoder would return for `body` encoded at `version`: every field of the
 * definition present, fields the version lacks (or left out) at their defaults, structs and
 * arrays of structs completed the same way. Values are kept by reference (records, bytes).
 * For callers that hand request objects to handlers without encoding them (the embedded
 * transport) and for round-trip tests.
 */
export function withDefaults(
  fields: readonly Field[],
  version: number,
  body: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = body[f.name];
    if (!inRange(f.versions, version) || v === undefined) {
      out[f.name] = defaultValue(f, version);
      continue;
    }
    if (f.type === 'struct' && v !== null)
      out[f.name] = withDefaults(f.fields ?? [], version, v as Record<string, unknown>);
    else if (f.type === '[]struct' && v !== null)
      out[f.name] = (v as Record<string, unknown>[]).map((e) => withDefaults(f.fields ?? [], version, e));
    else out[f.name] = v;
  }
  return out;
}

/** Whether a value equals the field's default (tagged fields are omitted when it does). */
export function isDefault(field: Field, v: unknown, version: number): boolean {
  if (v === undefined) return true;
  const d = field.default;
  if (v === null) return d === null;
  const t = field.type;
  if (t === 'struct') {
    if (d === null) return false;
    const o = v as Record<string, unknown>;
    return (field.fields ?? []).every((sub) => isDefault(sub, o[sub.name], version));
  }
  if (t.startsWith('[]')) return d === undefined && (v as unknown[]).length === 0;
  if (t === 'bytes' || t === 'records') return d === undefined && (v as Uint8Array).length === 0;
  if (t === 'uuid') return (v as Uint8Array).every((b) => b === 0);
  return v === defaultValue(field, version);
}

/** Smallest encoded size of a value of this field type: bounds array counts. */
function minSize(
  type: string,
  fields: readonly Field[] | undefined,
  version: number,
  flexible: boolean,
): number {
  switch (type) {
    case 'int8':
    case 'bool':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return flexible ? 1 : 2;
    case 'bytes':
    case 'records':
      return flexible ? 1 : 4;
    case 'struct': {
      let n = flexible ? 1 : 0;
      for (const f of fields ?? []) {
        if (!inRange(f.versions, version) || (flexible && inRange(f.tagged, version))) continue;
        n +=
          inRange(f.nullable, version) && f.type === 'struct'
            ? 1
            : minSize(f.type, f.fields, version, flexible);
      }
      return n;
    }
    default:
      return flexible ? 1 : 4; // arrays
  }
}

const helpers = {
  fail,
  nullNotAllowed,
  nullArgument,
  countTooLarge,
  tooManyElements,
  notCarried,
  writeRecords,
  defaultValue,
  isDefault,
  ByteWriter,
  EMPTY,
  ZERO_UUID,
};

/** Generates the source of one message at one version. */
class Generator {
  private readonly out: string[] = [];
  private readonly consts: unknown[] = [];
  private fnCount = 0;
  private varCount = 0;

  constructor(
    readonly def: MessageDef,
    readonly version: number,
    readonly flexible: boolean,
  ) {}

  /** A constant the generated code can reference (field definitions for defaults). */
  private constant(v: unknown): string {
    this.consts.push(v);
    return `K[${this.consts.length - 1}]`;
  }

  private tmp(prefix: string): string {
    return `${prefix}${this.varCount++}`;
  }

  build(): { source: string; consts: unknown[] } {
    const enc = this.encodeStruct(this.def.fields, this.def.name);
    const dec = this.decodeStruct(this.def.fields, this.def.name);
    this.out.push(`return { encode: ${enc}, decode: ${dec} };`);
    return { source: this.out.join('\n'), consts: this.consts };
  }

  /** JS expression for a field's default, fresh per evaluation. */
  private defaultExpr(f: Field): string {
    const d = defaultValue(f, this.version);
    if (d === null) return 'null';
    if (typeof d === 'number' || typeof d === 'boolean') return String(d);
    if (typeof d === 'string') return JSON.stringify(d);
    if (Array.isArray(d)) return '[]';
    if (d === EMPTY) return 'H.EMPTY';
    if (d === ZERO_UUID) return 'H.ZERO_UUID';
    if (f.type === 'struct') {
      // An object literal of the members' defaults: a fresh object of a fixed shape per use.
      return `{ ${(f.fields ?? []).map((sub) => `${JSON.stringify(sub.name)}: ${this.defaultExpr(sub)}`).join(', ')} }`;
    }
    return `H.defaultValue(${this.constant(f)}, ${this.version})`;
  }

  // ---- decoding ----

  private decodeStruct(fields: readonly Field[], path: string): string {
    const name = `d${this.fnCount++}`;
    const body: string[] = [];
    const locals: string[] = [];
    const tagged: { tag: number; field: Field; local: string }[] = [];
    for (const f of fields) {
      const local = this.tmp('v');
      locals.push(local);
      if (!inRange(f.versions, this.version)) {
        body.push(`const ${local} = ${this.defaultExpr(f)};`);
      } else if (this.flexible && inRange(f.tagged, this.version)) {
        body.push(`let ${local} = ${this.defaultExpr(f)};`);
        tagged.push({ tag: f.tag as number, field: f, local });
      } else {
        body.push(`let ${local};`);
        body.push(this.decodeValue(f, local, `${path}.${f.name}`));
      }
    }
    if (this.flexible) {
      const n = this.tmp('n');
      const tag = this.tmp('t');
      const end = this.tmp('e');
      const cases = tagged
        .map(
          ({ tag: t, field, local }) =>
            `case ${t}: { ${this.decodeValue(field, local, `${path}.${field.name}`)} break; }`,
        )
        .join('\n');
      body.push(`for (let ${n} = r.uvarint(); ${n} > 0; ${n}--) {
  const ${tag} = r.uvarint();
  const ${end} = r.uvarint() + r.pos;
  if (${end} > r.end) H.fail('${path}: tagged field ' + ${tag} + ' runs past the end of the input');
  switch (${tag}) {
${cases}
    default: r.pos = ${end};
  }
  if (r.pos !== ${end}) H.fail('${path}: tagged field ' + ${tag} + ' has the wrong size');
}`);
    }
    const lit = fields.map((f, i) => `${JSON.stringify(f.name)}: ${locals[i]}`).join(', ');
    this.out.push(`function ${name}(r) {\n${body.join('\n')}\nreturn { ${lit} };\n}`);
    return name;
  }

  /** Statements that decode field f into variable `target`. */
  private decodeValue(f: Field, target: string, path: string): string {
    const nullable = inRange(f.nullable, this.version);
    const flex = this.flexible;
    const p = JSON.stringify(path);
    const t = f.type;
    if (t === 'struct') {
      const fn = this.decodeStruct(f.fields ?? [], path);
      if (!nullable) return `${target} = ${fn}(r);`;
      return `${target} = r.int8() < 0 ? null : ${fn}(r);`;
    }
    if (t.startsWith('[]')) {
      const elemType = t.slice(2);
      const n = this.tmp('n');
      const i = this.tmp('i');
      const min = Math.max(1, minSize(elemType, f.fields, this.version, flex));
      const elem =
        elemType === 'struct'
          ? `${this.decodeStruct(f.fields ?? [], `${path}[]`)}(r)`
          : this.scalarRead(elemType as ScalarType, false, `${path}[]`);
      const count = flex ? 'r.uvarint() - 1' : 'r.int32()';
      return `{
  const ${n} = ${count};
  if (${n} < 0) { ${nullable ? `${target} = null;` : `H.nullNotAllowed(${p});`} }
  else {
    if (${n} * ${min} > r.end - r.pos) H.countTooLarge(${p}, ${n}, r.end - r.pos);
    if ((r.elementBudget -= ${n}) < 0) H.tooManyElements(${p});
    ${target} = [];
    for (let ${i} = 0; ${i} < ${n}; ${i}++) ${target}.push(${elem});
  }
}`;
    }
    return `${target} = ${this.scalarRead(t as ScalarType, nullable, path)};`;
  }

  private scalarRead(t: ScalarType, nullable: boolean, path: string): string {
    const flex = this.flexible;
    const nn = (e: string) => (nullable ? e : `(${e} ?? H.nullNotAllowed(${JSON.stringify(path)}))`);
    switch (t) {
      case 'int8':
        return 'r.int8()';
      case 'int16':
        return 'r.int16()';
      case 'uint16':
        return 'r.uint16()';
      case 'int32':
        return 'r.int32()';
      case 'int64':
        return 'r.int64n()';
      case 'float64':
        return 'r.float64()';
      case 'bool':
        return 'r.bool()';
      case 'uuid':
        return 'r.uuid()';
      case 'string':
        return nn(flex ? 'r.compactString()' : 'r.string()');
      case 'bytes':
      case 'records':
        return nn(flex ? 'r.compactBytes()' : 'r.bytes()');
    }
  }

  // ---- encoding ----

  private encodeStruct(fields: readonly Field[], path: string): string {
    const name = `e${this.fnCount++}`;
    const body: string[] = [];
    const tagged: Field[] = [];
    for (const f of fields) {
      const fpath = `${path}.${f.name}`;
      const access = `o[${JSON.stringify(f.name)}]`;
      if (!inRange(f.versions, this.version)) {
        if (!f.ignorable) {
          body.push(
            `if (${access} !== undefined && !H.isDefault(${this.constant(f)}, ${access}, ${this.version})) H.notCarried(${JSON.stringify(fpath)}, ${this.version});`,
          );
        }
        continue;
      }
      if (this.flexible && inRange(f.tagged, this.version)) {
        tagged.push(f);
        continue;
      }
      const x = this.tmp('x');
      body.push(`let ${x} = ${access}; if (${x} === undefined) ${x} = ${this.defaultExpr(f)};`);
      body.push(this.encodeValue(f, x, 'w', fpath, this.flexible));
    }
    if (this.flexible) {
      if (tagged.length === 0) body.push('w.uvarint(0);');
      else {
        const sorted = [...tagged].sort((a, b) => (a.tag as number) - (b.tag as number));
        const cnt = this.tmp('c');
        body.push(`let ${cnt} = 0;`);
        const has = sorted.map((f) => {
          const h = this.tmp('h');
          const access = `o[${JSON.stringify(f.name)}]`;
          body.push(
            `const ${h} = ${access} !== undefined && !H.isDefault(${this.constant(f)}, ${access}, ${this.version}); if (${h}) ${cnt}++;`,
          );
          return h;
        });
        body.push(`w.uvarint(${cnt});`);
        sorted.forEach((f, i) => {
          const s = this.tmp('s');
          const x = this.tmp('x');
          body.push(`if (${has[i]}) {
  const ${s} = new H.ByteWriter(64);
  const ${x} = o[${JSON.stringify(f.name)}];
  ${this.encodeValue(f, x, s, `${path}.${f.name}`, true)}
  w.uvarint(${f.tag}); w.uvarint(${s}.length); w.raw(${s}.view());
}`);
        });
      }
    }
    this.out.push(`function ${name}(w, o) {\n${body.join('\n')}\n}`);
    return name;
  }

  private encodeValue(f: Field, x: string, w: string, path: string, flex: boolean): string {
    const nullable = inRange(f.nullable, this.version);
    const p = JSON.stringify(path);
    const t = f.type;
    if (t === 'struct') {
      const fn = this.encodeStruct(f.fields ?? [], path);
      if (!nullable) return `if (${x} === null) H.nullArgument(${p}); ${fn}(${w}, ${x});`;
      return `if (${x} === null) ${w}.int8(-1); else { ${w}.int8(1); ${fn}(${w}, ${x}); }`;
    }
    if (t === 'records') return `H.writeRecords(${w}, ${x}, ${flex}, ${p}, ${nullable});`;
    const nullWrite = nullable
      ? flex
        ? `${w}.uvarint(0);`
        : t.startsWith('[]') || t === 'bytes'
          ? `${w}.int32(-1);`
          : `${w}.int16(-1);`
      : `H.nullArgument(${p});`;
    if (t.startsWith('[]')) {
      const elemType = t.slice(2);
      const i = this.tmp('i');
      const y = this.tmp('y');
      const elem =
        elemType === 'struct'
          ? `${this.encodeStruct(f.fields ?? [], `${path}[]`)}(${w}, ${y});`
          : this.scalarWrite(elemType as ScalarType, y, w, flex, `${path}[]`, false);
      return `if (${x} === null) { ${nullWrite} } else {
  ${flex ? `${w}.uvarint(${x}.length + 1);` : `${w}.int32(${x}.length);`}
  for (let ${i} = 0; ${i} < ${x}.length; ${i}++) { const ${y} = ${x}[${i}]; ${elem} }
}`;
    }
    return this.scalarWrite(t as ScalarType, x, w, flex, path, nullable);
  }

  private scalarWrite(
    t: ScalarType,
    x: string,
    w: string,
    flex: boolean,
    path: string,
    nullable: boolean,
  ): string {
    const p = JSON.stringify(path);
    const guard = nullable ? '' : `if (${x} === null) H.nullArgument(${p}); `;
    switch (t) {
      case 'int8':
        return `${w}.int8(${x});`;
      case 'int16':
        return `${w}.int16(${x});`;
      case 'uint16':
        return `${w}.uint16(${x});`;
      case 'int32':
        return `${w}.int32(${x});`;
      case 'int64':
        return `${w}.int64n(${x});`;
      case 'float64':
        return `${w}.float64(${x});`;
      case 'bool':
        return `${w}.bool(${x});`;
      case 'uuid':
        return `${w}.uuid(${x});`;
      case 'string':
        return `${guard}${w}.${flex ? 'compactString' : 'string'}(${x});`;
      case 'bytes':
        return `${guard}${w}.${flex ? 'compactBytes' : 'bytes'}(${x});`;
      case 'records':
        return `H.writeRecords(${w}, ${x}, ${flex}, ${p}, ${nullable});`;
    }
  }
}

const cache = new WeakMap<MessageDef, MessageCodec[]>();

/**
 * The compiled codec of a message at a version (compiled on first use, then cached).
 * Throws SluiceError UNSUPPORTED for a version outside `supported` when given.
 */
export function compileMessage<In = unknown, Out = unknown>(
  def: MessageDef,
  version: number,
): MessageCodec<In, Out> {
  let perVersion = cache.get(def);
  if (perVersion === undefined) {
    perVersion = [];
    cache.set(def, perVersion);
  }
  let codec = perVersion[version];
  if (codec === undefined) {
    const flexible = inRange(def.flexible, version);
    const { source, consts } = new Generator(def, version, flexible).build();
    let made: { encode: MessageCodec['encode']; decode: MessageCodec['decode'] };
    try {
      made = new Function('H', 'K', source)(helpers, consts);
    } catch (err) {
      throw new SluiceError('INTERNAL', `generated codec for ${def.name} v${version} does not compile`, {
        cause: err,
        details: { source },
      });
    }
    codec = { version, encode: made.encode, decode: made.decode };
    perVersion[version] = codec;
  }
  return codec as MessageCodec<In, Out>;
}

/** The generated source for a message version (for debugging and the docs). */
export function generatedSource(def: MessageDef, version: number): string {
  return new Generator(def, version, inRange(def.flexible, version)).build().source;
}

export { parseRange };

/**
 * Sluice's declarative schema for Kafka messages.
 *
 * A message is a list of fields; each field has a type, the versions it exists in, and
 * optionally the versions where it may be null, the versions where it is a tagged field
 * (with its tag), a default and whether it is ignorable (may be dropped silently when the
 * version being written cannot carry it). A message is flexible (compact strings and arrays,
 * tagged fields) in its flexible versions.
 *
 * Version ranges use Kafka's notation: '3+' (3 and later), '0-2', '5' (only 5), 'none'.
 *
 * Types: int8, int16, uint16, int32, int64, float64, bool, string, bytes, records, uuid,
 * '[]' + any of those (arrays of primitives), and structs: `obj(...)` (one struct) and
 * `arr(...)` (array of structs) carry their own field lists.
 *
 * Values in JavaScript: integers are numbers (int64 exact to 2^53, like offsets and timestamps);
 * bytes and uuid are Buffers; records are opaque Buffers (the record-batch codec reads them);
 * arrays are arrays; structs are plain objects keyed by the camelCase field name.
 *
 * The definitions are plain data; `codec.ts` compiles them into one specialised encoder and
 * decoder per (message, version). `BodyOf` derives the TypeScript type of a message body
 * from its definition, so handlers get typed bodies without a second source of truth.
 */

export type NumberType = 'int8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'float64';
export type ScalarType = NumberType | 'bool' | 'string' | 'bytes' | 'records' | 'uuid';
export type ArrayOfScalar = `[]${ScalarType}`;
export type FieldType = ScalarType | ArrayOfScalar | 'struct' | '[]struct';

export type DefaultValue = number | boolean | string | null;

export interface FieldOptions {
  /** Versions where the value may be null ('none' when absent). */
  readonly nullable?: string;
  /** Versions where the field is written in the tagged-field section. */
  readonly tagged?: string;
  readonly tag?: number;
  /** Default for versions without the field and for tagged fields left out. */
  readonly default?: DefaultValue;
  /** When true, a non-default value is dropped silently for versions without the field. */
  readonly ignorable?: boolean;
}

export interface Field extends FieldOptions {
  readonly name: string;
  readonly type: FieldType;
  /** Versions where the field exists. */
  readonly versions: string;
  /** Struct members, for 'struct' and '[]struct'. */
  readonly fields?: readonly Field[];
}

export type MessageKind = 'request' | 'response' | 'data';

export interface MessageDef {
  readonly name: string;
  /** Kafka API key (-1 for embedded data such as ConsumerProtocolAssignment). */
  readonly apiKey: number;
  readonly kind: MessageKind;
  readonly flexible: string;
  readonly fields: readonly Field[];
}

/** A field of a primitive type or an array of primitives. */
export function f<
  const N extends string,
  const T extends ScalarType | ArrayOfScalar,
  const O extends FieldOptions = Record<never, never>,
>(
  name: N,
  type: T,
  versions: string,
  options?: O,
): { readonly name: N; readonly type: T; readonly versions: string } & O {
  return { name, type, versions, ...(options as O) };
}

/** An array of structs. */
export function arr<
  const N extends string,
  const Fs extends readonly Field[],
  const O extends FieldOptions = Record<never, never>,
>(
  name: N,
  versions: string,
  fields: Fs,
  options?: O,
): { readonly name: N; readonly type: '[]struct'; readonly versions: string; readonly fields: Fs } & O {
  return { name, type: '[]struct', versions, fields, ...(options as O) };
}

/** A single struct. */
export function obj<
  const N extends string,
  const Fs extends readonly Field[],
  const O extends FieldOptions = Record<never, never>,
>(
  name: N,
  versions: string,
  fields: Fs,
  options?: O,
): { readonly name: N; readonly type: 'struct'; readonly versions: string; readonly fields: Fs } & O {
  return { name, type: 'struct', versions, fields, ...(options as O) };
}

export function message<const Fs extends readonly Field[]>(
  name: string,
  apiKey: number,
  kind: MessageKind,
  flexible: string,
  fields: Fs,
): MessageDef & { readonly fields: Fs } {
  return { name, apiKey, kind, flexible, fields };
}

// ---- version ranges ----

export interface Range {
  readonly min: number;
  readonly max: number;
}

const NONE: Range = { min: 1, max: 0 };
const rangeCache = new Map<string, Range>();

/** Parses '3+', '0-2', '5' or 'none'. */
export function parseRange(s: string): Range {
  let r = rangeCache.get(s);
  if (r !== undefined) return r;
  const t = s.trim();
  if (t === 'none' || t === '') r = NONE;
  else if (t.endsWith('+')) r = { min: Number(t.slice(0, -1)), max: Number.MAX_SAFE_INTEGER };
  else if (t.includes('-')) {
    const [a, b] = t.split('-');
    r = { min: Number(a), max: Number(b) };
  } else r = { min: Number(t), max: Number(t) };
  if (!Number.isInteger(r.min) || !(Number.isInteger(r.max) || r.max === Number.MAX_SAFE_INTEGER))
    throw new Error(`invalid version range '${s}'`);
  rangeCache.set(s, r);
  return r;
}

export function inRange(s: string | undefined, version: number): boolean {
  if (s === undefined) return false;
  const r = parseRange(s);
  return version >= r.min && version <= r.max;
}

// ---- TypeScript types derived from definitions ----

type ScalarValue<T, R> = T extends NumberType
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'string'
      ? string
      : T extends 'bytes' | 'uuid'
        ? Buffer
        : T extends 'records'
          ? R
          : never;

type Nullable<F, V> = F extends { readonly nullable: string } ? V | null : V;

/** Records as decoded: a view of the frame. */
export type RecordsIn = Buffer;
/** Records to encode: one Buffer or a list of chunks (kept by reference for writev). */
export type RecordsOut = Buffer | readonly Buffer[];

type ValueOf<F, R, P extends boolean> = F extends { readonly type: '[]struct'; readonly fields: infer Fs }
  ? Nullable<F, Body<Fs, R, P>[]>
  : F extends { readonly type: 'struct'; readonly fields: infer Fs }
    ? Nullable<F, Body<Fs, R, P>>
    : F extends { readonly type: `[]${infer E}` }
      ? Nullable<F, ScalarValue<E, R>[]>
      : F extends { readonly type: infer T }
        ? Nullable<F, ScalarValue<T, R>>
        : never;

type Body<Fs, R, P extends boolean> = Fs extends readonly Field[]
  ? P extends true
    ? { -readonly [F in Fs[number] as F['name']]?: ValueOf<F, R, P> }
    : { -readonly [F in Fs[number] as F['name']]: ValueOf<F, R, P> }
  : never;

/** A decoded body: every field present (defaults for fields the version lacks). */
export type BodyOf<M extends { readonly fields: readonly Field[] }> = Body<M['fields'], RecordsIn, false>;
/** A body to encode: any field may be left out (its default is written). */
export type InputOf<M extends { readonly fields: readonly Field[] }> = Body<M['fields'], RecordsOut, true>;

/**
 * Serdes in Confluent's wire format, and the caching HTTP client they use.
 *
 * Wire format: byte 0 = magic 0; bytes 1-4 = schema id, big-endian int32; then the
 * payload. Avro: the binary encoding of the value. JSON Schema: UTF-8 JSON text.
 * Protobuf: a message-index array (zigzag varint count, then zigzag varint indexes into
 * the file's nested message declarations; the common [0] is the single byte 0), then the
 * protobuf encoding.
 * Compatibility note: @kafkajs/confluent-schema-registry 3.9 writes Protobuf payloads
 * WITHOUT the message-index array. The deserializer accepts both: a leading 0 byte is
 * [0]; otherwise it tries the index array and falls back to "first message, no indexes"
 * when the indexes do not name a message or the rest does not decode. (A protobuf
 * payload never starts with 0, so the [0] case is unambiguous.)
 *
 * Caching: schema by id and codec by id are cached forever (ids are immutable);
 * (subject, schema) → id is cached once registered. Concurrent misses share one request.
 */
import avsc from 'avsc';
import type protobuf from 'protobufjs';
import { SluiceError } from '../common/index.js';
import { AvroSchema } from './formats/avro.js';
import { JsonSchemaDoc } from './formats/json.js';
import type { ProtobufSchema } from './formats/protobuf.js';
import type { ResolvedReference } from './formats/provider.js';
import { providerFor } from './registry.js';
import type { SchemaInput, SchemaReference, SchemaType } from './types.js';

export const MAGIC_BYTE = 0;

export function encodeWire(id: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(id, 1);
  out.set(payload, 5);
  return out;
}

export function decodeWire(buf: Uint8Array): { id: number; payload: Buffer } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 5)
    throw new SluiceError('DESERIALIZATION', `message of ${b.length} bytes is too short for the wire format`);
  if (b[0] !== MAGIC_BYTE)
    throw new SluiceError('DESERIALIZATION', `unknown magic byte ${b[0]} (expected 0)`);
  return { id: b.readInt32BE(1), payload: b.subarray(5) };
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function writeVarint(out: number[], n: number): void {
  let v = zigzag(n);
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  writeVarint(out, indexes.length);
  for (const i of indexes) writeVarint(out, i);
  return Buffer.from(out);
}

/** Reads a message-index array; returns undefined when the bytes are not one. */
export function decodeMessageIndexes(buf: Buffer): { indexes: number[]; length: number } | undefined {
  let pos = 0;
  const read = (): number | undefined => {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 5; i++) {
      if (pos >= buf.length) return undefined;
      const b = buf[pos++];
      result += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      shift *= 128;
    }
    return undefined;
  };
  const count = read();
  if (count === undefined || count < 0 || count > 100) return undefined;
  if (count === 0) return { indexes: [0], length: pos };
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = read();
    if (v === undefined || v < 0) return undefined;
    indexes.push(v);
  }
  return { indexes, length: pos };
}

export interface RegistryClientOptions {
  /** Base URL of a Confluent-compatible registry, e.g. http://127.0.0.1:8081 */
  url: string;
  /** Extra headers (auth). */
  headers?: Record<string, string>;
}

interface RegistryVersionResponse {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

/** A minimal Confluent REST client with the caches the serdes need. */
export class RegistryClient {
  private readonly base: string;
  private readonly schemas = new Map<number, Promise<SchemaInput>>();
  private readonly ids = new Map<string, Promise<number>>();

  constructor(private readonly options: RegistryClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.schemaregistry.v1+json',
        ...(body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' }),
        ...this.options.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    if (!res.ok) {
      const err = json as { error_code?: number; message?: string } | undefined;
      throw new SluiceError(
        res.status === 404
          ? 'NOT_FOUND'
          : res.status === 409
            ? 'SCHEMA_INCOMPATIBLE'
            : res.status >= 500
              ? 'NETWORK'
              : 'INVALID_ARGUMENT',
        `schema registry ${method} ${path}: ${err?.message ?? text} (error_code ${err?.error_code ?? res.status})`,
        { details: { httpStatus: res.status, registryErrorCode: err?.error_code } },
      );
    }
    return json as T;
  }

  /** Registers (or finds) `schema` under `subject`; cached per (subject, schema). */
  register(subject: string, schema: SchemaInput, opts: { normalize?: boolean } = {}): Promise<number> {
    const key = `${subject}\u0000${schema.schemaType ?? 'AVRO'}\u0000${schema.schema}\u0000${JSON.stringify(schema.references ?? [])}`;
    let p = this.ids.get(key);
    if (p === undefined) {
      const body = {
        schema: schema.schema,
        ...(schema.schemaType === undefined || schema.schemaType === 'AVRO'
          ? {}
          : { schemaType: schema.schemaType }),
        ...(schema.references === undefined ? {} : { references: schema.references }),
      };
      const q = opts.normalize === true ? '?normalize=true' : '';
      p = this.request<{ id: number }>(
        'POST',
        `/subjects/${encodeURIComponent(subject)}/versions${q}`,
        body,
      ).then((r) => r.id);
      this.ids.set(key, p);
      p.catch(() => this.ids.delete(key));
    }
    return p;
  }

  getSchemaById(id: number): Promise<SchemaInput> {
    let p = this.schemas.get(id);
    if (p === undefined) {
      p = this.request<SchemaInput>('GET', `/schemas/ids/${id}`);
      this.schemas.set(id, p);
      p.catch(() => this.schemas.delete(id));
    }
    return p;
  }

  getVersion(subject: string, version: number | 'latest'): Promise<RegistryVersionResponse> {
    return this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`);
  }

  /** References of a schema, fetched and expanded depth-first (dependencies first). */
  async resolveReferences(refs: readonly SchemaReference[]): Promise<ResolvedReference[]> {
    const out: ResolvedReference[] = [];
    const seen = new Set<string>();
    const visit = async (ref: SchemaReference): Promise<void> => {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (seen.has(key)) return;
      seen.add(key);
      const v = await this.getVersion(ref.subject, ref.version);
      for (const inner of v.references ?? []) await visit(inner);
      out.push({
        name: ref.name,
        subject: ref.subject,
        version: ref.version,
        schemaType: v.schemaType ?? 'AVRO',
        schema: v.schema,
      });
    };
    for (const r of refs) await visit(r);
    return out;
  }
}

type Parsed = AvroSchema | JsonSchemaDoc | ProtobufSchema;

async function parseWithClient(client: RegistryClient, schema: SchemaInput): Promise<Parsed> {
  const deps = await client.resolveReferences(schema.references ?? []);
  return providerFor(schema.schemaType ?? 'AVRO').parse(schema.schema, deps) as Parsed;
}

export interface SerializerOptions {
  /** Protobuf: full name of the message to write (default: the first message of the file). */
  messageName?: string;
  /** JSON Schema: validate values before writing (default true). */
  validate?: boolean;
  normalize?: boolean;
}

/** Encodes values of `schema` for `subject`, registering the schema on first use. */
export function serializer(
  client: RegistryClient,
  subject: string,
  schema: SchemaInput,
  options: SerializerOptions = {},
): (value: unknown) => Promise<Buffer> {
  let ready: Promise<{ id: number; encode: (v: unknown) => Uint8Array }> | undefined;
  const init = async () => {
    const parsed = await parseWithClient(client, schema);
    const id = await client.register(subject, schema, { normalize: options.normalize });
    return { id, encode: encoderFor(parsed, options) };
  };
  return async (value: unknown) => {
    ready ??= init();
    ready.catch(() => {
      ready = undefined;
    });
    const { id, encode } = await ready;
    return encodeWire(id, encode(value));
  };
}

function encoderFor(parsed: Parsed, options: SerializerOptions): (v: unknown) => Uint8Array {
  if (parsed instanceof AvroSchema) {
    return (v) => {
      try {
        return parsed.avroType.toBuffer(v);
      } catch (err) {
        throw new SluiceError(
          'SERIALIZATION',
          `value does not match the Avro schema: ${(err as Error).message}`,
          { cause: err },
        );
      }
    };
  }
  if (parsed instanceof JsonSchemaDoc) {
    return (v) => {
      if (options.validate !== false && !parsed.validate(v)) {
        throw new SluiceError(
          'SERIALIZATION',
          `value does not match the JSON schema: ${JSON.stringify(parsed.validate.errors)}`,
        );
      }
      return Buffer.from(JSON.stringify(v), 'utf8');
    };
  }
  const type =
    options.messageName === undefined
      ? parsed.topMessages()[0]
      : (parsed.root.lookupType(options.messageName) as protobuf.Type);
  if (type === undefined) throw new SluiceError('SERIALIZATION', 'the Protobuf schema declares no message');
  const indexes = encodeMessageIndexes(parsed.messageIndexes(type.fullName));
  return (v) => {
    // verify() wants enum numbers; accept names too (as Confluent's serializers do).
    const problem = type.verify(enumNamesToNumbers(type, v) as Record<string, unknown>);
    if (problem !== null)
      throw new SluiceError('SERIALIZATION', `value does not match ${type.fullName}: ${problem}`);
    const body = type.encode(type.fromObject(v as Record<string, unknown>)).finish();
    return Buffer.concat([indexes, body]);
  };
}

/** A copy of `value` with enum names replaced by their numbers, recursively; other values untouched. */
function enumNamesToNumbers(type: protobuf.Type, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of type.fieldsArray) {
    const v = out[field.name];
    if (v === undefined || v === null) continue;
    const rt = field.resolvedType;
    const one = (x: unknown): unknown => {
      if (rt !== null && 'values' in rt && typeof x === 'string' && x in (rt as protobuf.Enum).values) {
        return (rt as protobuf.Enum).values[x];
      }
      if (rt !== null && 'fieldsArray' in rt) return enumNamesToNumbers(rt as protobuf.Type, x);
      return x;
    };
    if (field.map && typeof v === 'object') {
      out[field.name] = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, one(x)]));
    } else out[field.name] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

export interface DeserializerOptions {
  /**
   * Avro: the schema the application reads with. Each writer schema is resolved into it
   * by Avro's rules (defaults filled, promotions applied), so old and new data decode to
   * one shape. Default: decode with the writer schema.
   */
  avroReaderSchema?: string | object;
  /** JSON Schema: validate values after reading (default false: the writer validated). */
  validate?: boolean;
  /** Protobuf: options for toObject (default: longs and enums as strings, bytes as Buffer). */
  protobufObjectOptions?: protobuf.IConversionOptions;
}

/** Decodes any Confluent-framed message whose schema id the registry knows. */
export function deserializer(
  client: RegistryClient,
  options: DeserializerOptions = {},
): (message: Uint8Array) => Promise<unknown> {
  const decoders = new Map<number, Promise<(payload: Buffer) => unknown>>();
  return async (message: Uint8Array) => {
    const { id, payload } = decodeWire(message);
    let d = decoders.get(id);
    if (d === undefined) {
      d = client.getSchemaById(id).then(async (s) => decoderFor(await parseWithClient(client, s), options));
      decoders.set(id, d);
      d.catch(() => decoders.delete(id));
    }
    return (await d)(payload);
  };
}

function decoderFor(parsed: Parsed, options: DeserializerOptions): (payload: Buffer) => unknown {
  if (parsed instanceof AvroSchema) {
    if (options.avroReaderSchema === undefined) return (p) => parsed.avroType.fromBuffer(p);
    const readerJson =
      typeof options.avroReaderSchema === 'string'
        ? JSON.parse(options.avroReaderSchema)
        : options.avroReaderSchema;
    const reader = avsc.Type.forSchema(readerJson as avsc.Schema);
    let resolver: avsc.Resolver;
    try {
      resolver = reader.createResolver(parsed.avroType);
    } catch (err) {
      throw new SluiceError(
        'DESERIALIZATION',
        `the reader schema cannot read this writer schema: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return (p) => reader.fromBuffer(p, resolver);
  }
  if (parsed instanceof JsonSchemaDoc) {
    return (p) => {
      const v = JSON.parse(p.toString('utf8')) as unknown;
      if (options.validate === true && !parsed.validate(v)) {
        throw new SluiceError(
          'DESERIALIZATION',
          `value does not match the JSON schema: ${JSON.stringify(parsed.validate.errors)}`,
        );
      }
      return v;
    };
  }
  const objectOptions = options.protobufObjectOptions ?? {
    longs: String,
    enums: String,
    bytes: Buffer as never,
  };
  return (p) => {
    const decode = (type: protobuf.Type, body: Buffer) => type.toObject(type.decode(body), objectOptions);
    if (p.length > 0 && p[0] === 0) return decode(parsed.messageAt([0]), p.subarray(1));
    const idx = decodeMessageIndexes(p);
    if (idx !== undefined) {
      try {
        return decode(parsed.messageAt(idx.indexes), p.subarray(idx.length));
      } catch {
        // not an index array after all: a payload written without indexes (kafkajs 3.9)
      }
    }
    try {
      return decode(parsed.messageAt([0]), p);
    } catch (err) {
      throw new SluiceError('DESERIALIZATION', `cannot decode Protobuf payload: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
}

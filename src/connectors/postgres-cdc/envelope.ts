/**
 * Debezium's change-event envelope and key, per captured table, and their encodings.
 *
 * A TableModel is built from a table's columns as pgoutput's Relation message (or the
 * catalog, for the snapshot) describes them; a Relation with a different column list
 * yields a new model, so later events carry the new shape (and Avro a new registry
 * version). Envelope field order follows Debezium: before, after, source, op, ts_ms,
 * transaction; source: version, connector, name, ts_ms, snapshot, db, sequence, schema,
 * table, txId, lsn, xmin. Topic: `<prefix>.<schema>.<table>`; key: the primary key struct.
 *
 * Formats: `json` (payload only, as JsonConverter with schemas.enable=false),
 * `json-schema` ({schema, payload}, schemas.enable=true), `avro` (Confluent wire format;
 * schemas registered under `<topic>-key` / `<topic>-value`, like AvroConverter).
 */
import { SLUICE_VERSION } from '../../common/index.js';
import { encodeWire, type RegistryClient } from '../../registry/index.js';
import {
  type ColumnConverter,
  type ConnectField,
  type ConnectSchema,
  converterFor,
  type DecimalMode,
  type TypeLookup,
} from './types.js';

export interface ColumnDesc {
  name: string;
  typeOid: number;
  typeMod: number;
  /** Part of the replica identity key (the primary key, unless REPLICA IDENTITY says otherwise). */
  isKey: boolean;
}

export type Op = 'c' | 'u' | 'd' | 'r' | 't';

export interface SourceInfo {
  ts_ms: number;
  snapshot: 'true' | 'last' | 'false' | 'incremental';
  sequence: string | null;
  txId: number | null;
  lsn: number | null;
}

export interface TransactionBlock {
  id: string;
  total_order: number;
  data_collection_order: number;
}

/** Text tuple: column name → text, null for SQL NULL, undefined for an unchanged TOAST value. */
export type TextTuple = Record<string, string | null | undefined>;

const SOURCE_FIELDS: ConnectField[] = [
  { field: 'version', type: 'string', optional: false },
  { field: 'connector', type: 'string', optional: false },
  { field: 'name', type: 'string', optional: false },
  { field: 'ts_ms', type: 'int64', optional: false },
  {
    field: 'snapshot',
    type: 'string',
    optional: true,
    name: 'io.debezium.data.Enum',
    version: 1,
    parameters: { allowed: 'true,last,false,incremental' },
    default: 'false',
  },
  { field: 'db', type: 'string', optional: false },
  { field: 'sequence', type: 'string', optional: true },
  { field: 'schema', type: 'string', optional: false },
  { field: 'table', type: 'string', optional: false },
  { field: 'txId', type: 'int64', optional: true },
  { field: 'lsn', type: 'int64', optional: true },
  { field: 'xmin', type: 'int64', optional: true },
];

export const TRANSACTION_BLOCK_SCHEMA: ConnectSchema = {
  type: 'struct',
  optional: true,
  name: 'event.block',
  version: 1,
  fields: [
    { field: 'id', type: 'string', optional: false },
    { field: 'total_order', type: 'int64', optional: false },
    { field: 'data_collection_order', type: 'int64', optional: false },
  ],
};

export interface ModelOptions {
  topicPrefix: string;
  database: string;
  decimalMode: DecimalMode;
}

export class TableModel {
  readonly topic: string;
  readonly columns: readonly ColumnDesc[];
  readonly keyColumns: readonly ColumnDesc[];
  readonly converters: readonly ColumnConverter[];
  readonly keySchema: ConnectSchema | null;
  readonly valueSchema: ConnectSchema;
  readonly envelopeSchema: ConnectSchema;
  /** Identifies the shape: equal signatures mean equal schemas. */
  readonly signature: string;
  /** Per column: `"name":`, the text → JSON writer, and the JSON of the TOAST placeholder. */
  private readonly quoted: string[];
  private readonly writers: ((text: string) => string)[];
  private readonly unavailableJson: string[];
  private readonly sourcePrefix: string;
  private readonly sourceMiddle: string;

  constructor(
    readonly schema: string,
    readonly table: string,
    columns: readonly ColumnDesc[],
    lookup: TypeLookup,
    readonly options: ModelOptions,
  ) {
    this.columns = columns;
    this.keyColumns = columns.filter((c) => c.isKey);
    this.topic = `${options.topicPrefix}.${schema}.${table}`;
    this.converters = columns.map((c) =>
      converterFor(c.typeOid, c.typeMod, lookup, { decimalMode: options.decimalMode, optional: !c.isKey }),
    );
    const base = `${options.topicPrefix}.${schema}.${table}`;
    const fields = columns.map((c, i) => ({ field: c.name, ...this.converters[i].schema }));
    this.valueSchema = { type: 'struct', optional: true, name: `${base}.Value`, fields };
    this.keySchema =
      this.keyColumns.length === 0
        ? null
        : {
            type: 'struct',
            optional: false,
            name: `${base}.Key`,
            fields: fields.filter((_, i) => columns[i].isKey),
          };
    this.envelopeSchema = {
      type: 'struct',
      optional: false,
      name: `${base}.Envelope`,
      version: 1,
      fields: [
        { field: 'before', ...this.valueSchema },
        { field: 'after', ...this.valueSchema },
        {
          field: 'source',
          type: 'struct',
          optional: false,
          name: 'io.debezium.connector.postgresql.Source',
          fields: SOURCE_FIELDS,
        },
        { field: 'op', type: 'string', optional: false },
        { field: 'ts_ms', type: 'int64', optional: true },
        { field: 'transaction', ...TRANSACTION_BLOCK_SCHEMA },
      ],
    };
    this.signature = JSON.stringify(columns.map((c) => [c.name, c.typeOid, c.typeMod, c.isKey]));
    this.quoted = columns.map((c) => `${JSON.stringify(c.name)}:`);
    this.writers = this.converters.map(jsonWriterFor);
    this.unavailableJson = this.converters.map((c) => toJson(c.unavailable));
    this.sourcePrefix = `{"version":${JSON.stringify(SLUICE_VERSION)},"connector":"postgresql","name":${JSON.stringify(options.topicPrefix)},"ts_ms":`;
    this.sourceMiddle = `,"db":${JSON.stringify(options.database)},`;
    this.sourceTable = `"schema":${JSON.stringify(schema)},"table":${JSON.stringify(table)},`;
  }

  private readonly sourceTable: string;

  /** JSON of the value struct of a tuple (`keyOnly`: non-key columns null). */
  rowJson(tuple: TextTuple, keyOnly = false): string {
    const cols = this.columns;
    let s = '{';
    for (let i = 0; i < cols.length; i++) {
      const t = keyOnly && !cols[i].isKey ? null : tuple[cols[i].name];
      s += `${i === 0 ? '' : ','}${this.quoted[i]}${t === null ? 'null' : t === undefined ? this.unavailableJson[i] : this.writers[i](t)}`;
    }
    return `${s}}`;
  }

  /** `rowJson` of a row given as texts in column order (the snapshot's array rows). */
  rowJsonArray(values: readonly (string | null)[]): string {
    let s = '{';
    for (let i = 0; i < this.quoted.length; i++) {
      const t = values[i];
      s += `${i === 0 ? '' : ','}${this.quoted[i]}${t === null ? 'null' : this.writers[i](t)}`;
    }
    return `${s}}`;
  }

  /** `keyJson` of a row given as texts in column order. */
  keyJsonArray(values: readonly (string | null)[]): string | null {
    if (this.keyColumns.length === 0) return null;
    const cols = this.columns;
    let s = '{';
    for (let i = 0; i < cols.length; i++) {
      if (!cols[i].isKey) continue;
      const t = values[i];
      s += `${s.length === 1 ? '' : ','}${this.quoted[i]}${t === null ? 'null' : this.writers[i](t)}`;
    }
    return `${s}}`;
  }

  /** A row of texts in column order as a TextTuple. */
  tupleOf(values: readonly (string | null)[]): TextTuple {
    const out: TextTuple = {};
    for (let i = 0; i < this.columns.length; i++) out[this.columns[i].name] = values[i];
    return out;
  }

  /** JSON of the key struct, or null for a key-less table. */
  keyJson(tuple: TextTuple): string | null {
    if (this.keyColumns.length === 0) return null;
    const cols = this.columns;
    let s = '{';
    for (let i = 0; i < cols.length; i++) {
      if (!cols[i].isKey) continue;
      const t = tuple[cols[i].name];
      s += `${s.length === 1 ? '' : ','}${this.quoted[i]}${t === null || t === undefined ? 'null' : this.writers[i](t)}`;
    }
    return `${s}}`;
  }

  /** JSON of a `source` block. */
  private sourceJson(src: SourceInfo): string {
    return `${this.sourcePrefix}${src.ts_ms},"snapshot":"${src.snapshot}"${this.sourceMiddle}"sequence":${src.sequence === null ? 'null' : JSON.stringify(src.sequence)},${this.sourceTable}"txId":${src.txId ?? 'null'},"lsn":${src.lsn ?? 'null'},"xmin":null}`;
  }

  /** JSON of a whole envelope, built as text (the `json` formats' hot path). */
  envelopeJson(
    op: Op,
    before: string | null,
    after: string | null,
    src: SourceInfo,
    transaction: TransactionBlock | null,
  ): string {
    const tx =
      transaction === null
        ? 'null'
        : `{"id":${JSON.stringify(transaction.id)},"total_order":${transaction.total_order},"data_collection_order":${transaction.data_collection_order}}`;
    return `{"before":${before ?? 'null'},"after":${after ?? 'null'},"source":${this.sourceJson(src)},"op":"${op}","ts_ms":${Date.now()},"transaction":${tx}}`;
  }

  /**
   * What follows `after` in a snapshot (`r`) envelope up to its `ts_ms` value: the same for
   * every row of a chunk, so it is built once per chunk. A snapshot envelope is
   * `{"before":null,"after":` + row + tail + ts_ms + `,"transaction":null}`, byte for byte
   * what `envelopeJson('r', null, row, src, null)` gives.
   */
  snapshotTail(src: SourceInfo): string {
    return `,"source":${this.sourceJson(src)},"op":"r","ts_ms":`;
  }

  /** The Debezium value struct of a tuple; `undefined` cells (unchanged TOAST) get the placeholder. */
  value(tuple: TextTuple): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) {
      const name = cols[i].name;
      const t = tuple[name];
      out[name] =
        t === null ? null : t === undefined ? this.converters[i].unavailable : this.converters[i].convert(t);
    }
    return out;
  }

  /** Value struct holding only the key columns (a delete's before-image without REPLICA IDENTITY FULL). */
  keyOnlyValue(tuple: TextTuple): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) {
      const t = cols[i].isKey ? tuple[cols[i].name] : null;
      out[cols[i].name] = t === null || t === undefined ? null : this.converters[i].convert(t);
    }
    return out;
  }

  key(tuple: TextTuple): Record<string, unknown> | null {
    if (this.keyColumns.length === 0) return null;
    const out: Record<string, unknown> = {};
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) {
      if (!cols[i].isKey) continue;
      const t = tuple[cols[i].name];
      out[cols[i].name] = t === null || t === undefined ? null : this.converters[i].convert(t);
    }
    return out;
  }

  /** True when the two tuples differ in a key column. */
  keyChanged(oldTuple: TextTuple, newTuple: TextTuple): boolean {
    for (const c of this.keyColumns) {
      const o = oldTuple[c.name];
      if (o !== undefined && o !== newTuple[c.name]) return true;
    }
    return false;
  }

  envelope(
    op: Op,
    before: Record<string, unknown> | null,
    after: Record<string, unknown> | null,
    src: SourceInfo,
    transaction: TransactionBlock | null,
  ): Record<string, unknown> {
    return {
      before,
      after,
      source: {
        version: SLUICE_VERSION,
        connector: 'postgresql',
        name: this.options.topicPrefix,
        ts_ms: src.ts_ms,
        snapshot: src.snapshot,
        db: this.options.database,
        sequence: src.sequence,
        schema: this.schema,
        table: this.table,
        txId: src.txId,
        lsn: src.lsn,
        xmin: null,
      },
      op,
      ts_ms: Date.now(),
      transaction,
    };
  }
}

const quotedKeys = new Map<string, string>();
function quotedKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = `${JSON.stringify(k)}:`;
    if (quotedKeys.size < 100_000) quotedKeys.set(k, q);
  }
  return q;
}

/** JSON text as Kafka Connect's JsonConverter writes it: bigint exact, bytes base64, NaN/∞ as strings. */
export function toJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      break;
  }
  if (Buffer.isBuffer(v)) return `"${v.toString('base64')}"`;
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + toJson(v[i]);
    return `${s}]`;
  }
  let s = '{';
  for (const k in v as Record<string, unknown>) {
    s += `${s.length === 1 ? '' : ','}${quotedKey(k)}${toJson((v as Record<string, unknown>)[k])}`;
  }
  return `${s}}`;
}

const INT_TEXT = /^-?\d+$/;

/** Text → JSON fragment for one column; integers and booleans skip the intermediate value. */
function jsonWriterFor(c: ColumnConverter): (text: string) => string {
  const sc = c.schema;
  if (sc.name === undefined && (sc.type === 'int16' || sc.type === 'int32' || sc.type === 'int64'))
    return (t) => (INT_TEXT.test(t) ? t : toJson(c.convert(t)));
  if (sc.type === 'boolean') return (t) => (t === 't' ? 'true' : 'false');
  if (
    sc.type === 'string' &&
    sc.name !== 'io.debezium.time.ZonedTimestamp' &&
    sc.name !== 'io.debezium.time.ZonedTime'
  )
    return (t) => JSON.stringify(t);
  return (t) => toJson(c.convert(t));
}

// ---- Avro (Confluent AvroData's mapping of Connect schemas) ---------------------------

function avroName(name: string): { name: string; namespace?: string } {
  const parts = name
    .split('.')
    .map((p) => (/^[A-Za-z_]/.test(p) ? p : `_${p}`).replace(/[^A-Za-z0-9_]/g, '_'));
  const last = parts.pop() as string;
  return parts.length === 0 ? { name: last } : { name: last, namespace: parts.join('.') };
}

export function connectToAvro(schema: ConnectSchema, defined: Set<string> = new Set()): unknown {
  let t: unknown;
  const connect = schema.name === undefined ? {} : { 'connect.name': schema.name };
  switch (schema.type) {
    case 'struct': {
      const n = avroName(schema.name ?? 'Struct');
      const full = n.namespace === undefined ? n.name : `${n.namespace}.${n.name}`;
      if (defined.has(full)) t = full;
      else {
        defined.add(full);
        t = {
          type: 'record',
          ...n,
          fields: (schema.fields ?? []).map((f) => {
            const ft = connectToAvro(f, defined);
            return f.optional ? { name: f.field, type: ft, default: null } : { name: f.field, type: ft };
          }),
          ...connect,
        };
      }
      break;
    }
    case 'array':
      t = { type: 'array', items: connectToAvro(schema.items as ConnectSchema, defined) };
      break;
    case 'bytes':
      t =
        schema.name === 'org.apache.kafka.connect.data.Decimal'
          ? {
              type: 'bytes',
              logicalType: 'decimal',
              precision: Number(schema.parameters?.['connect.decimal.precision'] ?? 0) || undefined,
              scale: Number(schema.parameters?.scale ?? 0),
              ...connect,
            }
          : { type: 'bytes', ...connect };
      break;
    default: {
      const prim = {
        int8: 'int',
        int16: 'int',
        int32: 'int',
        int64: 'long',
        float32: 'float',
        float64: 'double',
        boolean: 'boolean',
        string: 'string',
      }[schema.type];
      t = {
        type: prim,
        ...connect,
        ...(schema.type === 'int8' || schema.type === 'int16' ? { 'connect.type': schema.type } : {}),
      };
    }
  }
  return schema.optional ? ['null', t] : t;
}

/** Values for avsc: already in shape (bigint longs are handled by the long type below). */
export function avroValue(v: unknown): unknown {
  return v;
}

let bigLong: unknown;
/** An avsc `long` that writes bigint (and integral numbers) exactly, past 2^53. */
async function exactLongType(): Promise<unknown> {
  if (bigLong !== undefined) return bigLong;
  const avsc = (await import('avsc')).default;
  bigLong = avsc.types.LongType.__with({
    fromBuffer: (b: Buffer) => b.readBigInt64LE(0),
    toBuffer: (n: bigint | number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(n), 0);
      return b;
    },
    fromJSON: (x: unknown) => BigInt(x as string),
    toJSON: (n: bigint) => Number(n),
    isValid: (n: unknown) => typeof n === 'bigint' || Number.isInteger(n),
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  });
  return bigLong;
}

export type Format = 'json' | 'json-schema' | 'avro';

/** Serializes keys and change events of one table model; `prepare` must resolve before the sync calls. */
export interface RecordEncoder {
  prepare(model: TableModel): Promise<void>;
  key(model: TableModel, tuple: TextTuple): Buffer | null;
  /** Key and value of a snapshot (`r`) event from a row of texts in column order. */
  snapshotRecord(
    model: TableModel,
    row: readonly (string | null)[],
    src: SourceInfo,
  ): { key: Buffer | null; value: Buffer };
  /**
   * `snapshotRecord` of every row of a chunk (`last`, when given, is the source of the
   * chunk's final row: Debezium marks the snapshot's last event `snapshot: "last"`).
   */
  snapshotRecords(
    model: TableModel,
    rows: readonly (readonly (string | null)[])[],
    src: SourceInfo,
    last: SourceInfo | null,
  ): { key: Buffer | null; value: Buffer }[];
  /**
   * One change event. `before`/`after` are text tuples; `beforeKeyOnly` keeps only the key
   * columns of `before` (a delete without REPLICA IDENTITY FULL).
   */
  value(
    model: TableModel,
    op: Op,
    before: TextTuple | null,
    beforeKeyOnly: boolean,
    after: TextTuple | null,
    src: SourceInfo,
    transaction: TransactionBlock | null,
  ): Buffer;
}

/**
 * `buf.write(text, off)` (UTF-8) without its argument checks: Node's own `utf8Write`
 * (what `write` calls after validating; ~5x its native work in the snapshot profile) when
 * the runtime has it. The caller guarantees room: at most 3 bytes per UTF-16 unit.
 */
const nativeUtf8Write = (Buffer.prototype as { utf8Write?: (s: string, o: number, l: number) => number })
  .utf8Write;
const writeUtf8: (buf: Buffer, text: string, off: number) => number =
  typeof nativeUtf8Write === 'function'
    ? (buf, text, off) => nativeUtf8Write.call(buf, text, off, buf.length - off)
    : (buf, text, off) => buf.write(text, off);

export class JsonEncoder implements RecordEncoder {
  private readonly schemaText = new WeakMap<TableModel, { key: string; value: string }>();

  constructor(readonly withSchema: boolean) {}

  async prepare(model: TableModel): Promise<void> {
    if (this.withSchema && !this.schemaText.has(model)) {
      this.schemaText.set(model, {
        key: toJson(model.keySchema),
        value: toJson(model.envelopeSchema),
      });
    }
  }

  snapshotRecord(
    model: TableModel,
    row: readonly (string | null)[],
    src: SourceInfo,
  ): { key: Buffer | null; value: Buffer } {
    const k = model.keyJsonArray(row);
    const payload = model.envelopeJson('r', null, model.rowJsonArray(row), src, null);
    if (!this.withSchema) return { key: k === null ? null : Buffer.from(k), value: Buffer.from(payload) };
    const st = this.schemaText.get(model);
    return {
      key: k === null ? null : Buffer.from(`{"schema":${st?.key},"payload":${k}}`),
      value: Buffer.from(`{"schema":${st?.value},"payload":${payload}}`),
    };
  }

  /**
   * The snapshot's hot path: each chunk's keys and values are written into shared buffers
   * (one allocation per ~1 MB instead of two per row) and handed out as slices of them; the
   * envelope's constant part after `after` is built once per chunk.
   */
  snapshotRecords(
    model: TableModel,
    rows: readonly (readonly (string | null)[])[],
    src: SourceInfo,
    last: SourceInfo | null,
  ): { key: Buffer | null; value: Buffer }[] {
    const out: { key: Buffer | null; value: Buffer }[] = new Array(rows.length);
    const st = this.withSchema ? this.schemaText.get(model) : undefined;
    const keyOpen = st === undefined ? '' : `{"schema":${st.key},"payload":`;
    const keyClose = st === undefined ? '' : '}';
    const valueOpen =
      st === undefined
        ? '{"before":null,"after":'
        : `{"schema":${st.value},"payload":{"before":null,"after":`;
    const valueClose = st === undefined ? ',"transaction":null}' : ',"transaction":null}}';
    const tail = model.snapshotTail(src);
    let buf = Buffer.allocUnsafe(0);
    let off = 0;
    let nowMs = 0;
    let now = '';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const t = Date.now();
      if (t !== nowMs) {
        nowMs = t;
        now = String(t);
      }
      const k = model.keyJsonArray(row);
      const key = k === null ? null : `${keyOpen}${k}${keyClose}`;
      const value = `${valueOpen}${model.rowJsonArray(row)}${last !== null && i === rows.length - 1 ? model.snapshotTail(last) : tail}${now}${valueClose}`;
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      const need = 3 * (value.length + (key === null ? 0 : key.length));
      if (off + need > buf.length) {
        buf = Buffer.allocUnsafe(Math.max(need, 1 << 20));
        off = 0;
      }
      let keyBuf: Buffer | null = null;
      if (key !== null) {
        const n = writeUtf8(buf, key, off);
        keyBuf = buf.subarray(off, off + n);
        off += n;
      }
      const n = writeUtf8(buf, value, off);
      out[i] = { key: keyBuf, value: buf.subarray(off, off + n) };
      off += n;
    }
    return out;
  }

  key(model: TableModel, tuple: TextTuple): Buffer | null {
    const payload = model.keyJson(tuple);
    if (payload === null) return null;
    if (!this.withSchema) return Buffer.from(payload);
    return Buffer.from(`{"schema":${this.schemaText.get(model)?.key},"payload":${payload}}`);
  }

  value(
    model: TableModel,
    op: Op,
    before: TextTuple | null,
    beforeKeyOnly: boolean,
    after: TextTuple | null,
    src: SourceInfo,
    transaction: TransactionBlock | null,
  ): Buffer {
    const payload = model.envelopeJson(
      op,
      before === null ? null : model.rowJson(before, beforeKeyOnly),
      after === null ? null : model.rowJson(after),
      src,
      transaction,
    );
    if (!this.withSchema) return Buffer.from(payload);
    return Buffer.from(`{"schema":${this.schemaText.get(model)?.value},"payload":${payload}}`);
  }
}

interface AvroCodec {
  keyId: number;
  valueId: number;
  keyType: { toBuffer(v: unknown): Buffer } | null;
  valueType: { toBuffer(v: unknown): Buffer };
}

export class AvroEncoder implements RecordEncoder {
  private readonly codecs = new WeakMap<TableModel, AvroCodec>();

  constructor(private readonly client: RegistryClient) {}

  async prepare(model: TableModel): Promise<void> {
    if (this.codecs.has(model)) return;
    const avsc = (await import('avsc')).default;
    const valueAvro = connectToAvro(model.envelopeSchema);
    const long = await exactLongType();
    // `long` as a name (registry) and as {type: 'long', …} with Connect's properties (typeHook).
    const opts = {
      registry: { long },
      typeHook: (sc: unknown) => ((sc as { type?: unknown } | null)?.type === 'long' ? long : undefined),
    };
    const valueType = avsc.Type.forSchema(valueAvro as never, opts as never);
    const valueId = await this.client.register(`${model.topic}-value`, {
      schema: JSON.stringify(valueAvro),
      schemaType: 'AVRO',
    });
    let keyType: AvroCodec['keyType'] = null;
    let keyId = 0;
    if (model.keySchema !== null) {
      const keyAvro = connectToAvro(model.keySchema);
      keyType = avsc.Type.forSchema(keyAvro as never, opts as never);
      keyId = await this.client.register(`${model.topic}-key`, {
        schema: JSON.stringify(keyAvro),
        schemaType: 'AVRO',
      });
    }
    this.codecs.set(model, { keyId, valueId, keyType, valueType });
  }

  snapshotRecord(
    model: TableModel,
    row: readonly (string | null)[],
    src: SourceInfo,
  ): { key: Buffer | null; value: Buffer } {
    const t = model.tupleOf(row);
    return { key: this.key(model, t), value: this.value(model, 'r', null, false, t, src, null) };
  }

  snapshotRecords(
    model: TableModel,
    rows: readonly (readonly (string | null)[])[],
    src: SourceInfo,
    last: SourceInfo | null,
  ): { key: Buffer | null; value: Buffer }[] {
    return rows.map((row, i) =>
      this.snapshotRecord(model, row, last !== null && i === rows.length - 1 ? last : src),
    );
  }

  key(model: TableModel, tuple: TextTuple): Buffer | null {
    const c = this.codecs.get(model) as AvroCodec;
    const key = model.key(tuple);
    if (key === null || c.keyType === null) return null;
    return encodeWire(c.keyId, c.keyType.toBuffer(avroValue(key)));
  }

  value(
    model: TableModel,
    op: Op,
    before: TextTuple | null,
    beforeKeyOnly: boolean,
    after: TextTuple | null,
    src: SourceInfo,
    transaction: TransactionBlock | null,
  ): Buffer {
    const c = this.codecs.get(model) as AvroCodec;
    const b = before === null ? null : beforeKeyOnly ? model.keyOnlyValue(before) : model.value(before);
    const a = after === null ? null : model.value(after);
    return encodeWire(c.valueId, c.valueType.toBuffer(avroValue(model.envelope(op, b, a, src, transaction))));
  }
}

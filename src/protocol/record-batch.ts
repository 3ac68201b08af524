/**
 * Kafka record batch v2 (magic 2): header parsing without touching records, in-place offset and
 * LogAppendTime patching, full encode/decode with records, headers and control records.
 *
 * Wire/disk format (big-endian; offsets from the batch start):
 *    0 baseOffset int64          8 batchLength int32 (bytes after this field)
 *   12 partitionLeaderEpoch int32  16 magic int8 (= 2)   17 crc uint32 (CRC-32C of bytes 21..end)
 *   21 attributes int16: bits 0-2 compression, 3 timestampType (1 = LogAppendTime),
 *      4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs (baseTimestamp is the delete horizon)
 *   23 lastOffsetDelta int32      27 baseTimestamp int64   35 maxTimestamp int64
 *   43 producerId int64           51 producerEpoch int16   53 baseSequence int32
 *   57 recordCount int32          61 records (compressed as one region when compression != 0)
 * Record: varint length, int8 attributes, varlong timestampDelta, varint offsetDelta,
 *   varint keyLength (-1 = null) + key, varint valueLength (-1 = null) + value,
 *   varint headerCount, then (varint keyLength + UTF-8 key, varint valueLength + value) each.
 * Control record (isControl batches): key = int16 version 0 + int16 type (0 ABORT, 1 COMMIT);
 *   value = int16 version 0 + int32 coordinatorEpoch.
 *
 * Invariants: the CRC covers attributes..end, so patching baseOffset or partitionLeaderEpoch
 * needs no CRC recompute; patching attributes/maxTimestamp (LogAppendTime) does. Offsets and
 * timestamps are JS numbers, exact to 2^53. Decoders never read past the batch (SluiceError
 * CORRUPT_RECORD with Kafka error 2 on any inconsistency); decoded keys/values are views of the
 * input (or of the decompressed buffer), not copies.
 */
import { SluiceError } from '../common/index.js';
import { compressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import { ByteReader, ByteWriter } from './primitives.js';

export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes not counted in batchLength. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

export const BatchOffsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;
export const ControlRecordType = { Abort: 0, Commit: 1 } as const;

const ATTR_COMPRESSION_MASK = 0x07;
const ATTR_TIMESTAMP_TYPE = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const ATTR_DELETE_HORIZON = 0x40;

/** Kafka's CORRUPT_MESSAGE wire error code. */
const CORRUPT_MESSAGE = 2;

export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: 0 | 1;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** Total bytes of the batch on the wire: batchLength + 12. */
  size: number;
  /** baseOffset + lastOffsetDelta. */
  lastOffset: number;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly { key: string; value: Uint8Array | null }[];
  /** Defaults to the batch's baseTimestamp (or now). */
  timestamp?: number;
  /** Defaults to the record's index; set by the compactor to keep original offsets. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: number;
  timestampType?: 0 | 1;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the first record's timestamp. Ignored when deleteHorizonMs is set. */
  baseTimestamp?: number;
  /** Sets hasDeleteHorizonMs and stores this as baseTimestamp (KIP-534, used by the compactor). */
  deleteHorizonMs?: number;
  /** Defaults to the largest record timestamp. */
  maxTimestamp?: number;
  /** Defaults to the last record's offsetDelta; the compactor keeps the original. */
  lastOffsetDelta?: number;
  records: readonly RecordInput[];
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch {
  header: RecordBatchHeader;
  records: DecodedRecord[];
}

function corrupt(message: string, details?: Record<string, unknown>): SluiceError {
  return new SluiceError('CORRUPT_RECORD', message, { kafkaErrorCode: CORRUPT_MESSAGE, details });
}

function readInt64n(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
}

function writeInt64n(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * 0x1_0000_0000, pos + 4);
}

/** baseOffset of the batch at `pos` (needs 8 bytes). */
export function readBaseOffset(buf: Buffer, pos = 0): number {
  return readInt64n(buf, pos);
}

/**
 * Parses the 61-byte header of the batch at `pos` without looking at records or the CRC.
 * The caller guarantees 61 bytes are present; use `validateBatch` for untrusted input.
 */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  const baseOffset = readInt64n(buf, pos);
  const batchLength = buf.readInt32BE(pos + 8);
  const attributes = buf.readInt16BE(pos + 21);
  const lastOffsetDelta = buf.readInt32BE(pos + 23);
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + 16),
    crc: buf.readUInt32BE(pos + 17),
    attributes,
    compression: attributes & ATTR_COMPRESSION_MASK,
    timestampType: attributes & ATTR_TIMESTAMP_TYPE ? 1 : 0,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
    lastOffsetDelta,
    baseTimestamp: readInt64n(buf, pos + 27),
    maxTimestamp: readInt64n(buf, pos + 35),
    producerId: readInt64n(buf, pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
    size: batchLength + LOG_OVERHEAD,
    lastOffset: baseOffset + lastOffsetDelta,
  };
}

/** CRC-32C of the batch at `pos` of total size `size`, over attributes..end. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf, pos + BatchOffsets.attributes, pos + size);
}

/**
 * Structural check of the batch at `pos` within buf[pos, end): complete header, sane length,
 * magic 2, CRC, record count and lastOffsetDelta consistent. Throws CORRUPT_RECORD (Kafka
 * CORRUPT_MESSAGE) describing the first problem; returns the parsed header otherwise.
 */
export function validateBatch(buf: Buffer, pos = 0, end = buf.length): RecordBatchHeader {
  const avail = end - pos;
  if (avail < BATCH_HEADER_SIZE)
    throw corrupt(`record batch truncated: ${avail} bytes, a v2 header needs ${BATCH_HEADER_SIZE}`);
  const batchLength = buf.readInt32BE(pos + 8);
  const size = batchLength + LOG_OVERHEAD;
  if (size < BATCH_HEADER_SIZE)
    throw corrupt(`impossible record batch length ${batchLength}: below the v2 header size`, { batchLength });
  if (size > avail)
    throw corrupt(
      `impossible record batch length ${batchLength}: only ${avail - LOG_OVERHEAD} bytes follow`,
      {
        batchLength,
      },
    );
  const magic = buf.readInt8(pos + 16);
  if (magic !== MAGIC_V2)
    throw new SluiceError('CORRUPT_RECORD', `unsupported record batch magic ${magic}: only v2 (magic 2)`, {
      kafkaErrorCode: 43,
      details: { magic },
    });
  const stored = buf.readUInt32BE(pos + 17);
  const actual = computeBatchCrc(buf, pos, size);
  if (stored !== actual)
    throw corrupt(
      `record batch CRC mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`,
      { stored, actual },
    );
  const h = readBatchHeader(buf, pos);
  if (
    h.recordCount < 0 ||
    h.lastOffsetDelta < 0 ||
    (h.recordCount > 0 && h.lastOffsetDelta < h.recordCount - 1)
  )
    throw corrupt(
      `inconsistent record batch: recordCount ${h.recordCount}, lastOffsetDelta ${h.lastOffsetDelta}`,
      { recordCount: h.recordCount, lastOffsetDelta: h.lastOffsetDelta },
    );
  if (h.compression > 4) throw corrupt(`unknown compression type ${h.compression}`);
  return h;
}

/** Patches baseOffset in place. The CRC does not cover it, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  writeInt64n(buf, pos, baseOffset);
}

export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + 12);
}

/**
 * Marks the batch LogAppendTime with `timestamp` as maxTimestamp (what readers then see as
 * every record's timestamp) and recomputes the CRC, which covers both fields.
 */
export function setLogAppendTime(buf: Buffer, pos: number, size: number, timestamp: number): void {
  const attrs = buf.readInt16BE(pos + 21);
  buf.writeInt16BE(attrs | ATTR_TIMESTAMP_TYPE, pos + 21);
  writeInt64n(buf, pos + 35, timestamp);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + 17);
}

/** Walks concatenated batches in buf[start, end) and returns each header; validates each (CRC too). */
export function validateBatches(buf: Buffer, start = 0, end = buf.length): RecordBatchHeader[] {
  const out: RecordBatchHeader[] = [];
  let pos = start;
  while (pos < end) {
    const h = validateBatch(buf, pos, end);
    out.push(h);
    pos += h.size;
  }
  return out;
}

function sizeOfUvarint(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function sizeOfVarint(v: number): number {
  return sizeOfUvarint(v >= 0 ? v * 2 : -v * 2 - 1);
}

const textEncoder = new TextEncoder();

function encodeRecords(w: ByteWriter, input: RecordBatchInput, baseTimestamp: number): void {
  const records = input.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput;
    const tsDelta = (r.timestamp ?? baseTimestamp) - baseTimestamp;
    const offsetDelta = r.offsetDelta ?? i;
    const keyLen = r.key === null ? -1 : r.key.length;
    const valueLen = r.value === null ? -1 : r.value.length;
    const headers = r.headers ?? [];
    const headerKeys: Uint8Array[] = [];
    let bodySize =
      1 +
      sizeOfVarint(tsDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfVarint(keyLen) +
      Math.max(0, keyLen) +
      sizeOfVarint(valueLen) +
      Math.max(0, valueLen) +
      sizeOfVarint(headers.length);
    for (const h of headers) {
      const k = textEncoder.encode(h.key);
      headerKeys.push(k);
      const hv = h.value === null ? -1 : h.value.length;
      bodySize += sizeOfVarint(k.length) + k.length + sizeOfVarint(hv) + Math.max(0, hv);
    }
    w.varint(bodySize).int8(0).varlong(tsDelta).varint(offsetDelta).varint(keyLen);
    if (r.key !== null) w.raw(r.key);
    w.varint(valueLen);
    if (r.value !== null) w.raw(r.value);
    w.varint(headers.length);
    for (let j = 0; j < headers.length; j++) {
      const k = headerKeys[j] as Uint8Array;
      const hv = (headers[j] as { value: Uint8Array | null }).value;
      w.varint(k.length)
        .raw(k)
        .varint(hv === null ? -1 : hv.length);
      if (hv !== null) w.raw(hv);
    }
  }
}

/** Encodes a v2 record batch, compressing the records region with `compression` (0..4). */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const records = input.records;
  const now = Date.now();
  const firstTs = records.length > 0 ? (records[0]?.timestamp ?? input.baseTimestamp ?? now) : now;
  const baseTimestamp = input.deleteHorizonMs ?? input.baseTimestamp ?? firstTs;
  let maxTimestamp = input.maxTimestamp;
  if (maxTimestamp === undefined) {
    // Start below any timestamp: a batch whose records all predate -1 still gets their maximum.
    maxTimestamp = records.length === 0 ? baseTimestamp : Number.NEGATIVE_INFINITY;
    for (const r of records) maxTimestamp = Math.max(maxTimestamp, r.timestamp ?? baseTimestamp);
  }
  const lastOffsetDelta =
    input.lastOffsetDelta ??
    (records.length === 0 ? 0 : (records[records.length - 1]?.offsetDelta ?? records.length - 1));
  const compression = input.compression ?? 0;
  let attributes = compression & ATTR_COMPRESSION_MASK;
  if (input.timestampType === 1) attributes |= ATTR_TIMESTAMP_TYPE;
  if (input.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.isControl) attributes |= ATTR_CONTROL;
  if (input.deleteHorizonMs !== undefined) attributes |= ATTR_DELETE_HORIZON;

  let body: Buffer;
  const w = new ByteWriter(BATCH_HEADER_SIZE + 64 * Math.max(1, records.length));
  w.reserve(BATCH_HEADER_SIZE);
  encodeRecords(w, input, baseTimestamp);
  if (compression === 0) {
    body = w.view();
  } else {
    const compressed = compressionCodec(compression).compress(w.view().subarray(BATCH_HEADER_SIZE));
    body = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length);
    compressed.copy(body, BATCH_HEADER_SIZE);
  }
  const out = compression === 0 ? Buffer.from(body) : body;
  writeInt64n(out, 0, input.baseOffset ?? 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8);
  out.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  out.writeInt8(MAGIC_V2, 16);
  out.writeInt16BE(attributes, 21);
  out.writeInt32BE(lastOffsetDelta, 23);
  writeInt64n(out, 27, baseTimestamp);
  writeInt64n(out, 35, maxTimestamp);
  writeInt64n(out, 43, input.producerId ?? -1);
  out.writeInt16BE(input.producerEpoch ?? -1, 51);
  out.writeInt32BE(input.baseSequence ?? -1, 53);
  out.writeInt32BE(records.length, 57);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), 17);
  return out;
}

/** The batch's records region, decompressed (a view when uncompressed). */
export function batchRecordsRegion(buf: Buffer, pos: number, header: RecordBatchHeader): Buffer {
  const region = buf.subarray(pos + BATCH_HEADER_SIZE, pos + header.size);
  return header.compression === 0 ? region : compressionCodec(header.compression).decompress(region);
}

/**
 * Decodes the batch at `pos` with its records. Checks structure (and the CRC unless
 * `verifyCrc` is false, for callers that already validated it).
 */
export function decodeRecordBatch(buf: Buffer, pos = 0, verifyCrc = true): DecodedRecordBatch {
  const header = verifyCrc ? validateBatch(buf, pos) : readBatchHeader(buf, pos);
  if (!verifyCrc && (header.size < BATCH_HEADER_SIZE || pos + header.size > buf.length))
    throw corrupt(`impossible record batch length ${header.batchLength}`);
  const region = batchRecordsRegion(buf, pos, header);
  const r = new ByteReader(region);
  const records: DecodedRecord[] = new Array(header.recordCount);
  const logAppend = header.timestampType === 1;
  try {
    for (let i = 0; i < header.recordCount; i++) {
      const len = r.varint();
      const end = r.pos + len;
      if (len < 0 || end > r.end) throw corrupt(`record ${i} length ${len} overruns its batch`);
      r.uint8();
      const tsDelta = r.varlong();
      const offsetDelta = r.varint();
      const keyLen = r.varint();
      const key = keyLen < 0 ? null : r.raw(keyLen);
      const valueLen = r.varint();
      const value = valueLen < 0 ? null : r.raw(valueLen);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount > len) throw corrupt(`record ${i} has ${headerCount} headers`);
      const headers: RecordHeader[] = [];
      for (let j = 0; j < headerCount; j++) {
        const hk = r.raw(r.varint());
        const hvLen = r.varint();
        headers.push({ key: hk.toString('utf8'), value: hvLen < 0 ? null : r.raw(hvLen) });
      }
      if (r.pos !== end) throw corrupt(`record ${i} length ${len} disagrees with its contents`);
      records[i] = {
        offset: header.baseOffset + offsetDelta,
        timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + tsDelta,
        offsetDelta,
        key,
        value,
        headers,
      };
    }
  } catch (err) {
    if (err instanceof SluiceError && err.code === 'CORRUPT_RECORD') throw err;
    throw new SluiceError('CORRUPT_RECORD', `malformed records in batch at offset ${header.baseOffset}`, {
      cause: err,
      kafkaErrorCode: CORRUPT_MESSAGE,
    });
  }
  if (r.remaining !== 0)
    throw corrupt(`${r.remaining} trailing bytes after ${header.recordCount} records in batch`);
  return { header, records };
}

/**
 * Walks the records of a batch calling `visit(key, offsetDelta, valueIsNull)` without
 * building record objects (keys are views). For the compactor's key scans. Decompresses when
 * needed; throws CORRUPT_RECORD on malformed records.
 */
export function scanRecordKeys(
  buf: Buffer,
  pos: number,
  header: RecordBatchHeader,
  visit: (key: Buffer | null, offsetDelta: number, valueIsNull: boolean) => void,
): void {
  const region = batchRecordsRegion(buf, pos, header);
  const r = new ByteReader(region);
  try {
    for (let i = 0; i < header.recordCount; i++) {
      const len = r.varint();
      const end = r.pos + len;
      if (len < 0 || end > r.end) throw corrupt(`record ${i} length ${len} overruns its batch`);
      r.pos += 1;
      r.varlong();
      const offsetDelta = r.varint();
      const keyLen = r.varint();
      const key = keyLen < 0 ? null : r.raw(keyLen);
      const valueLen = r.varint();
      visit(key, offsetDelta, valueLen < 0);
      r.pos = end;
    }
  } catch (err) {
    if (err instanceof SluiceError && err.code === 'CORRUPT_RECORD') throw err;
    throw new SluiceError('CORRUPT_RECORD', `malformed records in batch at offset ${header.baseOffset}`, {
      cause: err,
      kafkaErrorCode: CORRUPT_MESSAGE,
    });
  }
}

export interface ControlRecord {
  type: number;
  coordinatorEpoch: number;
}

export function encodeControlRecordKey(type: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt16BE(0, 0);
  b.writeInt16BE(type, 2);
  return b;
}

/** Reads a control record's key (and value, when present). */
export function decodeControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < 4) throw corrupt('control record without a 4-byte key');
  const type = key.readInt16BE(2);
  const coordinatorEpoch = value !== null && value.length >= 6 ? value.readInt32BE(2) : -1;
  return { type, coordinatorEpoch };
}

/** A transaction marker batch (COMMIT or ABORT) for a producer, as the coordinator writes it. */
export function encodeTxnMarkerBatch(opts: {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp?: number;
}): Buffer {
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(opts.coordinatorEpoch, 2);
  const ts = opts.timestamp ?? Date.now();
  return encodeRecordBatch({
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    isTransactional: true,
    isControl: true,
    baseSequence: -1,
    records: [
      {
        key: encodeControlRecordKey(opts.commit ? ControlRecordType.Commit : ControlRecordType.Abort),
        value,
        timestamp: ts,
      },
    ],
  });
}

/** The marker of a control batch at `pos` (first record), without a CRC check. */
export function readControlBatch(buf: Buffer, pos: number): ControlRecord {
  const { records } = decodeRecordBatch(buf, pos, false);
  const first = records[0];
  if (first === undefined) throw corrupt('control batch without records');
  return decodeControlRecord(first.key, first.value);
}

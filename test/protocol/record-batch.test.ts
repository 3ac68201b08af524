/** Record batch v2 codec, CRC-32C (against the bitwise definition) and compression codecs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compressSync } from 'snappy';
import { isSluiceError } from '../../src/common/index.js';
import {
  BATCH_HEADER_SIZE,
  ControlRecordType,
  compressionCodec,
  crc32c,
  crc32cJs,
  decodeRecordBatch,
  encodeRecordBatch,
  encodeTxnMarkerBatch,
  readBatchHeader,
  readControlBatch,
  scanRecordKeys,
  setBaseOffset,
  setLogAppendTime,
  validateBatch,
  validateBatches,
} from '../../src/protocol/index.js';

/** Bitwise reference CRC-32C (the definition), to check the table-driven one against. */
function crc32cReference(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 10 }),
      value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
    }),
    { maxLength: 3 },
  ),
  tsOffset: fc.integer({ min: -1000, max: 1_000_000 }),
});

const batchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 20 }),
  compression: fc.integer({ min: 0, max: 4 }),
  baseTimestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 50 })),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  isTransactional: fc.boolean(),
  baseOffset: fc.integer({ min: 0, max: 2 ** 52 }),
});

describe('CRC-32C', () => {
  it('matches the standard check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('equals the bitwise definition for any input, offset and chaining (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cut) => {
        const buf = Buffer.from(bytes);
        const at = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        assert.equal(crc32c(buf), crc32cReference(buf));
        assert.equal(crc32cJs(buf), crc32cReference(buf));
        assert.equal(crc32cJs(buf, at, buf.length, crc32cJs(buf, 0, at)), crc32cReference(buf));
        assert.equal(crc32c(buf, at, buf.length, crc32c(buf, 0, at)), crc32cReference(buf));
      }),
      { numRuns: 300 },
    );
  });
});

describe('record batch v2', () => {
  it('round-trips records, headers and header fields through every codec (property)', () => {
    fc.assert(
      fc.property(batchArb, (b) => {
        const bytes = encodeRecordBatch({
          baseOffset: b.baseOffset,
          compression: b.compression,
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          baseSequence: b.baseSequence,
          isTransactional: b.isTransactional,
          records: b.records.map((r) => ({ ...r, timestamp: b.baseTimestamp + r.tsOffset })),
        });
        const h = validateBatch(bytes);
        assert.equal(h.size, bytes.length);
        assert.equal(h.baseOffset, b.baseOffset);
        assert.equal(h.compression, b.compression);
        assert.equal(h.recordCount, b.records.length);
        assert.equal(h.lastOffset, b.baseOffset + b.records.length - 1);
        assert.equal(h.producerId, b.producerId);
        assert.equal(h.producerEpoch, b.producerEpoch);
        assert.equal(h.baseSequence, b.baseSequence);
        assert.equal(h.isTransactional, b.isTransactional);
        assert.equal(h.isControl, false);
        assert.equal(h.maxTimestamp, b.baseTimestamp + Math.max(...b.records.map((r) => r.tsOffset)));
        const { records } = decodeRecordBatch(bytes);
        assert.equal(records.length, b.records.length);
        const scanned: [Buffer | null, number, boolean][] = [];
        scanRecordKeys(bytes, 0, h, (k, d, nullValue) => scanned.push([k, d, nullValue]));
        assert.deepEqual(
          scanned,
          records.map((r) => [r.key, r.offsetDelta, r.value === null]),
        );
        records.forEach((r, i) => {
          const want = b.records[i]!;
          assert.equal(r.offset, b.baseOffset + i);
          assert.equal(r.timestamp, b.baseTimestamp + want.tsOffset);
          assert.deepEqual(r.key === null ? null : new Uint8Array(r.key), want.key);
          assert.deepEqual(r.value === null ? null : new Uint8Array(r.value), want.value);
          assert.deepEqual(
            r.headers.map((x) => ({ key: x.key, value: x.value === null ? null : new Uint8Array(x.value) })),
            want.headers.map((x) => ({ ...x })),
          );
        });
      }),
      { numRuns: 150 },
    );
  });

  it("maxTimestamp is the records' maximum even when every timestamp is below -1 (found by the property)", () => {
    const bytes = encodeRecordBatch({ compression: 0, records: [{ key: null, value: null, timestamp: -2 }] });
    assert.equal(validateBatch(bytes).maxTimestamp, -2);
  });

  it('detects any single corrupted byte in the CRC-covered region (property)', () => {
    fc.assert(
      fc.property(batchArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (b, at, flip) => {
        const bytes = encodeRecordBatch({ compression: b.compression, records: b.records });
        const i = 17 + (at % (bytes.length - 17));
        bytes[i] = bytes[i]! ^ flip;
        assert.throws(
          () => validateBatch(bytes),
          (e: unknown) => isSluiceError(e, 'CORRUPT_RECORD'),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('patches baseOffset without invalidating the CRC, and LogAppendTime with a new CRC', () => {
    const bytes = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v'), timestamp: 5 }] });
    setBaseOffset(bytes, 0, 2 ** 40 + 7);
    assert.equal(validateBatch(bytes).baseOffset, 2 ** 40 + 7);
    setLogAppendTime(bytes, 0, bytes.length, 123456789);
    const h = validateBatch(bytes);
    assert.equal(h.timestampType, 1);
    assert.equal(h.maxTimestamp, 123456789);
    assert.equal(decodeRecordBatch(bytes).records[0]!.timestamp, 123456789);
  });

  it('parses a header without touching the records region', () => {
    const bytes = encodeRecordBatch({
      compression: 1,
      records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1000 }],
    });
    bytes.fill(0xff, BATCH_HEADER_SIZE); // destroy the records: header parsing must not care
    const h = readBatchHeader(bytes);
    assert.equal(h.recordCount, 1);
    assert.equal(h.baseTimestamp, 1000);
    assert.equal(h.compression, 1);
  });

  it('rejects wrong magic, impossible lengths and truncation with CORRUPT_RECORD', () => {
    const good = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('x') }] });
    const badMagic = Buffer.from(good);
    badMagic[16] = 1;
    assert.throws(() => validateBatch(badMagic), /magic 1/);
    const tooLong = Buffer.from(good);
    tooLong.writeInt32BE(1 << 30, 8);
    assert.throws(() => validateBatch(tooLong), /impossible record batch length/);
    const tooShort = Buffer.from(good);
    tooShort.writeInt32BE(10, 8);
    assert.throws(() => validateBatch(tooShort), /impossible record batch length/);
    assert.throws(() => validateBatch(good.subarray(0, 30)), /truncated/);
    for (const b of [badMagic, tooLong, tooShort])
      assert.throws(
        () => validateBatch(b),
        (e: unknown) => isSluiceError(e, 'CORRUPT_RECORD'),
      );
  });

  it('walks concatenated batches', () => {
    const a = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('a') }] });
    const b = encodeRecordBatch({ compression: 3, records: [{ key: null, value: Buffer.from('b') }] });
    const hs = validateBatches(Buffer.concat([a, b]));
    assert.deepEqual(
      hs.map((h) => h.size),
      [a.length, b.length],
    );
  });

  it('encodes transaction markers as control batches', () => {
    const m = encodeTxnMarkerBatch({ producerId: 9, producerEpoch: 2, commit: false, coordinatorEpoch: 4 });
    const h = validateBatch(m);
    assert.equal(h.isControl, true);
    assert.equal(h.isTransactional, true);
    assert.deepEqual(readControlBatch(m, 0), { type: ControlRecordType.Abort, coordinatorEpoch: 4 });
  });

  it('decodes xerial-framed and raw snappy, and round-trips each codec on empty and large input', () => {
    const data = Buffer.from('sluice '.repeat(20000));
    const snappy = compressionCodec(2);
    assert.ok(
      snappy.decompress(snappy.compress(data)).equals(data),
      'snappy.decompress(snappy.compress(data)).equals(data)',
    );
    assert.equal(snappy.compress(data).subarray(1, 7).toString(), 'SNAPPY');
    assert.ok(
      snappy.decompress(compressSync(data)).equals(data),
      'snappy.decompress(compressSync(data)).equals(data)',
    );
    for (let t = 0; t <= 4; t++) {
      const c = compressionCodec(t);
      assert.equal(c.decompress(c.compress(Buffer.alloc(0))).length, 0);
      assert.ok(c.decompress(c.compress(data)).equals(data), 'c.decompress(c.compress(data)).equals(data)');
    }
    assert.throws(
      () => compressionCodec(1).decompress(Buffer.from('not gzip')),
      (e: unknown) => isSluiceError(e, 'CORRUPT_RECORD'),
    );
    assert.throws(() => compressionCodec(7), /unknown compression/);
  });
});

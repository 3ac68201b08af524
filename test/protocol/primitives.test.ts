import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSluiceError } from '../../src/common/index.js';
import { ByteReader, ByteWriter } from '../../src/protocol/index.js';

describe('wire primitives', () => {
  it('round-trips every primitive (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.oneof(
          fc.maxSafeInteger(),
          fc.constantFrom(-(2 ** 53 - 1), 2 ** 53 - 1, -(2 ** 52) - 1, 2 ** 48, -(2 ** 48) - 1),
        ),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.option(fc.string({ maxLength: 200 }), { nil: null }),
        fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
        (i8, i16, i32, i64, safe, u32, str, bytes) => {
          const w = new ByteWriter(1);
          w.int8(i8).int16(i16).int32(i32).int64(i64).int64n(safe).uvarint(u32).varint(i32).varlong(safe);
          w.varlongBig(i64)
            .string(str)
            .compactString(str)
            .bytes(bytes)
            .compactBytes(bytes)
            .bool(true)
            .float64(0.5);
          const r = new ByteReader(w.toBuffer());
          assert.equal(r.int8(), i8);
          assert.equal(r.int16(), i16);
          assert.equal(r.int32(), i32);
          assert.equal(r.int64(), i64);
          assert.equal(r.int64n(), safe);
          assert.equal(r.uvarint(), u32);
          assert.equal(r.varint(), i32);
          assert.equal(r.varlong(), safe);
          assert.equal(r.varlongBig(), i64);
          assert.equal(r.string(), str);
          assert.equal(r.compactString(), str);
          assert.deepEqual(
            r.bytes() === null ? null : new Uint8Array(r.buf.subarray(r.pos - (bytes?.length ?? 0), r.pos)),
            bytes,
          );
          const cb = r.compactBytes();
          assert.deepEqual(cb === null ? null : new Uint8Array(cb), bytes);
          assert.equal(r.bool(), true);
          assert.equal(r.float64(), 0.5);
          assert.equal(r.remaining, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('negative varlongs match Kafka zigzag (-1 -> 01, 1 -> 02, -64 -> 7f)', () => {
    assert.deepEqual([...new ByteWriter().varlong(-1).toBuffer()], [1]);
    assert.deepEqual([...new ByteWriter().varlong(1).toBuffer()], [2]);
    assert.deepEqual([...new ByteWriter().varlong(-64).toBuffer()], [0x7f]);
    assert.deepEqual([...new ByteWriter().varint(64).toBuffer()], [0x80, 0x01]);
  });

  it('a truncated input is one clean PROTOCOL error, never a read past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const r = new ByteReader(bytes);
        try {
          r.string();
          r.compactBytes();
          r.int64();
          r.varlong();
        } catch (err) {
          assert.ok(isSluiceError(err, 'PROTOCOL'), String(err));
        }
        assert.ok(r.pos <= bytes.length);
      }),
    );
  });

  it('rejects over-long varints and bad negative lengths', () => {
    assert.throws(
      () => new ByteReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint(),
      /longer than 5/,
    );
    assert.throws(() => new ByteReader(Buffer.from([0xff, 0xfe])).string(), /invalid string length -2/);
  });
});

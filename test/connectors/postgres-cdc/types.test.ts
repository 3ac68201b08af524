/**
 * Pure conversions of the type mapping (no Postgres): decimal encodings against Java's
 * BigInteger.toByteArray rules, LSN text, exact int64 in JSON, array literals, temporal
 * text → Debezium's epoch units. Property tests where a round trip defines correctness.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toJson } from '../../../src/connectors/index.js';
import { formatLsn, parseLsn } from '../../../src/connectors/postgres-cdc/lsn.js';
import {
  bigintToBytes,
  bytesToBigint,
  dateToDays,
  decimalBytes,
  intervalToMicros,
  parseArrayText,
  timestampToMicros,
  timeToMicros,
  unscaled,
  zonedTimestamp,
} from '../../../src/connectors/postgres-cdc/types.js';

describe('postgres-cdc type conversions', () => {
  it('two’s complement bytes round-trip and are minimal (BigInteger.toByteArray)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (v) => {
        const b = bigintToBytes(v);
        assert.equal(bytesToBigint(b), v);
        if (b.length > 1) {
          // a leading 0x00 / 0xff byte is there only when the next byte's sign bit needs it
          if (b[0] === 0) assert.ok((b[1] & 0x80) !== 0);
          if (b[0] === 0xff) assert.ok((b[1] & 0x80) === 0);
        }
      }),
    );
    assert.deepEqual([...bigintToBytes(1250n)], [0x04, 0xe2]);
    assert.deepEqual([...bigintToBytes(128n)], [0x00, 0x80]);
    assert.deepEqual([...bigintToBytes(-1n)], [0xff]);
  });

  it('decimal text → unscaled value at a scale, from a property over digit strings', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 12 }),
        (v, scale) => {
          const neg = v < 0n;
          const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
          const text = `${neg ? '-' : ''}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`;
          assert.equal(unscaled(text, scale), v);
          assert.equal(unscaled(text, scale + 2), v * 100n);
        },
      ),
    );
    assert.equal(unscaled('1.005', 2), 101n); // half up past the column scale
    fc.assert(
      fc.property(
        fc.integer({ min: -(10 ** 12), max: 10 ** 12 }),
        fc.integer({ min: 0, max: 3 }),
        (v, scale) => {
          const neg = v < 0;
          const digits = String(Math.abs(v)).padStart(scale + 1, '0');
          const text = `${neg ? '-' : ''}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`;
          assert.deepEqual(decimalBytes(text, scale + 1), bigintToBytes(unscaled(text, scale + 1)));
        },
      ),
    );
    assert.equal(unscaled('1e3', 0), 1000n);
    // decimalBytes' hand-scanned fast path (short texts) against the general BigInt path,
    // at the edges: -0, '.5', '5.', leading zeros, more fraction digits than the scale (half
    // up), unscaled values near 2^53 and across byte-length boundaries (±128, ±32768, …).
    const edges = fc.oneof(
      fc
        .integer({ min: 0, max: 52 })
        .chain((e) => fc.integer({ min: -2, max: 2 }).map((d) => String(2 ** e + d))),
      fc.constantFrom(
        '0',
        '-0',
        '-0.00',
        '.5',
        '5.',
        '-.5',
        '007.10',
        '9007199254740991',
        '9007199254740993',
      ),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          edges,
          fc.stringMatching(/^-?\d{1,9}(\.\d{0,7})?$/),
          fc.stringMatching(/^-?\d{0,7}\.\d{1,7}$/),
        ),
        fc.integer({ min: 0, max: 9 }),
        (text, scale) => {
          assert.deepEqual(
            decimalBytes(text, scale),
            bigintToBytes(unscaled(text, scale)),
            `${text} @ ${scale}`,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('LSN text round-trips', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        assert.equal(parseLsn(formatLsn(v)), v);
      }),
    );
    assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
  });

  it('JSON keeps int64 exact, bytes base64, non-finite floats as strings', () => {
    assert.equal(
      toJson({ a: 9007199254740993n, b: Buffer.from([1, 2]), c: Number.NaN, d: [1, null] }),
      '{"a":9007199254740993,"b":"AQI=","c":"NaN","d":[1,null]}',
    );
  });

  it('array literals with quotes, escapes and NULLs', () => {
    assert.deepEqual(parseArrayText('{1,NULL,-3}'), ['1', null, '-3']);
    assert.deepEqual(parseArrayText('{"a b","c,d","e\\"f",NULL,"NULL"}'), [
      'a b',
      'c,d',
      'e"f',
      null,
      'NULL',
    ]);
    assert.deepEqual(parseArrayText('{}'), []);
  });

  it('temporal text → Debezium units', () => {
    assert.equal(dateToDays('1970-01-01'), 0);
    assert.equal(dateToDays('2024-01-02'), 19724);
    assert.equal(dateToDays('1969-12-31'), -1);
    assert.equal(timestampToMicros('2024-01-02 03:04:05.123456'), 1704164645123456n);
    assert.equal(timestampToMicros('2024-01-02 05:04:05.5+02'), 1704164645500000n);
    assert.equal(timestampToMicros('1960-01-01 00:00:00'), -315619200000000n);
    assert.equal(zonedTimestamp('2024-01-02 03:04:05.5+02'), '2024-01-02T01:04:05.5Z');
    assert.equal(zonedTimestamp('2024-01-02 03:04:05+00'), '2024-01-02T03:04:05Z');
    assert.equal(zonedTimestamp('2024-01-02 03:04:05.120000+00'), '2024-01-02T03:04:05.12Z');
    assert.equal(zonedTimestamp('2024-01-02 03:04:05.000+00'), '2024-01-02T03:04:05Z');
    assert.equal(timeToMicros('13:14:15.000001').micros, 47655000001n);
    assert.equal(
      intervalToMicros('P3DT4H5M6.5S'),
      ((3n * 24n + 4n) * 3600n + 5n * 60n + 6n) * 1_000_000n + 500_000n,
    );
    assert.equal(intervalToMicros('P1M'), 2629800000000n); // 30.4375 days, as Debezium
  });
});

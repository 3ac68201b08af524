/**
 * The snapshot's batch encoder against the per-row one (no Postgres): `snapshotRecords`
 * writes keys and values into shared buffers and builds the envelope's constant part once
 * per chunk; its bytes must equal `snapshotRecord`'s (and so `envelopeJson('r', …)`'s) for
 * every row, in both JSON formats, with the last row's `snapshot: "last"` marker, whatever
 * the texts (non-ASCII, quotes, backslashes, NULLs). Only `ts_ms` (wall-clock time) may differ.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { JsonEncoder, TableModel } from '../../../src/connectors/index.js';
import type { PgTypeInfo } from '../../../src/connectors/postgres-cdc/types.js';

const TYPES: Record<number, PgTypeInfo> = {
  20: { oid: 20, name: 'int8', kind: 'b', elem: 0, base: 0 },
  25: { oid: 25, name: 'text', kind: 'b', elem: 0, base: 0 },
  1700: { oid: 1700, name: 'numeric', kind: 'b', elem: 0, base: 0 },
  1184: { oid: 1184, name: 'timestamptz', kind: 'b', elem: 0, base: 0 },
  16: { oid: 16, name: 'bool', kind: 'b', elem: 0, base: 0 },
};

function model(): TableModel {
  const col = (name: string, typeOid: number, typeMod = -1, isKey = false) => ({
    name,
    typeOid,
    typeMod,
    isKey,
  });
  return new TableModel(
    'public',
    'snap',
    [
      col('id', 20, -1, true),
      col('name', 25, -1, true),
      // numeric(12,2): typmod = ((12 << 16) | 2) + 4
      col('amount', 1700, ((12 << 16) | 2) + 4),
      col('ts', 1184),
      col('flag', 16),
    ],
    (oid) => TYPES[oid],
    { topicPrefix: 'p', database: 'db', decimalMode: 'precise' },
  );
}

const withoutTsMs = (b: Buffer | null) =>
  b === null ? null : b.toString().replace(/"ts_ms":\d+,"transaction"/, '"ts_ms":0,"transaction"');

const row = fc.tuple(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.option(
    fc
      .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 99 }))
      .map(([a, b]) => `${a}.${String(b).padStart(2, '0')}`),
  ),
  fc.option(
    fc.constantFrom('2024-02-29 10:11:12.5+00', '1999-12-31 23:59:59+00', '2030-01-01 00:00:00.000001+00'),
  ),
  fc.option(fc.constantFrom('t', 'f')),
);

describe('postgres-cdc snapshot encoding', () => {
  for (const withSchema of [false, true]) {
    it(`snapshotRecords equals snapshotRecord row by row (${withSchema ? 'json-schema' : 'json'})`, async () => {
      const m = model();
      const enc = new JsonEncoder(withSchema);
      await enc.prepare(m);
      const src = {
        ts_ms: 1_700_000_000_000,
        snapshot: 'true' as const,
        sequence: null,
        txId: null,
        lsn: 12345,
      };
      fc.assert(
        fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.boolean(), (rows, isLast) => {
          const last = isLast ? { ...src, snapshot: 'last' as const } : null;
          const batch = enc.snapshotRecords(m, rows, src, last);
          assert.equal(batch.length, rows.length);
          rows.forEach((r, i) => {
            const one = enc.snapshotRecord(m, r, last !== null && i === rows.length - 1 ? last : src);
            assert.equal(batch[i].key?.toString(), one.key?.toString());
            assert.equal(withoutTsMs(batch[i].value), withoutTsMs(one.value));
            const v = JSON.parse(batch[i].value.toString());
            assert.equal(
              (withSchema ? v.payload : v).source.snapshot,
              last !== null && i === rows.length - 1 ? 'last' : 'true',
            );
          });
        }),
        { numRuns: 200 },
      );
    });
  }
});

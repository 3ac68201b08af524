import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ByteReader,
  ByteWriter,
  compileMessage,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type MessageDef,
  SUPPORTED_APIS,
} from '../../src/protocol/index.js';
import { bodyArb, withDefaults } from './support/arbitrary.js';

const RUNS = Number(process.env.SLUICE_PROTOCOL_RUNS ?? 25);

function roundTrip(def: MessageDef, version: number): void {
  const codec = compileMessage<Record<string, unknown>, Record<string, unknown>>(def, version);
  fc.assert(
    fc.property(bodyArb(def, version), (body) => {
      const w = new ByteWriter(16);
      codec.encode(w, body);
      const bytes = w.toBuffer();
      const r = new ByteReader(bytes);
      const decoded = codec.decode(r);
      assert.equal(r.remaining, 0, 'decoder consumed every byte');
      assert.deepStrictEqual(decoded, withDefaults(def.fields, version, body));
      // Re-encoding the decoded body gives the same bytes (defaults are dropped or written alike).
      const w2 = new ByteWriter(16);
      codec.encode(w2, decoded);
      assert.deepStrictEqual(w2.toBuffer(), bytes);
    }),
    { numRuns: RUNS },
  );
}

describe('every API, every supported version: encode → decode → equal', () => {
  for (const api of SUPPORTED_APIS) {
    it(`${api.name} (${api.key}) v${api.minVersion}-${api.maxVersion}`, () => {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        roundTrip(api.request, v);
        roundTrip(api.response, v);
      }
    });
  }
});

describe('frames', () => {
  it('request frames round-trip with their header (every API, every version)', () => {
    for (const api of SUPPORTED_APIS) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const [body] = fc.sample(bodyArb(api.request, v), { numRuns: 1, seed: api.key * 100 + v });
        const frame = encodeRequest(api.key as 0, v, 12345 + v, v % 2 ? null : 'client-é', body as never);
        assert.equal(frame.readInt32BE(0), frame.length - 4);
        const d = decodeRequest(frame.subarray(4));
        assert.equal(d.apiKey, api.key);
        assert.equal(d.apiVersion, v);
        assert.equal(d.correlationId, 12345 + v);
        assert.equal(d.clientId, v % 2 ? null : 'client-é');
        assert.equal(d.trailingBytes, 0);
        assert.deepStrictEqual(d.body, withDefaults(api.request.fields, v, body as Record<string, unknown>));
      }
    }
  });

  it('response frames round-trip; ApiVersions keeps header v0 even in flexible versions', () => {
    for (const api of SUPPORTED_APIS) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const [body] = fc.sample(bodyArb(api.response, v), { numRuns: 1, seed: api.key * 100 + v });
        const chunks = encodeResponse(api.key as 0, v, 77, body as never);
        const frame = Buffer.concat(chunks);
        assert.equal(frame.readInt32BE(0), frame.length - 4);
        const d = decodeResponse(api.key as 0, v, frame.subarray(4));
        assert.equal(d.correlationId, 77);
        assert.equal(d.trailingBytes, 0);
        assert.deepStrictEqual(d.body, withDefaults(api.response.fields, v, body as Record<string, unknown>));
      }
    }
    // ApiVersions v3 response: correlation id then directly the error code (no header tags).
    const f = Buffer.concat(encodeResponse(18, 3, 9, { errorCode: 35 }));
    assert.equal(f.readInt32BE(4), 9);
    assert.equal(f.readInt16BE(8), 35);
  });

  it('Fetch response records given as chunks are kept by reference and decode as their concatenation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 4, max: 12 }),
        (parts, version) => {
          const batches = parts.map((p) => Buffer.from(p));
          const chunks = encodeResponse(1, version, 1, {
            responses: [{ topic: 't', partitions: [{ partitionIndex: 3, records: batches }] }],
          });
          for (const b of batches)
            if (b.length >= 1024) assert.ok(chunks.includes(b), 'large batch not copied');
          const frame = Buffer.concat(chunks);
          const d = decodeResponse(1, version, frame.subarray(4));
          const p = d.body.responses[0]?.partitions[0];
          assert.deepStrictEqual(p?.records, Buffer.concat(batches));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('rejects unknown API keys and unsupported versions with UNSUPPORTED, keeping the header', () => {
    const frame = encodeRequest(3, 1, 42, 'c', {}).subarray(4);
    const unknownKey = Buffer.from(frame);
    unknownKey.writeInt16BE(999, 0);
    assert.throws(
      () => decodeRequest(unknownKey),
      (e: unknown) =>
        (e as { code?: string; details?: { correlationId?: number } }).code === 'UNSUPPORTED' &&
        (e as { details: { correlationId: number; apiKey: number } }).details.apiKey === 999 &&
        (e as { details: { correlationId: number } }).details.correlationId === 42,
    );
    const tooNew = Buffer.from(frame);
    tooNew.writeInt16BE(99, 2);
    assert.throws(
      () => decodeRequest(tooNew),
      (e: unknown) => (e as { code?: string; details?: { apiVersion?: number } }).details?.apiVersion === 99,
    );
  });

  it('encoding refuses a non-default value the version cannot carry, unless the field is ignorable', () => {
    // AddPartitionsToTxn v3 has no batched `transactions` (not ignorable); an empty list is its default.
    assert.throws(
      () => encodeRequest(24, 3, 1, null, { transactions: [{ transactionalId: 'x' }] }),
      (e: unknown) => (e as { code?: string }).code === 'UNSUPPORTED',
    );
    assert.doesNotThrow(() => encodeRequest(24, 3, 1, null, { transactions: [] }));
    // JoinGroup v0 drops the ignorable rebalanceTimeoutMs and throttleTimeMs.
    const v0 = encodeRequest(11, 0, 1, null, { groupId: 'g', rebalanceTimeoutMs: 5 });
    const d = decodeRequest(v0.subarray(4));
    assert.ok(d.apiKey === 11);
    assert.equal(d.body.rebalanceTimeoutMs, -1);
    assert.doesNotThrow(() => encodeResponse(11, 0, 1, { throttleTimeMs: 100 }));
  });
});

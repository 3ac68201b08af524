import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import { ByteWriter, decodeRequest, encodeRequest, MAX_REQUEST_ELEMENTS } from '../../src/protocol/index.js';
import { buildCorpus, runFuzz } from './support/fuzz.js';

const ITERATIONS = Number(process.env.SLUICE_FUZZ_ITERATIONS ?? 200_000);

describe('decodeRequest under fuzzing', () => {
  it(`${ITERATIONS} mutated and random frames: returns or throws PROTOCOL/UNSUPPORTED, memory bounded`, (t) => {
    const corpus = buildCorpus(4, 1);
    assert.ok(corpus.length > 500);
    const stats = runFuzz(ITERATIONS, 20261121, corpus);
    t.diagnostic(JSON.stringify(stats));
    assert.equal(stats.decoded + stats.protocolErrors + stats.unsupported, ITERATIONS);
    // Every outcome occurs: the mutations reach both the accepting and the rejecting paths.
    assert.ok(stats.decoded > 0 && stats.protocolErrors > 0 && stats.unsupported > 0, JSON.stringify(stats));
    assert.ok(stats.maxHeapGrowthMb < 256, `heap grew by ${stats.maxHeapGrowthMb} MB`);
  });

  it('lengths claiming 2 GB fail at once without allocating', () => {
    const before = process.memoryUsage().arrayBuffers;
    // Produce v3: transactional id (int16 length), acks, timeout, topic array count (int32).
    const frame = Buffer.from(
      encodeRequest(0, 3, 1, 'c', { transactionalId: null, acks: 1, timeoutMs: 1, topicData: [] }).subarray(
        4,
      ),
    );
    const countAt = frame.length - 4;
    frame.writeInt32BE(0x7fffffff, countAt);
    assert.throws(
      () => decodeRequest(frame),
      (e) => isSluiceError(e, 'PROTOCOL') && /cannot fit/.test(e.message),
    );
    // A records field claiming 2 GB.
    const p = Buffer.from(
      encodeRequest(0, 3, 1, 'c', {
        acks: 1,
        timeoutMs: 1,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(8) }] }],
      }).subarray(4),
    );
    p.writeInt32BE(0x7fffffff, p.length - 12);
    assert.throws(
      () => decodeRequest(p),
      (e) => isSluiceError(e, 'PROTOCOL') && /truncated/.test(e.message),
    );
    // A compact (flexible) string claiming 2^32 - 2 bytes: Produce v9 transactional id.
    const q = Buffer.from(encodeRequest(0, 9, 1, 'c', { transactionalId: 'x' }).subarray(4));
    const tid = 8 + 2 + 1 + 1; // header (8) + client id 'c' (2 + 1) + header tags (1)
    assert.equal(q[tid], 2);
    const lie = Buffer.concat([
      q.subarray(0, tid),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
      q.subarray(tid + 1),
    ]);
    assert.throws(
      () => decodeRequest(lie),
      (e) => isSluiceError(e, 'PROTOCOL'),
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1048576);
  });

  it('a non-nullable field sent as null is a PROTOCOL error', () => {
    const frame = Buffer.from(encodeRequest(3, 1, 1, 'c', { topics: [{ name: 'abc' }] }).subarray(4));
    // Metadata v1: topics array (int32 count = 1), then the topic name (int16 length 3) — make it -1.
    const nameAt = frame.indexOf(Buffer.from([0, 3, 0x61, 0x62, 0x63]));
    frame.writeInt16BE(-1, nameAt);
    assert.throws(
      () => decodeRequest(frame.subarray(0, nameAt + 2)),
      (e) => isSluiceError(e, 'PROTOCOL') && /not nullable/.test(e.message),
    );
  });
  it('bounds the array elements one request may create (a frame of tiny elements cannot fan out into millions of objects)', () => {
    // DescribeGroups v5: groups is a compact array of compact strings; an empty string is 1 byte.
    const n = MAX_REQUEST_ELEMENTS + 1;
    const head = encodeRequest(15, 5, 1, 'c', { groups: [] }).subarray(4, -3); // header, without body
    const count = new ByteWriter(8).uvarint(n + 1).toBuffer(); // compact array length n
    const body = Buffer.concat([count, Buffer.alloc(n, 1), Buffer.from([0, 0])]); // n empty strings, bool, tags
    assert.throws(
      () => decodeRequest(Buffer.concat([head, body])),
      (e) => isSluiceError(e, 'PROTOCOL') && /more array elements/.test(e.message),
    );
    // The same frame decodes with a larger budget, so the limit is what refused it.
    const d = decodeRequest(Buffer.concat([head, body]), { maxElements: n });
    assert.ok(d.apiKey === 15);
    assert.equal(d.body.groups.length, n);
  });
});

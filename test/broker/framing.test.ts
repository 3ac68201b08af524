import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameSplitter } from '../../src/broker/index.js';
import { isSluiceError } from '../../src/common/index.js';

function frame(payload: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeInt32BE(payload.length, 0);
  b.set(payload, 4);
  return b;
}

describe('FrameSplitter', () => {
  it('returns the same frames however the stream is cut into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map(frame));
          const s = new FrameSplitter(1000);
          const got: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length] as number;
            got.push(...s.push(stream.subarray(at, at + n)).map((f) => Buffer.from(f)));
            at += n;
          }
          assert.deepEqual(
            got,
            payloads.map((p) => Buffer.from(p)),
          );
          assert.equal(s.pending, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a size above the limit or negative before buffering the payload', () => {
    const s = new FrameSplitter(1024);
    const big = Buffer.alloc(4);
    big.writeInt32BE(0x7fffffff, 0);
    assert.throws(
      () => s.push(big),
      (e) => isSluiceError(e, 'PROTOCOL') && /outside/.test(e.message),
    );
    const neg = Buffer.alloc(4);
    neg.writeInt32BE(-5, 0);
    assert.throws(
      () => new FrameSplitter(1024).push(neg),
      (e) => isSluiceError(e, 'PROTOCOL'),
    );
    // The size prefix itself split over three reads.
    const t = new FrameSplitter(1024);
    assert.deepEqual(t.push(Buffer.from([0])), []);
    assert.deepEqual(t.push(Buffer.from([0, 0])), []);
    assert.deepEqual(t.push(Buffer.from([2, 9])), []);
    assert.deepEqual(t.push(Buffer.from([8, 0, 0, 0, 0])), [Buffer.from([9, 8]), Buffer.alloc(0)]);
  });
});

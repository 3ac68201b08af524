/** Property: reads at arbitrary offsets and byte limits return whole, ordered batches starting at the right one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validateBatches } from '../../src/protocol/index.js';
import { batch, openLog, tempDir } from './helpers.js';

describe('reads at arbitrary offsets (property)', () => {
  it('return whole batches starting with the one holding the offset, within maxBytes after the first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 300, max: 5000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6000 })), { minLength: 1, maxLength: 20 }),
        async (batches, segmentBytes, interval, probes) => {
          const { dir, cleanup } = tempDir('sluice-read-');
          try {
            const log = await openLog(dir, {
              'segment.bytes': segmentBytes,
              'index.interval.bytes': interval * 100,
            });
            const ranges: { base: number; last: number; size: number }[] = [];
            for (const sizes of batches) {
              const bytes = batch(sizes.map((n) => ({ value: Buffer.alloc(n, n & 0xff) })));
              const r = await log.append(bytes);
              ranges.push({ base: r.baseOffset, last: r.lastOffset, size: bytes.length });
            }
            for (const [p, maxBytes] of probes) {
              const offset = p % log.logEndOffset;
              const { records, firstBatchBaseOffset } = log.read(offset, { maxBytes });
              const hs = validateBatches(records);
              assert.ok(hs.length > 0, `nothing read at ${offset}`);
              const holder = ranges.find((x) => x.base <= offset && offset <= x.last)!;
              assert.equal(hs[0]!.baseOffset, holder.base);
              assert.equal(firstBatchBaseOffset, holder.base);
              if (hs.length > 1)
                assert.ok(records.length <= maxBytes, 'more than one batch only within maxBytes');
              for (let i = 1; i < hs.length; i++) assert.equal(hs[i]!.baseOffset, hs[i - 1]!.lastOffset + 1);
              const next = ranges[ranges.indexOf(holder) + hs.length];
              // Batches stop at a segment end or because the next one would not fit.
              if (next !== undefined && records.length + next.size <= maxBytes)
                assert.notEqual(log.read(next.base, { maxBytes: 1 }).records.length, 0);
            }
            await log.close();
          } finally {
            cleanup();
          }
        },
      ),
      { numRuns: 40, endOnFailure: true },
    );
  });
});

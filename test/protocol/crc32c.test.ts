/**
 * The native CRC-32C implementations (Sluice's 3-way SSE4.2 addon, @node-rs/crc32) against the
 * JavaScript one, on large random inputs with random ranges, alignments and continuation values;
 * the addon's argument checks; and that the addon is the one in use wherever it is installed.
 * An implementation that is not available on this machine is reported as a skipped test.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CRC32C_IMPLEMENTATIONS,
  type Crc32cFunction,
  crc32cImplementation,
  crc32cImplementations,
  crc32cJs,
} from '../../src/protocol/index.js';

const MAX_LENGTH = 200_000;

/** Deterministic bytes (xorshift32), so a failing case replays from fast-check's seed alone. */
const POOL: Buffer = (() => {
  const b = Buffer.allocUnsafe(MAX_LENGTH + 64);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();

// Lengths at the addon's round boundaries (3 x 8192, 3 x 1024, 3 x 256 bytes, 8-byte words)
// and sums of them, each with a small jitter; plus uniformly random lengths up to 200k.
const BOUNDARIES = [0, 8, 768, 3072, 3840, 24576, 24576 + 3072 + 768, 2 * 24576, 65536];
const lengthArb = fc.oneof(
  fc.integer({ min: 0, max: MAX_LENGTH }),
  fc
    .tuple(fc.constantFrom(...BOUNDARIES), fc.integer({ min: -9, max: 9 }))
    .map(([b, d]) => Math.max(0, Math.min(MAX_LENGTH, b + d))),
  fc.integer({ min: 0, max: 100 }),
);

const caseArb = fc
  .record({
    length: lengthArb,
    poolOffset: fc.integer({ min: 0, max: 63 }), // content and the buffer's alignment
    a: fc.nat(),
    b: fc.nat(),
    crc: fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.nat({ max: 0xffffffff })),
    bytes: fc.uint8Array({ maxLength: 16 }), // written over the start, so content varies beyond the pool
  })
  .map(({ length, poolOffset, a, b, crc, bytes }) => {
    // A fresh ArrayBuffer is 8-byte aligned: the view starts 0-7 bytes past that.
    const shift = poolOffset % 8;
    const buf = new Uint8Array(length + shift).subarray(shift);
    buf.set(POOL.subarray(poolOffset, poolOffset + length));
    buf.set(bytes.subarray(0, length));
    const x = a % (length + 1);
    const y = b % (length + 1);
    const start = Math.min(x, y);
    const end = Math.max(x, y);
    const described = `{ length: ${length}, poolOffset: ${poolOffset}, bytes: [${bytes}], start: ${start}, end: ${end}, crc: ${crc} }`;
    // A counterexample prints as its recipe, not as 200k bytes.
    return { buf, start, end, crc, [fc.toStringMethod]: () => described };
  });

function checkAgainstJs(fn: Crc32cFunction): void {
  fc.assert(
    fc.property(caseArb, ({ buf, start, end, crc }) => {
      const expected = crc32cJs(buf, start, end, crc);
      assert.equal(fn(buf, start, end, crc), expected);
      // Chaining at a split point gives the same result as one call.
      const mid = start + ((end - start) >>> 1);
      assert.equal(fn(buf, mid, end, fn(buf, start, mid, crc)), expected);
      // Defaults: the whole buffer, from 0.
      assert.equal(fn(buf), crc32cJs(buf));
      assert.equal(fn(buf, start), crc32cJs(buf, start));
    }),
    { numRuns: 300 },
  );
}

function addonExports(): { crc32c?: unknown; implementation?: unknown } | undefined {
  try {
    return createRequire(import.meta.url)('@sluice/crc32c-native');
  } catch {
    return undefined;
  }
}

describe('CRC-32C native implementations', () => {
  for (const name of CRC32C_IMPLEMENTATIONS.filter((n) => n !== 'js')) {
    const fn = crc32cImplementations[name];
    it(
      `${name} equals crc32cJs for random buffers up to 200k, ranges, alignments and continuations (property)`,
      { skip: fn === undefined ? `${name} is not available on this machine` : false },
      () => checkAgainstJs(fn as Crc32cFunction),
    );
  }

  it('the active implementation is the first available one', () => {
    const first = CRC32C_IMPLEMENTATIONS.find((n) => crc32cImplementations[n] !== undefined);
    if (process.env.SLUICE_CRC32C === undefined) assert.equal(crc32cImplementation, first);
    assert.equal(crc32cImplementations.js, crc32cJs);
  });

  it('uses the 3-way addon wherever it is installed and supports this CPU', (t) => {
    const addon = addonExports();
    if (addon === undefined) return t.skip('@sluice/crc32c-native is not installed (built) here');
    if (typeof addon.crc32c !== 'function') {
      assert.equal(addon.implementation, undefined);
      return t.skip('this CPU lacks SSE4.2 + PCLMULQDQ: the addon exports no crc32c');
    }
    assert.equal(addon.implementation, 'sse42-3way');
    // Loaded and passed the self-check: dropping it silently would lose a 3-4x speed-up.
    assert.equal(crc32cImplementations['native-3way'], addon.crc32c);
    if (process.env.SLUICE_CRC32C === undefined) assert.equal(crc32cImplementation, 'native-3way');
  });

  it('the addon rejects out-of-bounds ranges and non-byte arrays, and returns crc for an empty range', (t) => {
    const fn = crc32cImplementations['native-3way'];
    if (fn === undefined) return t.skip('native-3way is not available on this machine');
    const buf = Buffer.from('123456789');
    assert.equal(fn(buf), 0xe3069283);
    assert.equal(fn(new Uint8Array(buf)), 0xe3069283);
    assert.equal(fn(buf, 4, 4, 0xdeadbeef), 0xdeadbeef);
    assert.equal(fn(buf, 6, 2, 0xdeadbeef), 0xdeadbeef); // start > end: empty, as crc32cJs
    assert.throws(() => fn(buf, 0, 10), RangeError);
    assert.throws(() => fn(buf, -1, 3), RangeError);
    assert.throws(() => fn(buf, 1.5, 3), RangeError);
    assert.throws(() => fn(buf, Number.NaN, 3), RangeError);
    const notBytes = [new Uint16Array(4), new DataView(new ArrayBuffer(4)), 'abc', null];
    for (const bad of notBytes) assert.throws(() => fn(bad as unknown as Uint8Array), TypeError);
  });
});

/**
 * Built-in serdes for state stores.
 *
 * Format: string = UTF-8; int = 8-byte big-endian two's complement of a safe integer with the
 * sign bit flipped, so byte order equals numeric order; float64 = IEEE-754 big-endian with the
 * usual order-preserving flip; json = UTF-8 JSON (not order preserving); bytes = identity.
 * Invariants: serialize is deterministic; deserialize(serialize(x)) equals x.
 */
import { SluiceError } from '../../common/index.js';
import type { Serde } from './types.js';

const decoder = new TextDecoder();

export const stringSerde: Serde<string> = {
  // Buffer.from is several times faster than TextEncoder for short strings (pooled slab).
  serialize: (s) => Buffer.from(s, 'utf8'),
  deserialize: (b) => decoder.decode(b),
  identityKey: true,
  utf8: true,
  copiesInput: true,
};

export const bytesSerde: Serde<Uint8Array> = {
  serialize: (b) => b,
  deserialize: (b) => b,
};

export const jsonSerde = <T>(): Serde<T> => ({
  serialize: (v) => Buffer.from(JSON.stringify(v), 'utf8'),
  // JSON.stringify's output is well-formed UTF-16 (lone surrogates are escaped), so equal
  // texts ⇔ equal UTF-8 bytes: the text itself can index keys.
  mapKey: (v) => JSON.stringify(v),
  deserialize: (b) => {
    try {
      return JSON.parse(decoder.decode(b)) as T;
    } catch (err) {
      throw new SluiceError('DESERIALIZATION', 'invalid JSON in state store', { cause: err });
    }
  },
  copiesInput: true,
});

const TWO32 = 2 ** 32;

/**
 * Writes a safe integer as 8 order-preserving bytes: its int64 two's complement, big-endian,
 * sign bit flipped (so negatives sort before positives and byte order equals numeric order).
 */
export function writeOrderedInt(out: Uint8Array, pos: number, n: number): void {
  const hi = Math.floor(n / TWO32);
  const lo = n - hi * TWO32;
  const h = (hi ^ 0x80000000) >>> 0;
  out[pos] = h >>> 24;
  out[pos + 1] = (h >>> 16) & 0xff;
  out[pos + 2] = (h >>> 8) & 0xff;
  out[pos + 3] = h & 0xff;
  out[pos + 4] = lo >>> 24;
  out[pos + 5] = (lo >>> 16) & 0xff;
  out[pos + 6] = (lo >>> 8) & 0xff;
  out[pos + 7] = lo & 0xff;
}

export function readOrderedInt(b: Uint8Array, pos: number): number {
  const hi = ((b[pos] << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]) ^ 0x80000000;
  const lo = ((b[pos + 4] << 24) | (b[pos + 5] << 16) | (b[pos + 6] << 8) | b[pos + 7]) >>> 0;
  return hi * TWO32 + lo;
}

export const intSerde: Serde<number> = {
  serialize: (n) => {
    if (!Number.isSafeInteger(n)) throw new SluiceError('SERIALIZATION', `not a safe integer: ${n}`);
    const out = new Uint8Array(8);
    writeOrderedInt(out, 0, n);
    return out;
  },
  deserialize: (b) => {
    if (b.length !== 8) throw new SluiceError('DESERIALIZATION', `int needs 8 bytes, got ${b.length}`);
    return readOrderedInt(b, 0);
  },
  identityKey: true,
  copiesInput: true,
};

export const float64Serde: Serde<number> = {
  serialize: (n) => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, n);
    if (out[0] & 0x80) for (let i = 0; i < 8; i++) out[i] ^= 0xff;
    else out[0] ^= 0x80;
    return out;
  },
  deserialize: (b) => {
    if (b.length !== 8) throw new SluiceError('DESERIALIZATION', `float64 needs 8 bytes, got ${b.length}`);
    const c = Uint8Array.from(b);
    if (c[0] & 0x80) c[0] ^= 0x80;
    else for (let i = 0; i < 8; i++) c[i] ^= 0xff;
    return new DataView(c.buffer).getFloat64(0);
  },
  copiesInput: true,
};

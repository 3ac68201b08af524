/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batch v2.
 *
 * Format: init 0xFFFFFFFF, reflected input and output, final xor 0xFFFFFFFF; the check value of
 * "123456789" is 0xE3069283. Implementation: slice-by-16 over sixteen 256-entry tables, reading
 * the input as aligned little-endian 32-bit words through an Int32Array view (one load per 4
 * bytes instead of four), so each iteration folds 16 bytes with 16 table lookups. Unaligned
 * head/tail bytes and big-endian hosts take the byte-at-a-time loop. Measured on the 2-core
 * dev machine under load, 64 KiB input: slice-by-8 with byte loads ~570 MB/s, slice-by-8 with
 * word loads ~580 MB/s, this ~860 MB/s (about 1.5x); idle, slice-by-8 reached ~1.3 GB/s.
 *
 * Accelerator: when the native `@node-rs/crc32` package resolves (SSE4.2/ARMv8 CRC
 * instructions, ~3-6 GB/s here), `crc32c` uses it after checking it against this module's own
 * result on a test vector; otherwise, or with SLUICE_CRC32C=js, the TypeScript code runs.
 * `crc32cImplementation` says which one is active. Pure functions; the only state is the tables.
 */
import { createRequire } from 'node:module';

const TABLES: Int32Array = (() => {
  const t = new Int32Array(256 * 16);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 16; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Continues a CRC-32C over buf[start, end). Pass the previous result as `crc` to chain; 0 to start. */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  if (LITTLE_ENDIAN) {
    while (i < end && ((buf.byteOffset + i) & 3) !== 0) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
    const blocks = (end - i) >>> 4;
    if (blocks > 0) {
      const u = new Int32Array(buf.buffer, buf.byteOffset + i, blocks * 4);
      const n = u.length;
      for (let w = 0; w < n; w += 4) {
        const a = c ^ u[w];
        const b = u[w + 1];
        const d = u[w + 2];
        const e = u[w + 3];
        c =
          t[3840 + (a & 0xff)] ^
          t[3584 + ((a >>> 8) & 0xff)] ^
          t[3328 + ((a >>> 16) & 0xff)] ^
          t[3072 + (a >>> 24)] ^
          t[2816 + (b & 0xff)] ^
          t[2560 + ((b >>> 8) & 0xff)] ^
          t[2304 + ((b >>> 16) & 0xff)] ^
          t[2048 + (b >>> 24)] ^
          t[1792 + (d & 0xff)] ^
          t[1536 + ((d >>> 8) & 0xff)] ^
          t[1280 + ((d >>> 16) & 0xff)] ^
          t[1024 + (d >>> 24)] ^
          t[768 + (e & 0xff)] ^
          t[512 + ((e >>> 8) & 0xff)] ^
          t[256 + ((e >>> 16) & 0xff)] ^
          t[e >>> 24];
      }
      i += blocks * 16;
    }
  }
  while (i < end) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc | undefined {
  if (typeof process !== 'undefined' && process.env?.SLUICE_CRC32C === 'js') return undefined;
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const fn = mod.crc32c;
    if (typeof fn !== 'function') return undefined;
    const probe = new Uint8Array(1031);
    for (let i = 0; i < probe.length; i++) probe[i] = (i * 131 + 7) & 0xff;
    const split = 517;
    if (fn(probe) !== crc32cJs(probe)) return undefined;
    if (fn(probe.subarray(split), fn(probe.subarray(0, split))) !== crc32cJs(probe)) return undefined;
    return fn;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** 'native' (@node-rs/crc32, hardware CRC instructions) or 'js' (the slice-by-16 code above). */
export const crc32cImplementation: 'native' | 'js' = native === undefined ? 'js' : 'native';

/** Continues a CRC-32C over buf[start, end). Pass the previous result as `crc` to chain; 0 to start. */
export const crc32c: (buf: Uint8Array, start?: number, end?: number, crc?: number) => number =
  native === undefined
    ? crc32cJs
    : (buf, start = 0, end = buf.length, crc = 0) =>
        native(start === 0 && end === buf.length ? buf : buf.subarray(start, end), crc) >>> 0;

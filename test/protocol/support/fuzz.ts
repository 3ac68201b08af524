/**
 * The request-decoder fuzzer shared by test/protocol/fuzz.test.ts and bench/protocol-fuzz.ts.
 *
 * Corpus: valid request frames (no size prefix) of every API at every supported version, with
 * bodies drawn from the definitions' arbitraries. Each iteration takes a corpus frame and
 * applies 1-3 mutations (bit flips, byte stores, truncation, length lies in int16/int32/uvarint
 * form, splices, appended garbage), or sends random bytes behind a valid header. The decoder
 * may return or throw SluiceError PROTOCOL / UNSUPPORTED; anything else is a failure and is
 * reported with the frame that caused it.
 */
import fc from 'fast-check';
import { isSluiceError } from '../../../src/common/index.js';
import { decodeRequest, encodeRequest, SUPPORTED_APIS } from '../../../src/protocol/index.js';
import { bodyArb } from './arbitrary.js';

/** Small fast PRNG (mulberry32): the same seed gives the same run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildCorpus(perVersion: number, seed: number): Buffer[] {
  const corpus: Buffer[] = [];
  for (const api of SUPPORTED_APIS) {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const bodies = fc.sample(bodyArb(api.request, v), {
        numRuns: perVersion,
        seed: seed + api.key * 1000 + v,
      });
      for (const body of bodies)
        corpus.push(encodeRequest(api.key as 0, v, 1, 'fuzz', body as never).subarray(4));
    }
  }
  return corpus;
}

const LIES = [0x7fffffff, 0x7ffffffe, -2, -1, 0x7fff, 0xffff, 0x10000, 0x40000000, 0x80000000];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const rounds = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < rounds; k++) {
    // Leave the 8-byte header alone most of the time so mutations reach the bodies.
    const from = rnd() < 0.9 ? Math.min(8, b.length) : 0;
    const at = from + Math.floor(rnd() * Math.max(1, b.length - from));
    switch (Math.floor(rnd() * 8)) {
      case 0: // bit flips
        for (let i = 0; i < 1 + rnd() * 4; i++) {
          const p = from + Math.floor(rnd() * Math.max(1, b.length - from));
          if (p < b.length) b[p] = (b[p] as number) ^ (1 << Math.floor(rnd() * 8));
        }
        break;
      case 1: // byte store of an edge value
        if (at < b.length) b[at] = [0, 0xff, 0x7f, 0x80, 1][Math.floor(rnd() * 5)] as number;
        break;
      case 2: // truncation
        b = b.subarray(0, Math.floor(rnd() * b.length));
        break;
      case 3: {
        // int32 length lie
        const lie = LIES[Math.floor(rnd() * LIES.length)] as number;
        if (at + 4 <= b.length) b.writeUInt32BE(lie >>> 0, at);
        break;
      }
      case 4: {
        // int16 length lie
        if (at + 2 <= b.length)
          b.writeUInt16BE((LIES[Math.floor(rnd() * LIES.length)] as number) & 0xffff, at);
        break;
      }
      case 5: {
        // uvarint lie: a huge or over-long varint
        const v = rnd() < 0.5 ? [0xff, 0xff, 0xff, 0xff, 0x0f] : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        for (let i = 0; i < v.length && at + i < b.length; i++) b[at + i] = v[i] as number;
        break;
      }
      case 6: {
        // splice: repeat or drop a slice
        const len = Math.floor(rnd() * 16);
        const slice = b.subarray(at, at + len);
        b =
          rnd() < 0.5
            ? Buffer.concat([b.subarray(0, at), slice, b.subarray(at)])
            : Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      default: {
        // appended garbage
        const g = Buffer.alloc(Math.floor(rnd() * 32));
        for (let i = 0; i < g.length; i++) g[i] = Math.floor(rnd() * 256);
        b = Buffer.concat([b, g]);
      }
    }
  }
  return b;
}

function randomFrame(rnd: () => number): Buffer {
  const api = SUPPORTED_APIS[Math.floor(rnd() * SUPPORTED_APIS.length)] as (typeof SUPPORTED_APIS)[number];
  const b = Buffer.alloc(8 + Math.floor(rnd() * 200));
  for (let i = 8; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
  b.writeInt16BE(api.key, 0);
  b.writeInt16BE(api.minVersion + Math.floor(rnd() * (api.maxVersion - api.minVersion + 1)), 2);
  b.writeInt32BE(7, 4);
  return b;
}

export interface FuzzStats {
  iterations: number;
  decoded: number;
  protocolErrors: number;
  unsupported: number;
  maxHeapGrowthMb: number;
}

export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly frame: Buffer,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

export function runFuzz(iterations: number, seed: number, corpus: Buffer[]): FuzzStats {
  const rnd = prng(seed);
  const stats: FuzzStats = { iterations, decoded: 0, protocolErrors: 0, unsupported: 0, maxHeapGrowthMb: 0 };
  const base = process.memoryUsage();
  const baseBytes = base.heapUsed + base.arrayBuffers;
  for (let i = 0; i < iterations; i++) {
    const frame =
      rnd() < 0.1 ? randomFrame(rnd) : mutate(corpus[Math.floor(rnd() * corpus.length)] as Buffer, rnd);
    try {
      decodeRequest(frame);
      stats.decoded++;
    } catch (err) {
      if (isSluiceError(err, 'PROTOCOL')) stats.protocolErrors++;
      else if (isSluiceError(err, 'UNSUPPORTED')) stats.unsupported++;
      else
        throw new FuzzFailure(
          `decodeRequest threw ${String(err)} on frame ${frame.toString('hex')}`,
          frame,
          err,
        );
    }
    if ((i & 0x3fff) === 0) {
      const m = process.memoryUsage();
      const growth = (m.heapUsed + m.arrayBuffers - baseBytes) / 1048576;
      if (growth > stats.maxHeapGrowthMb) stats.maxHeapGrowthMb = growth;
    }
  }
  return stats;
}

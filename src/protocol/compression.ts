/**
 * Record batch compression codecs behind one interface: none, gzip, snappy, lz4, zstd
 * (attributes bits 0-2 of a v2 batch: 0..4).
 *
 * Formats, as Kafka's clients write them inside a v2 batch (the compressed region is the
 * concatenated records; the 61-byte batch header stays uncompressed):
 *   gzip   RFC 1952 stream (node:zlib).
 *   snappy xerial framing, as the Java client's SnappyOutputStream writes it: 8-byte magic
 *          82 'SNAPPY' 00, int32 version 1, int32 min-compatible 1, then blocks of
 *          (int32 BE compressed length, raw snappy block). librdkafka writes a bare raw
 *          snappy block; the decoder accepts both (as the Java reader does).
 *   lz4    LZ4 frame format (magic 04 22 4D 18), as KafkaLZ4BlockOutputStream writes for magic >= 1.
 *   zstd   a zstd frame (content size may be absent: decoded with a streaming fallback).
 * All codecs are synchronous and stateless from the caller's view; errors in compressed data
 * surface as SluiceError CORRUPT_RECORD.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { SluiceError } from '../common/index.js';

export const CompressionType = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export interface CompressionCodec {
  readonly type: CompressionType;
  readonly name: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_LEN = 16;
const XERIAL_BLOCK = 32 * 1024;

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_LEN && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

/** Xerial-framed snappy, as the Java client writes record batches. */
function snappyXerialCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_LEN);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  for (let i = 0; i < data.length; i += XERIAL_BLOCK) {
    const block = snappyCompress(data.subarray(i, Math.min(data.length, i + XERIAL_BLOCK)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

function snappyDecompress(data: Buffer): Buffer {
  if (!isXerial(data)) return snappyUncompress(data, { asBuffer: true }) as Buffer;
  const parts: Buffer[] = [];
  let pos = XERIAL_HEADER_LEN;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error('truncated xerial block length');
    const n = data.readInt32BE(pos);
    pos += 4;
    if (n < 0 || pos + n > data.length) throw new Error(`xerial block of ${n} bytes overruns input`);
    parts.push(snappyUncompress(data.subarray(pos, pos + n), { asBuffer: true }) as Buffer);
    pos += n;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

function guard(name: string, fn: (d: Buffer) => Buffer): (d: Buffer) => Buffer {
  return (d) => {
    try {
      return fn(d);
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      throw new SluiceError('CORRUPT_RECORD', `${name} decompression failed: ${(err as Error).message}`, {
        cause: err,
        kafkaErrorCode: 2,
      });
    }
  };
}

const CODECS: readonly CompressionCodec[] = [
  { type: 0, name: 'none', compress: (d) => d, decompress: (d) => d },
  {
    type: 1,
    name: 'gzip',
    compress: (d) => gzipSync(d, { level: 6 }),
    decompress: guard('gzip', (d) => gunzipSync(d)),
  },
  { type: 2, name: 'snappy', compress: snappyXerialCompress, decompress: guard('snappy', snappyDecompress) },
  {
    type: 3,
    name: 'lz4',
    compress: (d) => compressFrameSync(d),
    decompress: guard('lz4', (d) => decompressFrameSync(d)),
  },
  {
    type: 4,
    name: 'zstd',
    compress: (d) => zstdCompress(d, {}),
    decompress: guard('zstd', (d) => zstdDecompress(d)),
  },
];

/** The codec for a batch's compression attribute (bits 0-2). */
export function compressionCodec(type: number): CompressionCodec {
  const c = CODECS[type];
  if (c === undefined)
    throw new SluiceError('CORRUPT_RECORD', `unknown compression type ${type}`, { kafkaErrorCode: 2 });
  return c;
}

/** Shared test helpers for the log: temp directories and batch builders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LogConfig, PartitionLog } from '../../src/log/index.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  validateBatches,
} from '../../src/protocol/index.js';

export function tempDir(prefix = 'sluice-log-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openLog(
  dir: string,
  config: Partial<LogConfig> = {},
  now?: () => number,
): Promise<PartitionLog> {
  return PartitionLog.open(dir, { topic: 't', partition: 0, config: { 'flush.ms': -1, ...config }, now });
}

export function batch(
  records: (Partial<RecordInput> & { value?: Uint8Array | null })[],
  opts: {
    compression?: number;
    producerId?: number;
    producerEpoch?: number;
    baseSequence?: number;
    isTransactional?: boolean;
  } = {},
): Buffer {
  return encodeRecordBatch({
    ...opts,
    records: records.map((r) => ({
      key: r.key ?? null,
      value: r.value === undefined ? null : r.value,
      timestamp: r.timestamp,
      headers: r.headers,
    })),
  });
}

export function kv(key: string, value: string | null, timestamp?: number): RecordInput {
  return { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp };
}

/** Every record readable from `from` to the end, by walking reads. */
export function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 64 * 1024) {
  const out: { offset: number; key: string | null; value: string | null; timestamp: number }[] = [];
  let next = from;
  while (next < log.logEndOffset) {
    const { records } = log.read(next, { maxBytes });
    if (records.length === 0) break;
    let pos = 0;
    for (const h of validateBatches(records)) {
      for (const r of decodeRecordBatch(records, pos).records)
        if (r.offset >= next)
          out.push({
            offset: r.offset,
            key: r.key === null ? null : r.key.toString(),
            value: r.value === null ? null : r.value.toString(),
            timestamp: r.timestamp,
          });
      pos += h.size;
      next = Math.max(next, h.lastOffset + 1);
    }
  }
  return out;
}

/**
 * Log compaction (cleanup.policy=compact): keep, per key, only the record with the highest
 * offset; drop tombstones (null values) once their delete horizon has passed; keep offsets.
 *
 * Range: the prefix of inactive segments that lie wholly below the last stable offset (no open
 * transaction is touched) and, with min.compaction.lag.ms, whose newest timestamp is old
 * enough. Runs when dirty bytes (past `cleaner-offset-checkpoint`) / cleanable bytes reaches
 * min.cleanable.dirty.ratio.
 *
 * Pass 1 reads the range and maps key -> latest offset, skipping aborted transactional data
 * (from the producer state's aborted-transaction list) and control batches. Pass 2 rewrites
 * groups of consecutive segments (up to segment.bytes together) into one `<base>.log.cleaned`:
 *   - a batch whose records all survive is copied byte for byte;
 *   - otherwise the survivors are re-encoded into a batch with the same baseOffset,
 *     lastOffsetDelta, producer fields, compression and per-record offset/timestamp deltas;
 *   - a batch that keeps tombstones gets a delete horizon (KIP-534: attribute bit 6,
 *     baseTimestamp = now + delete.retention.ms); a later run past the horizon drops them;
 *   - aborted transactional batches are dropped; a producer's last batch, if emptied, is kept
 *     as an empty batch so its sequence state survives a rebuild from the log;
 *   - transaction markers (control batches) are kept while any batch of their transaction
 *     remains (data, or the empty batch kept for a producer's sequence state) and while the
 *     marker is its producer's last batch. Otherwise (all data compacted away, or aborted data
 *     dropped) the marker is rewritten with a delete horizon (now + delete.retention.ms, so a
 *     reader already past the data still sees the marker) and dropped by a run past it, as
 *     Kafka does (KIP-534). See `shouldRetainMarker`.
 * The cleaned file is fsynced, renamed `.swap` (commit point), then swapped in by
 * PartitionLog.swapIn in one synchronous step. See swap.ts for crash completion.
 *
 * Concurrency: async; yields to the event loop every few milliseconds so appends and reads
 * proceed; only inactive segments are read or replaced. If the segment list changes under it
 * (retention, truncation, close), it deletes its temp file and gives up; the next run retries.
 */
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  type DecodedRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordBatchHeader,
  scanRecordKeys,
} from '../protocol/index.js';
import {
  fsyncDir,
  offsetFileStem,
  readFileOrNull,
  unlinkIfExists,
  writeFileAtomic,
  writeFully,
} from './fs-util.js';
import type { PartitionLog } from './partition-log.js';
import type { LogSegment } from './segment.js';
import type { AbortedTransaction } from './types.js';

const CHECKPOINT = 'cleaner-offset-checkpoint';
const SLICE_MS = 8;
const WRITE_BUFFER = 1024 * 1024;

/**
 * Whether a transaction marker batch stays in the cleaned log. `txnDataRemains`: some batch of
 * its transaction (same producer, before it, after the previous marker) is kept by this run;
 * `lastOfProducer`: it is the producer's last batch (kept so producer state survives a rebuild).
 * A marker without either stays only until its delete horizon, which the caller sets on the
 * first run that finds it so (`h.hasDeleteHorizon` false).
 */
export function shouldRetainMarker(
  h: RecordBatchHeader,
  now: number,
  txnDataRemains: boolean,
  lastOfProducer: boolean,
): boolean {
  if (txnDataRemains || lastOfProducer) return true;
  return !h.hasDeleteHorizon || now < h.baseTimestamp;
}

/** The marker batch with a delete horizon set (records and offsets unchanged). */
function markerWithHorizon(h: RecordBatchHeader, bytes: Buffer, horizon: number): Buffer {
  const { records } = decodeRecordBatch(bytes, 0, false);
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: 0,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    isControl: true,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp: h.maxTimestamp,
    deleteHorizonMs: horizon,
    records: records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offsetDelta,
    })),
  });
}

class AbortedIndex {
  private byProducer = new Map<number, AbortedTransaction[]>();
  constructor(list: readonly AbortedTransaction[]) {
    for (const a of list) {
      const l = this.byProducer.get(a.producerId);
      if (l === undefined) this.byProducer.set(a.producerId, [a]);
      else l.push(a);
    }
  }
  isAborted(h: RecordBatchHeader): boolean {
    if (!h.isTransactional || h.isControl) return false;
    const l = this.byProducer.get(h.producerId);
    if (l === undefined) return false;
    for (const a of l) if (a.firstOffset <= h.baseOffset && h.baseOffset <= a.lastOffset) return true;
    return false;
  }
}

function keyString(r: DecodedRecord): string | null {
  return r.key === null ? null : r.key.toString('latin1');
}

/** Cleans `log` once if worthwhile; resolves with the bytes of log cleaned (0 when skipped). */
export async function cleanLog(log: PartitionLog, now: number): Promise<number> {
  const c = log.config;
  const segs = log.segments;
  const lso = log.lastStableOffset;
  const lag = c['min.compaction.lag.ms'];
  let end = 0;
  while (end < segs.length - 1) {
    const s = segs[end] as LogSegment;
    if (s.nextOffset > lso || (lag > 0 && s.maxTimestamp > now - lag)) break;
    end++;
  }
  if (end === 0) return 0;
  const range = segs.slice(0, end);
  const firstDirty = readCheckpoint(log.dir);
  let total = 0;
  let dirty = 0;
  for (const s of range) {
    total += s.size;
    if (s.nextOffset > firstDirty) dirty += s.size;
  }
  const tombstonesDue = log.tombstoneHorizon !== undefined && now >= log.tombstoneHorizon;
  if (total === 0 || ((dirty === 0 || dirty / total < c['min.cleanable.dirty.ratio']) && !tombstonesDue))
    return 0;

  let gen = log.generation;
  const stale = () => log.isClosed || log.generation !== gen;
  const aborted = new AbortedIndex(log.producerState.allAborted());
  const latest = new Map<string, number>();
  const lastBatchOf = new Map<number, number>();
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<boolean> => {
    if (performance.now() - sliceStart < SLICE_MS) return true;
    await yieldToLoop();
    sliceStart = performance.now();
    return !stale();
  };

  // Pass 1: key -> latest offset.
  for (const seg of range) {
    let pos = 0;
    while (pos < seg.size) {
      const before = pos;
      pos = seg.forEachBatch(pos, true, (h, _p, bytes) => {
        if (h.producerId >= 0) lastBatchOf.set(h.producerId, h.baseOffset);
        if (h.isControl || aborted.isAborted(h)) return true;
        const base = h.baseOffset;
        scanRecordKeys(bytes as Buffer, 0, h, (key, delta) => {
          if (key !== null) latest.set(key.toString('latin1'), base + delta);
        });
        return performance.now() - sliceStart < SLICE_MS;
      });
      if (!(await maybeYield())) return 0;
      if (pos === before || seg.readHeaderAt(pos) === null) break;
    }
  }

  // Pass 2: rewrite groups. `txnKept`: producers whose current transaction has a kept batch.
  const txnKept = new Map<number, boolean>();
  const horizon = now + c['delete.retention.ms'];
  const horizons = { min: Number.POSITIVE_INFINITY };
  let cleanedBytes = 0;
  let i = 0;
  while (i < range.length) {
    let groupBytes = 0;
    let j = i;
    while (
      j < range.length &&
      (j === i || groupBytes + (range[j] as LogSegment).size <= c['segment.bytes'])
    ) {
      groupBytes += (range[j] as LogSegment).size;
      j++;
    }
    const group = range.slice(i, j);
    const base = (group[0] as LogSegment).baseOffset;
    const stem = join(log.dir, offsetFileStem(base));
    const cleanedPath = `${stem}.log.cleaned`;
    const fd = openSync(cleanedPath, 'w');
    let outPos = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flushOut = () => {
      if (pendingBytes === 0) return;
      writeFully(
        fd,
        pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes),
        outPos,
      );
      outPos += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const emit = (b: Buffer) => {
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes >= WRITE_BUFFER) flushOut();
    };
    let ok = true;
    try {
      for (const seg of group) {
        let pos = 0;
        while (pos < seg.size) {
          const before = pos;
          pos = seg.forEachBatch(pos, true, (h, _p, bytes) => {
            let out: Buffer | null;
            if (h.isControl) {
              const remains = txnKept.get(h.producerId) === true;
              txnKept.delete(h.producerId);
              const last = lastBatchOf.get(h.producerId) === h.baseOffset;
              if (!shouldRetainMarker(h, now, remains, last)) out = null;
              else if (remains || last) out = bytes as Buffer;
              else {
                out = h.hasDeleteHorizon ? (bytes as Buffer) : markerWithHorizon(h, bytes as Buffer, horizon);
                horizons.min = Math.min(horizons.min, h.hasDeleteHorizon ? h.baseTimestamp : horizon);
              }
            } else {
              out = cleanBatch(h, bytes as Buffer, latest, aborted, lastBatchOf, now, horizon, horizons);
              if (out !== null && h.isTransactional) txnKept.set(h.producerId, true);
            }
            if (out !== null) emit(out === bytes ? Buffer.from(out) : out);
            return performance.now() - sliceStart < SLICE_MS;
          });
          if (!(await maybeYield())) {
            ok = false;
            break;
          }
          if (pos === before || seg.readHeaderAt(pos) === null) break;
        }
        if (!ok) break;
      }
      if (ok) {
        flushOut();
        fsyncSync(fd);
      }
    } finally {
      closeSync(fd);
    }
    if (!ok || stale()) {
      unlinkIfExists(cleanedPath);
      return cleanedBytes;
    }
    const swapPath = `${stem}.log.swap`;
    renameSync(cleanedPath, swapPath);
    fsyncDir(log.dir);
    log.swapIn(i, group.length, swapPath);
    gen = log.generation;
    cleanedBytes += groupBytes;
    // The swapped range now has one segment where the group had several.
    range.splice(i, group.length, log.segments[i] as LogSegment);
    i++;
  }
  log.tombstoneHorizon = horizons.min === Number.POSITIVE_INFINITY ? undefined : horizons.min;
  writeFileAtomic(join(log.dir, CHECKPOINT), String((range[range.length - 1] as LogSegment).nextOffset));
  return cleanedBytes;
}

/** The batch to write in place of `h` (the same bytes, a rewritten batch, or null to drop it). */
function cleanBatch(
  h: RecordBatchHeader,
  bytes: Buffer,
  latest: Map<string, number>,
  aborted: AbortedIndex,
  lastBatchOf: Map<number, number>,
  now: number,
  horizon: number,
  horizons: { min: number },
): Buffer | null {
  const keepEmpty = h.producerId >= 0 && lastBatchOf.get(h.producerId) === h.baseOffset;
  if (aborted.isAborted(h)) return keepEmpty ? emptyBatch(h) : null;
  // Fast path without building records: every record is the latest for its key and no
  // tombstone needs a horizon or has passed it -> the stored bytes stay as they are.
  let untouched = true;
  let keptTombstone = false;
  const horizonDue = h.hasDeleteHorizon && now >= h.baseTimestamp;
  scanRecordKeys(bytes, 0, h, (key, delta, valueIsNull) => {
    if (!untouched) return;
    if (key !== null) {
      const l = latest.get(key.toString('latin1'));
      if (l !== undefined && l > h.baseOffset + delta) untouched = false;
    }
    if (valueIsNull) {
      if (horizonDue || !h.hasDeleteHorizon) untouched = false;
      else keptTombstone = true;
    }
  });
  if (untouched) {
    if (keptTombstone) horizons.min = Math.min(horizons.min, h.baseTimestamp);
    return bytes;
  }
  const { records } = decodeRecordBatch(bytes, 0, false);
  const horizonPassed = h.hasDeleteHorizon && now >= h.baseTimestamp;
  const kept: DecodedRecord[] = [];
  let tombstones = 0;
  for (const r of records) {
    const k = keyString(r);
    if (k !== null) {
      const l = latest.get(k);
      if (l !== undefined && l > r.offset) continue;
    }
    if (r.value === null) {
      if (horizonPassed) continue;
      tombstones++;
    }
    kept.push(r);
  }
  if (tombstones > 0) horizons.min = Math.min(horizons.min, h.hasDeleteHorizon ? h.baseTimestamp : horizon);
  if (kept.length === records.length && (tombstones === 0 || h.hasDeleteHorizon)) return bytes;
  if (kept.length === 0) return keepEmpty ? emptyBatch(h) : null;
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp: h.maxTimestamp,
    ...(tombstones > 0
      ? { deleteHorizonMs: h.hasDeleteHorizon ? h.baseTimestamp : horizon }
      : { baseTimestamp: h.hasDeleteHorizon ? Math.min(...kept.map((r) => r.timestamp)) : h.baseTimestamp }),
    records: kept.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offsetDelta,
    })),
  });
}

function emptyBatch(h: RecordBatchHeader): Buffer {
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: 0,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    records: [],
  });
}

function readCheckpoint(dir: string): number {
  const b = readFileOrNull(join(dir, CHECKPOINT));
  const v = b === null ? 0 : Number(b.toString('utf8').trim());
  return Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/**
 * Producer state for idempotent and transactional producers, per partition (Kafka's
 * ProducerStateManager).
 *
 * Per producer id: the current epoch, the last 5 appended batches (first/last sequence and
 * offsets, so a retried batch is recognised and answered with its original offsets), the
 * coordinator epoch and the first offset of its open transaction. Per partition: the list of
 * aborted transactions (producer id, first offset, ABORT marker offset) for read_committed
 * fetches, and the set of open transactions, whose earliest first offset is the last stable
 * offset.
 *
 * Rules (client appends): epoch < current -> INVALID_PRODUCER_EPOCH; new epoch -> sequence
 * must start at 0; same epoch -> a batch equal to one of the last 5 is a duplicate, otherwise
 * its first sequence must follow the last one (int32 wrap to 0) or OUT_OF_ORDER_SEQUENCE.
 * An unknown producer id is accepted at any sequence (its state may have expired).
 *
 * Snapshot file `<20-digit offset>.snapshot`: uint32 CRC-32C of the rest, then UTF-8 JSON of
 * the state as of that log offset (everything below it applied). Written with temp + fsync +
 * rename; a snapshot failing its CRC is ignored and state is rebuilt from the log instead.
 * Concurrency: one owner. Validation (`prepare`) never mutates; `commit` applies.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../common/index.js';
import { ControlRecordType, crc32c, type RecordBatchHeader } from '../protocol/index.js';
import { offsetFileStem, readFileOrNull, unlinkIfExists, writeFileAtomic } from './fs-util.js';
import type { AbortedTransaction } from './types.js';

const MAX_BATCHES = 5;
const INT32_MAX = 0x7fff_ffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  batches: BatchMetadata[];
  coordinatorEpoch: number;
  /** First offset of the open transaction, -1 if none. */
  txnFirstOffset: number;
  lastTimestamp: number;
}

/** What `prepare` decided for a batch. */
export type ProducerCheck = { kind: 'append' } | { kind: 'duplicate'; batch: BatchMetadata };

function kafkaError(
  code: 'OUT_OF_ORDER_SEQUENCE' | 'INVALID_PRODUCER_EPOCH' | 'INVALID_TXN_STATE',
  msg: string,
) {
  const kafka = { OUT_OF_ORDER_SEQUENCE: 45, INVALID_PRODUCER_EPOCH: 47, INVALID_TXN_STATE: 48 }[code];
  return new SluiceError(code, msg, { kafkaErrorCode: kafka });
}

function cloneEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.slice() };
}

export class ProducerStateManager {
  private producers = new Map<number, ProducerEntry>();
  /** Aborted transactions ordered by marker offset. */
  private aborted: AbortedTransaction[] = [];
  /** Offset up to which the log has been applied. */
  mapEndOffset = 0;

  constructor(private readonly dir: string) {}

  /** Every known producer (copies), for DescribeProducers. */
  entries(): ProducerEntry[] {
    return [...this.producers.values()].map(cloneEntry);
  }

  get(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /** Earliest first offset of an open transaction, or undefined. */
  firstUnstableOffset(): number | undefined {
    let min: number | undefined;
    for (const e of this.producers.values())
      if (e.txnFirstOffset >= 0 && (min === undefined || e.txnFirstOffset < min)) min = e.txnFirstOffset;
    return min;
  }

  abortedTransactions(from: number, to: number): AbortedTransaction[] {
    return this.aborted.filter((a) => a.lastOffset >= from && a.firstOffset < to).map((a) => ({ ...a }));
  }

  allAborted(): readonly AbortedTransaction[] {
    return this.aborted;
  }

  /**
   * Checks a client batch against `pending` (entries already updated by earlier batches of the
   * same append) or the committed state. Throws on epoch/sequence/transaction violations.
   */
  check(h: RecordBatchHeader, pending: Map<number, ProducerEntry>): ProducerCheck {
    if (h.producerId < 0) return { kind: 'append' };
    const entry = pending.get(h.producerId) ?? this.producers.get(h.producerId);
    if (entry === undefined) return { kind: 'append' };
    if (h.producerEpoch < entry.epoch)
      throw kafkaError(
        'INVALID_PRODUCER_EPOCH',
        `producer ${h.producerId} epoch ${h.producerEpoch} is older than the current epoch ${entry.epoch}`,
      );
    if (h.isControl) return { kind: 'append' };
    if (!h.isTransactional && entry.txnFirstOffset >= 0 && h.producerEpoch === entry.epoch)
      throw kafkaError(
        'INVALID_TXN_STATE',
        `producer ${h.producerId} wrote a non-transactional batch inside its open transaction`,
      );
    if (h.baseSequence < 0) return { kind: 'append' };
    const lastSeq = h.baseSequence + h.lastOffsetDelta;
    if (h.producerEpoch !== entry.epoch) {
      if (h.baseSequence !== 0)
        throw kafkaError(
          'OUT_OF_ORDER_SEQUENCE',
          `producer ${h.producerId} new epoch ${h.producerEpoch} must start at sequence 0, got ${h.baseSequence}`,
        );
      return { kind: 'append' };
    }
    for (const b of entry.batches)
      if (b.firstSeq === h.baseSequence && b.lastSeq === lastSeq)
        return { kind: 'duplicate', batch: { ...b } };
    const last = entry.batches[entry.batches.length - 1];
    if (last === undefined) return { kind: 'append' };
    const expected = last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1;
    if (h.baseSequence !== expected)
      throw kafkaError(
        'OUT_OF_ORDER_SEQUENCE',
        `producer ${h.producerId} epoch ${h.producerEpoch}: expected sequence ${expected}, got ${h.baseSequence}`,
      );
    return { kind: 'append' };
  }

  /**
   * Applies an appended batch (with its assigned offsets) to `pending` (copy-on-write of the
   * committed entries). For control batches pass the marker type.
   */
  stage(
    h: RecordBatchHeader,
    firstOffset: number,
    lastOffset: number,
    timestamp: number,
    pending: Map<number, ProducerEntry>,
    control?: { type: number; coordinatorEpoch: number },
    abortedOut?: AbortedTransaction[],
  ): void {
    if (h.producerId < 0) return;
    const existing = pending.get(h.producerId) ?? this.producers.get(h.producerId);
    const e: ProducerEntry =
      existing === undefined
        ? {
            producerId: h.producerId,
            epoch: h.producerEpoch,
            batches: [],
            coordinatorEpoch: -1,
            txnFirstOffset: -1,
            lastTimestamp: timestamp,
          }
        : cloneEntry(existing);
    pending.set(h.producerId, e);
    if (h.producerEpoch !== e.epoch) {
      e.epoch = h.producerEpoch;
      e.batches = [];
    }
    e.lastTimestamp = timestamp;
    if (control !== undefined) {
      if (control.type === ControlRecordType.Abort && e.txnFirstOffset >= 0)
        abortedOut?.push({ producerId: h.producerId, firstOffset: e.txnFirstOffset, lastOffset });
      e.txnFirstOffset = -1;
      e.coordinatorEpoch = control.coordinatorEpoch;
      return;
    }
    if (h.isTransactional && e.txnFirstOffset < 0) e.txnFirstOffset = firstOffset;
    if (h.baseSequence >= 0) {
      e.batches.push({
        firstSeq: h.baseSequence,
        lastSeq: h.baseSequence + h.lastOffsetDelta,
        firstOffset,
        lastOffset,
        timestamp,
      });
      if (e.batches.length > MAX_BATCHES) e.batches.shift();
    }
  }

  commit(pending: Map<number, ProducerEntry>, aborted: AbortedTransaction[], endOffset: number): void {
    for (const [id, e] of pending) this.producers.set(id, e);
    for (const a of aborted) this.aborted.push(a);
    this.mapEndOffset = endOffset;
  }

  /** Forgets aborted-transaction entries wholly below the log start. */
  trimAborted(logStartOffset: number): void {
    if (this.aborted.length > 0 && (this.aborted[0] as AbortedTransaction).lastOffset < logStartOffset)
      this.aborted = this.aborted.filter((a) => a.lastOffset >= logStartOffset);
  }

  reset(offset: number): void {
    this.producers.clear();
    this.aborted = [];
    this.mapEndOffset = offset;
  }

  // --- snapshots ---

  snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const f of readdirSync(this.dir)) {
      const m = /^(\d{20})\.snapshot$/.exec(f);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Writes a snapshot at mapEndOffset and keeps only the two newest. */
  takeSnapshot(): void {
    const json = Buffer.from(
      JSON.stringify({
        version: 1,
        offset: this.mapEndOffset,
        producers: [...this.producers.values()],
        aborted: this.aborted,
      }),
    );
    const out = Buffer.allocUnsafe(4 + json.length);
    json.copy(out, 4);
    out.writeUInt32BE(crc32c(out, 4), 0);
    writeFileAtomic(join(this.dir, `${offsetFileStem(this.mapEndOffset)}.snapshot`), out);
    const all = this.snapshotOffsets();
    for (const o of all.slice(0, Math.max(0, all.length - 2)))
      unlinkIfExists(join(this.dir, `${offsetFileStem(o)}.snapshot`));
  }

  /** Deletes snapshots above `offset` (after a truncation). */
  deleteSnapshotsAbove(offset: number): void {
    for (const o of this.snapshotOffsets())
      if (o > offset) unlinkIfExists(join(this.dir, `${offsetFileStem(o)}.snapshot`));
  }

  /**
   * Loads the newest valid snapshot at or below `maxOffset` and at or above `minOffset`.
   * Returns its offset, or -1 when none was usable (state is then empty at `minOffset`).
   */
  loadSnapshot(minOffset: number, maxOffset: number): number {
    const offsets = this.snapshotOffsets().filter((o) => o <= maxOffset && o >= minOffset);
    for (let i = offsets.length - 1; i >= 0; i--) {
      const o = offsets[i] as number;
      const b = readFileOrNull(join(this.dir, `${offsetFileStem(o)}.snapshot`));
      if (b === null || b.length < 4 || b.readUInt32BE(0) !== crc32c(b, 4)) continue;
      try {
        const s = JSON.parse(b.subarray(4).toString('utf8')) as {
          offset: number;
          producers: ProducerEntry[];
          aborted: AbortedTransaction[];
        };
        this.producers = new Map(s.producers.map((p) => [p.producerId, p]));
        this.aborted = s.aborted;
        this.mapEndOffset = s.offset;
        return o;
      } catch {}
    }
    this.reset(minOffset);
    return -1;
  }
}

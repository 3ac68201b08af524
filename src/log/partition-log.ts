/**
 * PartitionLog: one topic-partition's log in its own directory, as Kafka lays it out.
 *
 * Directory contents:
 *   <20-digit base offset>.log / .index / .timeindex   segments (segment.ts, indexes.ts)
 *   <20-digit offset>.snapshot                          producer state (producer-state.ts)
 *   recovery-point      offset below which every segment is known fsynced (text)
 *   log-start-offset    persisted log start when above the first segment's base (text)
 *   cleaner-offset-checkpoint   first dirty offset for compaction (text)
 *   clean-shutdown      JSON {activeBase, activeSize, logEndOffset}, written last by close()
 *   *.cleaned, *.swap   compaction in progress (cleaner.ts); *.tmp   atomic-write leftovers
 * Every metadata file is written with temp + fsync + rename + directory fsync.
 *
 * Invariants: segments are sorted by base offset and do not overlap; only the last (active)
 * segment receives appends; logStartOffset <= logEndOffset; offsets are assigned densely in
 * append order; stored batches are byte-identical to what was appended except baseOffset,
 * partitionLeaderEpoch and (LogAppendTime topics) the timestamp fields, patched in place.
 *
 * Concurrency: one event loop. `append` validates, assigns offsets and writes synchronously,
 * so appends are totally ordered by call order; its promise settles when the write is durable
 * under `flush.ms` (0: fsync, with concurrent appends sharing one fsync — group commit; N: the
 * next periodic fsync, started by a timer or by the first append N ms after the last one, so a
 * busy event loop cannot postpone it; -1: immediately). The fsync runs off the event loop. Reads are synchronous and see every completed append
 * (readers can see data before it is durable, as in Kafka, bounded by `maxOffset` if asked).
 * Compaction runs asynchronously on inactive segments and swaps them in one synchronous step,
 * abandoning its work if retention or truncation changed the segment list meanwhile.
 *
 * Crash behaviour: open() completes interrupted compaction swaps, drops temp files, and unless
 * the clean-shutdown marker matches the active segment, re-validates every segment from the
 * recovery point (CRC, magic, length, offset order), truncating at the first bad batch and
 * deleting any later segments; indexes are rebuilt where missing or inconsistent; producer
 * state is loaded from the newest valid snapshot and replayed from the log after it. An fsync
 * failure puts the log in a failed state: later appends are refused with IO errors.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../common/index.js';
import {
  decodeRecordBatch,
  encodeTxnMarkerBatch,
  type RecordBatchHeader,
  readControlBatch,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatches,
} from '../protocol/index.js';
import { cleanLog } from './cleaner.js';
import { isCompacted, isDeleteRetention, resolveConfig } from './config.js';
import {
  fsyncDir,
  ioError,
  offsetFileStem,
  readFileOrNull,
  removeTree,
  unlinkIfExists,
  writeFileAtomic,
} from './fs-util.js';
import { type ProducerEntry, ProducerStateManager } from './producer-state.js';
import { LogSegment } from './segment.js';
import { completeSwaps } from './swap.js';
import type {
  AbortedTransaction,
  ActiveProducer,
  AppendOrigin,
  AppendResult,
  LogConfig,
  PartitionLogApi,
  ReadOptions,
  ReadResult,
  TimestampLookup,
} from './types.js';

const CLEAN_SHUTDOWN = 'clean-shutdown';
const RECOVERY_POINT = 'recovery-point';
const LOG_START_OFFSET = 'log-start-offset';
const INT32_MAX = 0x7fff_ffff;
/** The records of an empty read: one shared zero-length buffer (nothing can be written into it). */
const NO_RECORDS = Buffer.alloc(0);

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  config?: Partial<LogConfig>;
  /** Clock for LogAppendTime, retention and roll decisions; tests pass their own. */
  now?: () => number;
}

export interface OpenReport {
  /** True when the clean-shutdown marker was found and matched. */
  cleanShutdown: boolean;
  /** Segments fully re-validated. */
  segmentsRecovered: number;
  /** Bytes of torn or corrupt data cut from segment tails. */
  bytesTruncated: number;
  /** Segments deleted because they followed a corrupt one. */
  segmentsDropped: number;
}

/** Appends (and flush calls) waiting for the next fsync. */
interface SyncRound {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  /** flush() asked for it: start as soon as the fsync in flight ends, not on the timer. */
  urgent: boolean;
}

function offsetOutOfRange(msg: string): SluiceError {
  return new SluiceError('OFFSET_OUT_OF_RANGE', msg, { kafkaErrorCode: 1 });
}

function invalidRecord(msg: string): SluiceError {
  return new SluiceError('INVALID_RECORD', msg, { kafkaErrorCode: 87 });
}

export class PartitionLog implements PartitionLogApi {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /** Leader epoch stamped into appended batches (partitionLeaderEpoch). */
  leaderEpoch = 0;
  /** What open() found; for logs and tests. */
  openReport: OpenReport = {
    cleanShutdown: false,
    segmentsRecovered: 0,
    bytesTruncated: 0,
    segmentsDropped: 0,
  };

  /** @internal segments in offset order; the last is active. */
  segments: LogSegment[] = [];
  /** @internal bumped whenever segments are removed or truncated (compaction aborts on change). */
  generation = 0;
  /** @internal */
  readonly producerState: ProducerStateManager;
  /** @internal clock */
  readonly now: () => number;

  private _config: LogConfig;
  private _logStartOffset = 0;
  private _logEndOffset = 0;
  private recoveryPoint = 0;
  private round: SyncRound | undefined;
  private syncInFlight = false;
  private syncScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastSyncTime = 0;
  private failure: SluiceError | undefined;
  private closed = false;
  private cleaning: Promise<number> | undefined;

  private constructor(dir: string, opts: PartitionLogOptions) {
    this.dir = dir;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this._config = resolveConfig(opts.config ?? {});
    this.now = opts.now ?? Date.now;
    this.producerState = new ProducerStateManager(dir);
  }

  /** Opens (creating if needed) the log in `dir`, recovering after an unclean stop. */
  static async open(dir: string, opts: PartitionLogOptions): Promise<PartitionLog> {
    const log = new PartitionLog(dir, opts);
    log.load();
    return log;
  }

  get config(): Readonly<LogConfig> {
    return this._config;
  }
  get logStartOffset(): number {
    return this._logStartOffset;
  }
  get logEndOffset(): number {
    return this._logEndOffset;
  }
  get highWatermark(): number {
    return this._logEndOffset;
  }
  get lastStableOffset(): number {
    return this.producerState.firstUnstableOffset() ?? this.highWatermark;
  }
  get size(): number {
    let s = 0;
    for (const seg of this.segments) s += seg.size;
    return s;
  }
  get numberOfSegments(): number {
    return this.segments.length;
  }
  /** @internal */
  get active(): LogSegment {
    return this.segments[this.segments.length - 1] as LogSegment;
  }

  // ---------------------------------------------------------------- open / recovery

  private load(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir))
      if (f.endsWith('.tmp') || f.endsWith('.cleaned') || f.endsWith('.deleted'))
        unlinkIfExists(join(this.dir, f));
    completeSwaps(this.dir);

    const names = readdirSync(this.dir);
    const bases = names
      .map((f) => /^(\d{20})\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const baseSet = new Set(bases.map(offsetFileStem));
    for (const f of names) {
      const m = /^(\d{20})\.(index|timeindex)$/.exec(f);
      if (m && !baseSet.has(m[1] as string)) unlinkIfExists(join(this.dir, f));
    }

    const marker = readFileOrNull(join(this.dir, CLEAN_SHUTDOWN));
    let clean = false;
    if (marker !== null) {
      try {
        const m = JSON.parse(marker.toString('utf8')) as { activeBase: number; activeSize: number };
        const last = bases[bases.length - 1];
        clean =
          last === m.activeBase &&
          readFileSizeOr(join(this.dir, `${offsetFileStem(last)}.log`)) === m.activeSize;
      } catch {}
      // Remove the marker durably before anything is appended, or a later crash would be trusted.
      unlinkIfExists(join(this.dir, CLEAN_SHUTDOWN));
      fsyncDir(this.dir);
    }
    this.recoveryPoint = readOffsetFile(join(this.dir, RECOVERY_POINT)) ?? 0;
    const interval = this._config['index.interval.bytes'];
    const report: OpenReport = {
      cleanShutdown: clean,
      segmentsRecovered: 0,
      bytesTruncated: 0,
      segmentsDropped: 0,
    };
    let corruptAt = -1;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number;
      const recover = !clean && (base >= this.recoveryPoint || i === bases.length - 1);
      const { segment, truncatedBytes } = LogSegment.open(this.dir, base, interval, recover);
      if (recover) report.segmentsRecovered++;
      report.bytesTruncated += truncatedBytes;
      const prev = this.segments[this.segments.length - 1];
      if (prev !== undefined && segment.baseOffset < prev.nextOffset) {
        // Overlap cannot come from our own writes; keep the earlier data and drop the rest.
        segment.close();
        corruptAt = i;
        break;
      }
      this.segments.push(segment);
      if (truncatedBytes > 0) {
        corruptAt = i + 1;
        break;
      }
    }
    if (corruptAt >= 0) {
      for (let i = corruptAt; i < bases.length; i++) {
        const stem = join(this.dir, offsetFileStem(bases[i] as number));
        unlinkIfExists(`${stem}.log`);
        unlinkIfExists(`${stem}.index`);
        unlinkIfExists(`${stem}.timeindex`);
        report.segmentsDropped++;
      }
      fsyncDir(this.dir);
    }
    const persistedStart = readOffsetFile(join(this.dir, LOG_START_OFFSET)) ?? 0;
    if (this.segments.length === 0) {
      this.segments.push(LogSegment.create(this.dir, persistedStart, interval));
      fsyncDir(this.dir);
    }
    this._logEndOffset = this.active.nextOffset;
    this._logStartOffset = Math.min(
      Math.max(persistedStart, (this.segments[0] as LogSegment).baseOffset),
      this._logEndOffset,
    );
    if (this.recoveryPoint > this._logEndOffset) this.recoveryPoint = this.active.baseOffset;
    this.openReport = report;
    this.rebuildProducerState(clean);
    this.lastSyncTime = this.now();
  }

  /** Loads the newest usable snapshot and replays batches after it. */
  private rebuildProducerState(clean: boolean): void {
    const ps = this.producerState;
    ps.deleteSnapshotsAbove(this._logEndOffset);
    const first = (this.segments[0] as LogSegment).baseOffset;
    const from = ps.loadSnapshot(0, this._logEndOffset);
    const start = from < 0 ? first : from;
    if (start < this._logEndOffset) this.replayProducerState(start);
    ps.mapEndOffset = this._logEndOffset;
    if (!clean || from !== this._logEndOffset) ps.takeSnapshot();
  }

  private replayProducerState(from: number): void {
    const ps = this.producerState;
    for (const seg of this.segments) {
      if (seg.nextOffset <= from) continue;
      const start = seg.baseOffset >= from ? 0 : (seg.findBatch(from)?.position ?? seg.size);
      seg.forEachBatch(start, false, (h, pos) => {
        if (h.producerId < 0 || h.baseOffset < from) return true;
        const pending = new Map<number, ProducerEntry>();
        const aborted: AbortedTransaction[] = [];
        const control = h.isControl ? readControlBatch(seg.read(pos, h.size), 0) : undefined;
        ps.stage(h, h.baseOffset, h.lastOffset, h.maxTimestamp, pending, control, aborted);
        ps.commit(pending, aborted, h.lastOffset + 1);
        return true;
      });
    }
  }

  // ---------------------------------------------------------------- append

  append(batches: Buffer, origin: AppendOrigin = 'client'): Promise<AppendResult> {
    // Not an async function: a suspended async frame (headers, producer maps, the buffer) would
    // stay alive until the fsync, for every append outstanding under flush.ms. Only the result
    // is kept; errors still arrive as rejections.
    try {
      return this.whenDurable(this.appendNow(batches, origin));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Validates, assigns offsets and writes; returns the result to acknowledge once durable. */
  private appendNow(batches: Buffer, origin: AppendOrigin): AppendResult {
    this.assertWritable();
    const headers = this.validate(batches, origin);
    const ps = this.producerState;
    // Producer bookkeeping only for batches that carry a producer id (idempotent or
    // transactional, and control batches); plain batches skip it and allocate nothing.
    let pending: Map<number, ProducerEntry> | undefined;
    let aborted: AbortedTransaction[] | undefined;
    const appendTime = this.now();
    const logAppendTime = this._config['message.timestamp.type'] === 'LogAppendTime';
    let next = this._logEndOffset;
    let pos = 0;
    for (const h of headers) {
      const base = next;
      const last = base + h.lastOffsetDelta;
      if (h.producerId >= 0) {
        pending ??= new Map();
        aborted ??= [];
        if (origin !== 'replication') {
          const check = ps.check(h, pending);
          if (check.kind === 'duplicate')
            return {
              baseOffset: check.batch.firstOffset,
              lastOffset: check.batch.lastOffset,
              logAppendTime: logAppendTime ? check.batch.timestamp : -1,
              logStartOffset: this._logStartOffset,
              duplicate: true,
            };
        }
        const control = h.isControl ? readControlBatch(batches, pos) : undefined;
        ps.stage(h, base, last, logAppendTime ? appendTime : h.maxTimestamp, pending, control, aborted);
      }
      next = last + 1;
      pos += h.size;
    }
    this.maybeRoll(batches.length, headers);
    // Offsets (and LogAppendTime) are patched only now, when nothing can fail but the write.
    next = this._logEndOffset;
    pos = 0;
    for (const h of headers) {
      setBaseOffset(batches, pos, next);
      if (origin !== 'replication') setPartitionLeaderEpoch(batches, pos, this.leaderEpoch);
      if (logAppendTime && !h.isControl) {
        setLogAppendTime(batches, pos, h.size, appendTime);
        h.maxTimestamp = appendTime;
        h.timestampType = 1;
      }
      h.baseOffset = next;
      h.lastOffset = next + h.lastOffsetDelta;
      next = h.lastOffset + 1;
      pos += h.size;
    }
    const baseOffset = this._logEndOffset;
    this.active.append(batches, headers);
    this._logEndOffset = next;
    if (pending !== undefined) ps.commit(pending, aborted ?? [], next);
    else ps.mapEndOffset = next;
    return {
      baseOffset,
      lastOffset: next - 1,
      logAppendTime: logAppendTime ? appendTime : -1,
      logStartOffset: this._logStartOffset,
      duplicate: false,
    };
  }

  /** Producers with state in this partition (DescribeProducers). */
  activeProducers(): ActiveProducer[] {
    return this.producerState.entries().map((e) => ({
      producerId: e.producerId,
      producerEpoch: e.epoch,
      lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
      lastTimestamp: e.lastTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.txnFirstOffset,
    }));
  }

  appendTxnMarker(
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<AppendResult> {
    const batch = encodeTxnMarkerBatch({
      producerId,
      producerEpoch,
      commit,
      coordinatorEpoch,
      timestamp: this.now(),
    });
    return this.append(batch, 'coordinator');
  }

  private validate(batches: Buffer, origin: AppendOrigin): RecordBatchHeader[] {
    if (batches.length === 0) throw invalidRecord('empty produce: no record batch');
    let headers: RecordBatchHeader[];
    try {
      headers = validateBatches(batches);
    } catch (err) {
      if (err instanceof SluiceError)
        throw new SluiceError(err.code, `${this.topic}-${this.partition}: ${err.message}`, {
          cause: err,
          kafkaErrorCode: err.kafkaErrorCode,
          details: err.details,
        });
      throw err;
    }
    const max = this._config['max.message.bytes'];
    const compacted = isCompacted(this._config);
    let pos = 0;
    for (const h of headers) {
      if (h.size > max)
        throw new SluiceError(
          'RECORD_TOO_LARGE',
          `record batch of ${h.size} bytes exceeds max.message.bytes ${max}`,
          {
            kafkaErrorCode: 10,
          },
        );
      if (origin === 'client') {
        if (h.isControl) throw invalidRecord('clients may not write control batches');
        if (h.recordCount === 0) throw invalidRecord('record batch without records');
        if (h.lastOffsetDelta !== h.recordCount - 1)
          throw invalidRecord(`lastOffsetDelta ${h.lastOffsetDelta} does not match ${h.recordCount} records`);
      }
      if (origin === 'coordinator' && !h.isControl)
        throw invalidRecord('coordinator appends must be control batches');
      if (compacted && !h.isControl) {
        for (const r of decodeRecordBatch(batches, pos, false).records)
          if (r.key === null) throw invalidRecord('compacted topic cannot accept a record without a key');
      }
      if (h.lastOffset - h.baseOffset > INT32_MAX) throw invalidRecord('record batch spans too many offsets');
      pos += h.size;
    }
    return headers;
  }

  private maybeRoll(bytes: number, headers: readonly RecordBatchHeader[]): void {
    const seg = this.active;
    if (seg.isEmpty) return;
    let span = 0;
    let maxTs = -1;
    for (const h of headers) {
      span += h.lastOffsetDelta + 1;
      if (h.maxTimestamp > maxTs) maxTs = h.maxTimestamp;
    }
    const c = this._config;
    const ts = maxTs >= 0 ? maxTs : this.now();
    if (
      seg.size + bytes > c['segment.bytes'] ||
      ts - seg.rollTimestamp >= c['segment.ms'] ||
      this._logEndOffset + span - 1 - seg.baseOffset > INT32_MAX
    )
      this.roll();
  }

  /** Closes the active segment (fsync, indexes, snapshot, recovery point) and starts a new one. */
  roll(): void {
    this.assertWritable();
    const old = this.active;
    if (old.isEmpty) return;
    try {
      old.fsyncSync();
      old.persistIndexes();
      this.segments.push(
        LogSegment.create(this.dir, this._logEndOffset, this._config['index.interval.bytes']),
      );
      fsyncDir(this.dir);
      this.producerState.takeSnapshot();
      this.writeRecoveryPoint(this._logEndOffset);
    } catch (err) {
      throw this.fail(err, 'segment roll');
    }
  }

  private writeRecoveryPoint(offset: number): void {
    this.recoveryPoint = offset;
    writeFileAtomic(join(this.dir, RECOVERY_POINT), String(offset));
  }

  // ---------------------------------------------------------------- durability

  /**
   * Resolves with `value` once everything appended so far is durable under `flush.ms`. All
   * appends waiting for the same fsync share one pending round (one promise, no per-append
   * waiter). With flush.ms = N the fsync starts on the timer, or at the first append after
   * N ms when the event loop is too busy for the timer to fire (a long burst of appends would
   * otherwise hold every acknowledgement, and the whole burst's dirty pages, until it ends).
   */
  private whenDurable<T>(value: T): Promise<T> {
    const policy = this._config['flush.ms'];
    if (policy < 0) return Promise.resolve(value);
    const round = this.pendingRound();
    if (policy === 0) this.scheduleSync();
    else if (!this.syncInFlight && this.now() - this.lastSyncTime >= policy) this.startSync();
    else this.ensureFlushTimer();
    return round.promise.then(() => value);
  }

  private pendingRound(): SyncRound {
    let round = this.round;
    if (round === undefined) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      round = { promise, resolve, reject, urgent: false };
      this.round = round;
    }
    return round;
  }

  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    // Every append of the current tick joins this fsync.
    queueMicrotask(() => {
      this.syncScheduled = false;
      this.startSync();
    });
  }

  private ensureFlushTimer(): void {
    if (this.flushTimer !== undefined) return;
    const delay = Math.max(0, this.lastSyncTime + this._config['flush.ms'] - this.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.startSync();
    }, delay);
  }

  private startSync(): void {
    const round = this.round;
    if (this.syncInFlight || round === undefined) return;
    this.round = undefined;
    if (this.failure !== undefined) {
      round.reject(this.failure);
      return;
    }
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.syncInFlight = true;
    this.active.fsync((err) => {
      this.syncInFlight = false;
      this.lastSyncTime = this.now();
      if (err) round.reject(this.fail(err, 'fsync'));
      else round.resolve();
      const waiting = this.round;
      if (waiting !== undefined) {
        if (this._config['flush.ms'] === 0 || waiting.urgent || this.failure !== undefined) this.startSync();
        else this.ensureFlushTimer();
      }
    });
  }

  /** fsyncs everything appended so far, whatever the policy. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const round = this.pendingRound();
    round.urgent = true;
    this.startSync();
    return round.promise;
  }

  private fail(err: unknown, what: string): SluiceError {
    this.failure ??= ioError(`${this.topic}-${this.partition} ${what}`, err);
    return this.failure;
  }

  private assertWritable(): void {
    if (this.closed) throw new SluiceError('CLOSED', `log ${this.topic}-${this.partition} is closed`);
    if (this.failure !== undefined) throw this.failure;
  }

  // ---------------------------------------------------------------- read

  read(offset: number, options: ReadOptions): ReadResult {
    if (this.closed) throw new SluiceError('CLOSED', `log ${this.topic}-${this.partition} is closed`);
    if (offset < this._logStartOffset || offset > this._logEndOffset)
      throw offsetOutOfRange(
        `offset ${offset} is outside ${this.topic}-${this.partition}'s range [${this._logStartOffset}, ${this._logEndOffset}]`,
      );
    const maxOffset = Math.min(options.maxOffset ?? this.highWatermark, this._logEndOffset);
    if (offset < maxOffset) {
      for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
        const seg = this.segments[i] as LogSegment;
        const found = seg.findBatch(offset);
        if (found === null) continue;
        if (found.header.baseOffset >= maxOffset) break;
        const records = seg.readBatches(
          found.position,
          found.header.size,
          Math.max(0, options.maxBytes),
          maxOffset,
        );
        return this.readResult(records, found.header.baseOffset);
      }
    }
    return this.readResult(NO_RECORDS, -1);
  }

  private readResult(records: Buffer, firstBatchBaseOffset: number): ReadResult {
    return {
      records,
      firstBatchBaseOffset,
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset,
      logStartOffset: this._logStartOffset,
    };
  }

  /** Index of the last segment with baseOffset <= offset (0 if none). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as LogSegment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[] {
    return this.producerState.abortedTransactions(fromOffset, toOffset);
  }

  offsetForTimestamp(ts: number): TimestampLookup | null {
    if (ts === -2) return { offset: this._logStartOffset, timestamp: -1 };
    if (ts === -1) return { offset: this._logEndOffset, timestamp: -1 };
    if (ts === -3) return this.offsetOfMaxTimestamp();
    for (const seg of this.segments) {
      if (seg.maxTimestamp < ts || seg.nextOffset <= this._logStartOffset) continue;
      const entry = seg.timeIndex.lookupBelow(ts);
      const fromOffset = Math.max(
        this._logStartOffset,
        entry === null ? seg.baseOffset : seg.baseOffset + entry.relOffset,
      );
      const start = seg.findBatch(fromOffset);
      if (start === null) continue;
      let result: TimestampLookup | null = null;
      seg.forEachBatch(start.position, false, (h, pos) => {
        if (h.maxTimestamp < ts || h.isControl) return true;
        const { records } = decodeRecordBatch(seg.read(pos, h.size), 0, false);
        for (const r of records) {
          if (r.timestamp >= ts && r.offset >= this._logStartOffset) {
            result = { offset: r.offset, timestamp: r.timestamp };
            return false;
          }
        }
        return true;
      });
      if (result !== null) return result;
    }
    return null;
  }

  /** KIP-734 (ListOffsets MAX_TIMESTAMP): the first record carrying the largest timestamp. */
  private offsetOfMaxTimestamp(): TimestampLookup | null {
    let best: LogSegment | undefined;
    for (const seg of this.segments)
      if (
        seg.nextOffset > this._logStartOffset &&
        (best === undefined || seg.maxTimestamp > best.maxTimestamp)
      )
        best = seg;
    if (best === undefined || best.maxTimestamp < 0) return null;
    const seg = best;
    let result: TimestampLookup | null = null;
    seg.forEachBatch(0, false, (h, pos) => {
      if (h.maxTimestamp !== seg.maxTimestamp || h.isControl) return true;
      for (const r of decodeRecordBatch(seg.read(pos, h.size), 0, false).records)
        if (r.timestamp === seg.maxTimestamp && r.offset >= this._logStartOffset) {
          result = { offset: r.offset, timestamp: r.timestamp };
          return false;
        }
      return true;
    });
    return result;
  }

  // ---------------------------------------------------------------- truncation, deletion, retention

  truncateTo(offset: number): void {
    this.assertWritable();
    if (offset >= this._logEndOffset) return;
    if (offset < this._logStartOffset)
      throw offsetOutOfRange(`cannot truncate below the log start offset ${this._logStartOffset}`);
    this.generation++;
    const idx = this.segmentIndexFor(offset);
    const seg = this.segments[idx] as LogSegment;
    for (const later of this.segments.splice(idx + 1)) later.delete();
    const found = seg.findBatch(offset);
    if (found !== null) seg.truncateTo(found.position);
    fsyncDir(this.dir);
    this._logEndOffset = seg.nextOffset;
    if (this.recoveryPoint > seg.baseOffset) this.writeRecoveryPoint(seg.baseOffset);
    this.producerState.deleteSnapshotsAbove(this._logEndOffset);
    const from = this.producerState.loadSnapshot(0, this._logEndOffset);
    const first = (this.segments[0] as LogSegment).baseOffset;
    this.replayProducerState(from < 0 ? first : from);
    this.producerState.mapEndOffset = this._logEndOffset;
  }

  deleteRecordsBefore(offset: number): number {
    this.assertWritable();
    if (offset < 0 || offset > this.highWatermark)
      throw offsetOutOfRange(
        `cannot delete records before ${offset}: high watermark is ${this.highWatermark}`,
      );
    if (offset <= this._logStartOffset) return this._logStartOffset;
    this._logStartOffset = offset;
    writeFileAtomic(join(this.dir, LOG_START_OFFSET), String(offset));
    if (this.active.nextOffset <= offset && !this.active.isEmpty) this.roll();
    let n = 0;
    while (n < this.segments.length - 1 && (this.segments[n] as LogSegment).nextOffset <= offset) n++;
    this.deleteLeadingSegments(n);
    return this._logStartOffset;
  }

  enforceRetention(now: number = this.now()): number {
    if (this.closed || this.failure !== undefined) return 0;
    const c = this._config;
    let n = 0;
    const last = this.segments.length - 1;
    while (n < last && (this.segments[n] as LogSegment).nextOffset <= this._logStartOffset) n++;
    if (isDeleteRetention(c)) {
      if (c['retention.ms'] >= 0) {
        while (n < last) {
          const s = this.segments[n] as LogSegment;
          // An inactive segment emptied by compaction has no timestamp; it holds nothing to keep.
          if (!s.isEmpty && (s.maxTimestamp < 0 || now - s.maxTimestamp <= c['retention.ms'])) break;
          n++;
        }
      }
      if (c['retention.bytes'] >= 0) {
        let excess = this.size - c['retention.bytes'];
        for (let i = 0; i < n; i++) excess -= (this.segments[i] as LogSegment).size;
        while (n < last && excess >= (this.segments[n] as LogSegment).size) {
          excess -= (this.segments[n] as LogSegment).size;
          n++;
        }
      }
    }
    if (n > 0) this.deleteLeadingSegments(n);
    return n;
  }

  private deleteLeadingSegments(n: number): void {
    if (n <= 0) return;
    this.generation++;
    for (const s of this.segments.splice(0, n)) s.delete();
    fsyncDir(this.dir);
    const first = (this.segments[0] as LogSegment).baseOffset;
    if (first > this._logStartOffset) {
      this._logStartOffset = first;
      writeFileAtomic(join(this.dir, LOG_START_OFFSET), String(first));
    }
    this.producerState.trimAborted(this._logStartOffset);
  }

  // ---------------------------------------------------------------- compaction

  compact(now: number = this.now()): Promise<number> {
    if (this.closed || this.failure !== undefined || !isCompacted(this._config)) return Promise.resolve(0);
    if (this.cleaning !== undefined) return this.cleaning;
    this.cleaning = cleanLog(this, now).finally(() => {
      this.cleaning = undefined;
    });
    return this.cleaning;
  }

  /**
   * @internal Earliest delete horizon of a tombstone kept by the last compaction (in memory
   * only: after a restart tombstones wait for the next dirty-ratio-triggered pass).
   */
  tombstoneHorizon: number | undefined;

  /** @internal true once close() began; the cleaner stops. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * @internal Completes a compaction swap: deletes segments [from, from + count) (files
   * included), renames `<base>.log.swap` to `<base>.log` and opens it in their place. One
   * synchronous step, so no read or append observes a half-swapped list; a crash in between
   * is finished by completeSwaps() on the next open.
   */
  swapIn(from: number, count: number, swapPath: string): void {
    const old = this.segments.slice(from, from + count);
    const base = (old[0] as LogSegment).baseOffset;
    for (const s of old) s.delete();
    renameSync(swapPath, join(this.dir, `${offsetFileStem(base)}.log`));
    fsyncDir(this.dir);
    const { segment } = LogSegment.open(this.dir, base, this._config['index.interval.bytes'], false);
    segment.persistIndexes();
    this.segments.splice(from, count, segment);
    this.generation++;
  }

  // ---------------------------------------------------------------- config and lifecycle

  updateConfig(config: Partial<LogConfig>): void {
    this._config = resolveConfig(config, this._config);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const cleaning = this.cleaning;
    this.closed = true;
    if (cleaning !== undefined) await cleaning.catch(() => 0);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const round = this.round;
    this.round = undefined;
    try {
      if (this.failure === undefined) {
        const active = this.active;
        active.fsyncSync();
        active.persistIndexes();
        this.producerState.mapEndOffset = this._logEndOffset;
        this.producerState.takeSnapshot();
        writeFileAtomic(
          join(this.dir, CLEAN_SHUTDOWN),
          JSON.stringify({
            activeBase: active.baseOffset,
            activeSize: active.size,
            logEndOffset: this._logEndOffset,
          }),
        );
      }
      round?.resolve();
    } catch (err) {
      const f = this.fail(err, 'close');
      round?.reject(f);
      throw f;
    } finally {
      for (const s of this.segments) s.close();
    }
  }

  /** Closes and removes the whole directory (topic deletion). */
  async deleteAll(): Promise<void> {
    await this.close().catch(() => undefined);
    if (existsSync(this.dir)) {
      const tomb = `${this.dir}.${Date.now()}-delete`;
      renameSync(this.dir, tomb);
      removeTree(tomb);
    }
  }
}

function readOffsetFile(path: string): number | undefined {
  const b = readFileOrNull(path);
  if (b === null) return undefined;
  const v = Number(b.toString('utf8').trim());
  return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function readFileSizeOr(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

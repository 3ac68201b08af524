/**
 * The built-in operators except windows (window/) : source, fused stateless chain, union,
 * branch, keyed process (state + timers), table materialization, stream–table join, interval
 * join, async enrichment, sink.
 *
 * Hot path rules: one loop per batch per stage, records mutated in place where the record
 * belongs to the operator (record.ts), no closure or promise per record, user functions
 * guarded by a try/catch around the whole loop that resumes after the failing record (so the
 * guard costs nothing on the happy path) and sends the failing record to the dead letters.
 *
 * Crash behaviour: operator-local state (timers, join buffers, in-flight async calls) is lost
 * with the process; snapshot()/restore() and the stores' changelogs rebuild it (issue 7).
 */
import { SluiceError } from '../../common/index.js';
import { TimerHeap, TimerService } from '../time/timers.js';
import { type WatermarkStrategy, WatermarkTracker } from '../time/watermarks.js';
import type { Sink } from './io.js';
import { type KeyedStateMap, Operator, type OperatorContext } from './operator.js';
import { StreamRecord } from './record.js';

export interface Deserializer<T> {
  deserialize(bytes: Uint8Array): T;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ───────────────────────────── source ─────────────────────────────

export interface SourceSpec {
  readonly name: string;
  readonly partitions: number;
  readonly deserializer?: Deserializer<unknown>;
  readonly timestamp?: (value: unknown) => number;
  readonly key?: (value: unknown) => unknown;
  readonly watermark: WatermarkStrategy;
  readonly idlenessMs: number;
  /** Records more than this far ahead of processing time are dead-lettered. */
  readonly maxFutureMs: number;
  /**
   * Ingestion time (Flink's IngestionTime): each record's timestamp is the processing time it
   * arrived at and the watermark follows processing time, so event-time windows behave as
   * processing-time windows (Nexmark q12). `timestamp` and `watermark` are ignored.
   */
  readonly ingestionTime?: boolean;
}

/**
 * Replaces each record's value with `convert(value)`, in place, keeping batch order; a record
 * whose conversion throws is dropped from the batch and handed to `onError`. The try sits
 * outside the per-record loop (re-entered after a failure), so the common path has no
 * per-record try/catch. Returns the same (shortened) array.
 */
function convertValues(
  batch: StreamRecord[],
  convert: (value: unknown) => unknown,
  onError: (record: StreamRecord, error: unknown) => void,
): StreamRecord[] {
  const n = batch.length;
  let i = 0;
  let j = 0;
  while (i < n) {
    try {
      for (; i < n; i++) {
        const r = batch[i];
        r.value = convert(r.value);
        batch[j++] = r;
      }
    } catch (e) {
      onError(batch[i], e);
      i++;
    }
  }
  batch.length = j;
  return batch;
}

export class SourceOperator extends Operator {
  tracker!: WatermarkTracker;
  private emittedIdle = false;
  /** Partitions this task owns (issue 7: the assignment); default all declared. */
  partitions: readonly number[] = [];

  /** Extracts, validates and stores timestamps in place, compacting out bad records; returns the max. */
  private readonly stamp: (
    batch: StreamRecord[],
    limit: number,
    bad: (r: StreamRecord, ts: number, limit: number) => void,
    fail: (stage: number, r: StreamRecord, e: unknown) => void,
  ) => number;
  private readonly onBadTimestamp = (r: StreamRecord, ts: number, limit: number) =>
    this.badTimestamp(r, ts, limit);
  private readonly onExtractError = (stage: number, r: StreamRecord, e: unknown) =>
    this.ctx.deadLetter(
      'user-function',
      stage < 0 ? `${this.name}.timestamp` : this.stages[stage].name,
      r,
      e,
    );

  constructor(
    readonly spec: SourceSpec,
    /** Stateless stages fused behind the source (no flatMap): see plan/physical.ts. */
    readonly stages: readonly StageSpec[] = [],
  ) {
    super(spec.name, 0, 1);
    // Generated per source so every user call is monomorphic (see ChainOperator). The batch's
    // max timestamp counts every valid record, also those a fused filter drops: event time is
    // the source's progress.
    const body = `
      return function stamp(batch, limit, bad, fail) {
        const n = batch.length;
        let i = 0, j = 0, s = -1, max = -Infinity;
        while (i < n) {
          try {
            for (; i < n; i++) {
              const r = batch[i];
              s = -1;
              const ts = ${spec.timestamp === undefined || spec.ingestionTime === true ? 'r.timestamp' : 'extract(r.value)'};
              if (!(ts >= 0 && ts <= limit)) {
                bad(r, ts, limit);
                continue;
              }
              r.timestamp = ts;
              if (ts > max) max = ts;
              let v = r.value;
              ${stageLines(stages).join('\n              ')}
              r.value = v;
              batch[j++] = r;
            }
          } catch (e) {
            fail(s, batch[i], e);
            i++;
          }
        }
        batch.length = j;
        return max;
      };`;
    this.stamp = new Function('extract', ...stages.map((_, k) => `f${k}`), body)(
      spec.timestamp,
      ...stages.map((st) => st.fn),
    );
  }

  override open(ctx: OperatorContext): void {
    super.open(ctx);
    if (this.partitions.length === 0)
      this.partitions = Array.from({ length: this.spec.partitions }, (_, i) => i);
    this.tracker = new WatermarkTracker(
      this.spec.watermark,
      this.spec.idlenessMs,
      this.partitions,
      ctx.processingTime(),
    );
  }

  override snapshot(): unknown {
    return this.tracker.snapshot();
  }

  override restore(s: unknown): void {
    const now = this.ctx.processingTime();
    for (const [p, wm] of s as Array<[number, number]>) {
      if (wm > Number.NEGATIVE_INFINITY) this.tracker.advance(p, wm, now);
    }
    this.tracker.update();
  }

  process(): void {
    throw new SluiceError('INTERNAL', `source ${this.name} has no upstream; use ingest()`);
  }

  /** One batch of one partition: deserialize, extract and validate timestamps, emit, watermark. */
  ingest(partition: number, batch: StreamRecord[]): void {
    const spec = this.spec;
    const now = this.ctx.processingTime();
    if (spec.deserializer !== undefined) batch = this.deserialize(batch);
    if (spec.key !== undefined) batch = this.extractKeys(batch);
    const limit = now + spec.maxFutureMs;
    if (spec.ingestionTime === true) for (let i = 0; i < batch.length; i++) batch[i].timestamp = now;
    const max = this.stamp(batch, limit, this.onBadTimestamp, this.onExtractError);
    if (batch.length > 0) {
      this.output.emit(batch);
      this.tracker.onRecords(partition, max, now);
    }
    this.publishWatermark();
  }

  private badTimestamp(r: StreamRecord, ts: number, limit: number): void {
    const reason = Number.isNaN(ts)
      ? 'timestamp is NaN'
      : typeof ts !== 'number'
        ? `timestamp is not a number (${typeof ts})`
        : ts < 0
          ? `timestamp ${ts} is negative`
          : ts === Number.POSITIVE_INFINITY
            ? 'timestamp is Infinity'
            : `timestamp ${ts} is more than ${this.spec.maxFutureMs} ms ahead of processing time (limit ${limit})`;
    this.ctx.deadLetter('timestamp', this.name, r, new SluiceError('INVALID_RECORD', reason));
  }

  private deserialize(batch: StreamRecord[]): StreamRecord[] {
    const d = this.spec.deserializer as Deserializer<unknown>;
    return convertValues(
      batch,
      (v) => d.deserialize(v as Uint8Array),
      (r, e) =>
        this.ctx.deadLetter(
          'deserialize',
          this.name,
          r,
          new SluiceError('DESERIALIZATION', `cannot deserialize: ${errorMessage(e)}`, { cause: e }),
        ),
    );
  }

  private extractKeys(batch: StreamRecord[]): StreamRecord[] {
    const f = this.spec.key as (v: unknown) => unknown;
    let j = 0;
    let i = 0;
    const n = batch.length;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          // Tombstones (null / undefined values of a table's changelog) keep the record key.
          if (r.value !== null && r.value !== undefined) r.key = f(r.value);
          batch[j++] = r;
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', `${this.name}.key`, batch[i], e);
        i++;
      }
    }
    batch.length = j;
    return batch;
  }

  /** Forces the watermark of one partition (or all) forward: the driver's advanceEventTime. */
  advanceWatermark(watermark: number, partition?: number): void {
    const now = this.ctx.processingTime();
    if (partition !== undefined) this.tracker.advance(partition, watermark, now);
    else for (const p of this.partitions) this.tracker.advance(p, watermark, now);
    this.publishWatermark();
  }

  checkIdle(now: number): void {
    this.tracker.checkIdle(now);
    if (this.spec.ingestionTime === true) {
      // Processing time moved: everything up to now − 1 has been ingested.
      for (const p of this.partitions) this.tracker.advance(p, now - 1, now);
    }
    this.publishWatermark();
  }

  private publishWatermark(): void {
    const before = this.currentWatermark;
    const wm = this.tracker.update();
    const idle = this.tracker.idle;
    if (idle !== this.emittedIdle) {
      this.emittedIdle = idle;
      this.output.setIdle(idle);
    }
    if (wm > before) {
      this.currentWatermark = wm;
      this.forwardWatermark(wm);
    }
  }
}

// ───────────────────────────── stateless chain ─────────────────────────────

export type StageKind = 'map' | 'filter' | 'flatMap' | 'keyBy' | 'mapRecord';

export interface StageSpec {
  readonly kind: StageKind;
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: user functions of any type, checked by the DSL
  readonly fn: (value: any) => any;
}

/**
 * A fused run of stateless operators (Flink's operator chaining). Runs of map / filter / keyBy /
 * mapRecord are compiled into ONE loop per chain (generated code, so every user function has
 * its own monomorphic call site that V8 can inline, and intermediate values that never leave
 * the loop need not be allocated); flatMap splits the run. Records are mutated in place.
 * A throwing stage dead-letters the record as it entered the chain segment (value unchanged)
 * and the loop resumes with the next record.
 */
type Segment = (batch: StreamRecord[]) => StreamRecord[];

/** Loop-body code of stages (map, filter, keyBy, mapRecord) over `r`, `v`, stage index `s`. */
function stageLines(stages: readonly StageSpec[]): string[] {
  return stages.map((st, k) => {
    switch (st.kind) {
      case 'map':
        return `s = ${k}; v = f${k}(v);`;
      case 'filter':
        return `s = ${k}; if (!f${k}(v)) continue;`;
      case 'keyBy':
        return `s = ${k}; r.key = f${k}(v);`;
      case 'mapRecord':
        return `s = ${k}; r.value = v; f${k}(r); v = r.value;`;
      default:
        throw new SluiceError('INTERNAL', `cannot compile stage ${st.kind}`);
    }
  });
}

export class ChainOperator extends Operator {
  private readonly segments: Segment[];

  constructor(
    name: string,
    readonly stages: readonly StageSpec[],
  ) {
    super(name);
    this.segments = [];
    let run: StageSpec[] = [];
    const close = () => {
      if (run.length > 0) this.segments.push(this.compile(run));
      run = [];
    };
    for (const st of stages) {
      if (st.kind === 'flatMap') {
        close();
        this.segments.push((batch) => this.flatMap(batch, st));
      } else run.push(st);
    }
    close();
  }

  private compile(stages: readonly StageSpec[]): Segment {
    const lines = stageLines(stages);
    const body = `
      return function chain(batch) {
        const n = batch.length;
        let i = 0, j = 0, s = 0;
        while (i < n) {
          try {
            for (; i < n; i++) {
              const r = batch[i];
              let v = r.value;
              ${lines.join('\n              ')}
              r.value = v;
              batch[j++] = r;
            }
          } catch (e) {
            fail(s, batch[i], e);
            i++;
          }
        }
        batch.length = j;
        return batch;
      };`;
    const fail = (s: number, r: StreamRecord, e: unknown) =>
      this.ctx.deadLetter('user-function', stages[s].name, r, e);
    const factory = new Function('fail', ...stages.map((_, k) => `f${k}`), body) as (
      ...fns: unknown[]
    ) => Segment;
    return factory(fail, ...stages.map((st) => st.fn));
  }

  process(batch: StreamRecord[]): void {
    const segs = this.segments;
    for (let s = 0; s < segs.length && batch.length > 0; s++) batch = segs[s](batch);
    this.output.emit(batch);
  }

  private flatMap(batch: StreamRecord[], st: StageSpec): StreamRecord[] {
    const fn = st.fn;
    const out: StreamRecord[] = [];
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          const res = fn(r.value) as Iterable<unknown>;
          if (Array.isArray(res)) {
            for (let k = 0; k < res.length; k++) out.push(new StreamRecord(r.key, res[k], r.timestamp));
          } else {
            for (const v of res) out.push(new StreamRecord(r.key, v, r.timestamp));
          }
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', st.name, batch[i], e);
        i++;
      }
    }
    return out;
  }
}

// ───────────────────────────── union, branch, sink ─────────────────────────────

/** Merges N inputs; its watermark is the minimum of the inputs' (base class). */
export class UnionOperator extends Operator {
  process(batch: StreamRecord[]): void {
    this.output.emit(batch);
  }
}

/** Routes each record to the first branch whose predicate holds (Kafka Streams' split). */
export class BranchOperator extends Operator {
  constructor(
    name: string,
    // biome-ignore lint/suspicious/noExplicitAny: predicates over the stream's value type
    readonly predicates: ReadonlyArray<(v: any) => boolean>,
  ) {
    super(name, 1, predicates.length);
  }

  process(batch: StreamRecord[]): void {
    const preds = this.predicates;
    const outs: StreamRecord[][] = preds.map(() => []);
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          for (let p = 0; p < preds.length; p++) {
            if (preds[p](r.value)) {
              outs[p].push(r);
              break;
            }
          }
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    for (let p = 0; p < outs.length; p++) this.ports[p].emit(outs[p]);
  }
}

export class SinkOperator extends Operator {
  recordsOut = 0;
  constructor(
    name: string,
    readonly sink: Sink,
    readonly serializer?: { serialize(v: unknown): Uint8Array },
  ) {
    super(name, 1, 0);
  }
  process(batch: StreamRecord[]): void {
    const ser = this.serializer;
    if (ser !== undefined) {
      convertValues(
        batch,
        (v) => ser.serialize(v),
        (r, e) =>
          this.ctx.deadLetter(
            'sink',
            this.name,
            r,
            new SluiceError('SERIALIZATION', `cannot serialize: ${errorMessage(e)}`, { cause: e }),
          ),
      );
    }
    this.recordsOut += batch.length;
    this.sink.write(batch);
  }
  override onWatermark(): void {}
  override async prepareCommit(): Promise<void> {
    await this.sink.prepareCommit?.();
  }
}

// ───────────────────────────── keyed process ─────────────────────────────

export interface ValueState<T> {
  /** The value for the current key, or undefined (never set, cleared, or expired by TTL). */
  get(): T | undefined;
  set(value: T): void;
  clear(): void;
}

export interface TimerControl {
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

export interface ProcessContext<K, R> {
  /** The key of the record (or timer) being processed. */
  readonly key: K;
  /** Event time of the record, or the firing time of the timer. */
  readonly timestamp: number;
  readonly watermark: number;
  readonly processingTime: number;
  readonly timers: TimerControl;
  /** Emits a result; its timestamp defaults to the current record's (timer's). */
  emit(value: R, timestamp?: number): void;
  /** Keyed value state scoped to the current key. Same name → same state. */
  state<T>(name: string, options?: { ttlMs?: number }): ValueState<T>;
}

export interface TimerInfo {
  readonly domain: 'event' | 'processing';
}

export interface ProcessFunction<K, V, R> {
  processElement(value: V, ctx: ProcessContext<K, R>): void;
  onTimer?(timestamp: number, ctx: ProcessContext<K, R>, info: TimerInfo): void;
}

class ProcessCtx<K, R> implements ProcessContext<K, R>, TimerControl {
  key!: K;
  timestamp = 0;
  out: StreamRecord[] = [];
  readonly timers: TimerControl = this;
  private readonly states = new Map<string, ValueState<unknown>>();
  constructor(private readonly op: ProcessOperator<K, unknown, R>) {}
  get watermark(): number {
    return this.op.currentWatermark;
  }
  get processingTime(): number {
    return this.op.ctx.processingTime();
  }
  emit(value: R, timestamp?: number): void {
    this.out.push(new StreamRecord(this.key, value, timestamp ?? this.timestamp));
  }
  registerEventTimeTimer(time: number): void {
    this.op.eventTimers.register(this.key, time);
  }
  registerProcessingTimeTimer(time: number): void {
    this.op.processingTimers.register(this.key, time);
  }
  deleteEventTimeTimer(time: number): void {
    this.op.eventTimers.delete(this.key, time);
  }
  deleteProcessingTimeTimer(time: number): void {
    this.op.processingTimers.delete(this.key, time);
  }
  state<T>(name: string, options?: { ttlMs?: number }): ValueState<T> {
    let s = this.states.get(name);
    if (s === undefined) {
      const map = this.op.ctx.stateFactory.open<K, T>(`${this.op.name}.${name}`, options ?? {});
      s = {
        get: () => map.get(this.key),
        set: (v: T) => map.put(this.key, v),
        clear: () => {
          map.delete(this.key);
        },
      } as ValueState<unknown>;
      this.states.set(name, s);
    }
    return s as ValueState<T>;
  }
}

export class ProcessOperator<K, V, R> extends Operator {
  readonly eventTimers = new TimerService<K>();
  readonly processingTimers = new TimerService<K>();
  private pc!: ProcessCtx<K, R>;

  constructor(
    name: string,
    readonly fn: ProcessFunction<K, V, R>,
  ) {
    super(name);
  }

  override open(ctx: OperatorContext): void {
    super.open(ctx);
    this.pc = new ProcessCtx(this as ProcessOperator<K, unknown, R>);
  }

  process(batch: StreamRecord[]): void {
    const pc = this.pc;
    const fn = this.fn;
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          pc.key = r.key as K;
          pc.timestamp = r.timestamp;
          fn.processElement(r.value as V, pc);
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    this.flush();
  }

  private flush(): void {
    const pc = this.pc;
    if (pc.out.length === 0) return;
    const out = pc.out;
    pc.out = [];
    this.output.emit(out);
  }

  private fire(key: K, time: number, domain: 'event' | 'processing'): void {
    const pc = this.pc;
    pc.key = key;
    pc.timestamp = time;
    try {
      this.fn.onTimer?.(time, pc, domain === 'event' ? EVENT : PROCESSING);
    } catch (e) {
      this.ctx.deadLetter('user-function', `${this.name}.onTimer`, new StreamRecord(key, undefined, time), e);
    }
  }

  override onWatermark(wm: number): void {
    this.eventTimers.advance(wm, (k, t) => this.fire(k, t, 'event'));
    this.flush();
    this.forwardWatermark(wm);
  }

  override onProcessingTime(now: number): void {
    this.processingTimers.advance(now, (k, t) => this.fire(k, t, 'processing'));
    this.flush();
  }

  override snapshot(): unknown {
    return { event: this.eventTimers.snapshot(), processing: this.processingTimers.snapshot() };
  }

  override restore(s: unknown): void {
    const snap = s as { event: Array<[K, number]>; processing: Array<[K, number]> };
    this.eventTimers.restore(snap.event);
    this.processingTimers.restore(snap.processing);
  }
}

const EVENT: TimerInfo = { domain: 'event' };
const PROCESSING: TimerInfo = { domain: 'processing' };

// ───────────────────────────── tables and joins ─────────────────────────────

/**
 * Materializes a changelog as the latest value per key (null/undefined value = delete) in the
 * keyed state named `table:<name>`, and forwards the changelog.
 */
export class TableOperator extends Operator {
  private store!: KeyedStateMap<unknown, unknown>;
  constructor(
    name: string,
    readonly tableName: string,
  ) {
    super(name);
  }
  override open(ctx: OperatorContext): void {
    super.open(ctx);
    this.store = ctx.stateFactory.open(`table:${this.tableName}`, {});
  }
  process(batch: StreamRecord[]): void {
    const store = this.store;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      if (r.value === null || r.value === undefined) store.delete(r.key);
      else store.put(r.key, r.value);
    }
    this.output.emit(batch);
  }
}

/**
 * Stream–table join (Kafka Streams semantics): each stream record is joined with the table's
 * value for its key at the moment it is processed. Inner join drops records without a match;
 * left join passes undefined.
 */
export class StreamTableJoinOperator extends Operator {
  private table!: KeyedStateMap<unknown, unknown>;
  constructor(
    name: string,
    readonly tableName: string,
    // biome-ignore lint/suspicious/noExplicitAny: joiner over the DSL's types
    readonly joiner: (value: any, row: any) => any,
    readonly left: boolean,
  ) {
    super(name);
  }
  override open(ctx: OperatorContext): void {
    super.open(ctx);
    this.table = ctx.stateFactory.open(`table:${this.tableName}`, {});
  }
  process(batch: StreamRecord[]): void {
    const table = this.table;
    const joiner = this.joiner;
    const left = this.left;
    const n = batch.length;
    let i = 0;
    let j = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          const row = table.get(r.key);
          if (row === undefined && !left) continue;
          r.value = joiner(r.value, row);
          batch[j++] = r;
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    batch.length = j;
    this.output.emit(batch);
  }
}

interface Buffered {
  ts: number;
  value: unknown;
}

/**
 * Interval join of two keyed streams: left l and right r join when
 * l.ts + lowerMs ≤ r.ts ≤ l.ts + upperMs; the result's timestamp is max(l.ts, r.ts).
 * Records at or behind the watermark are late (side output), as in Flink. Buffers are
 * cleaned when the watermark makes a match impossible: left after l.ts + upper ≤ wm, right
 * after r.ts − lower ≤ wm.
 */
export class IntervalJoinOperator extends Operator {
  private readonly leftBuf = new Map<unknown, Buffered[]>();
  private readonly rightBuf = new Map<unknown, Buffered[]>();
  private readonly cleanup = new TimerHeap<{ key: unknown; side: 0 | 1 }>();

  constructor(
    name: string,
    readonly lowerMs: number,
    readonly upperMs: number,
    // biome-ignore lint/suspicious/noExplicitAny: joiner over the DSL's types
    readonly joiner: (left: any, right: any) => any,
  ) {
    super(name, 2, 2);
  }

  process(batch: StreamRecord[], input: number): void {
    const out: StreamRecord[] = [];
    const late: StreamRecord[] = [];
    const wm = this.currentWatermark;
    const [own, other] = input === 0 ? [this.leftBuf, this.rightBuf] : [this.rightBuf, this.leftBuf];
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      if (r.timestamp <= wm) {
        this.ctx.late(this.name, r, wm);
        late.push(r);
        continue;
      }
      let list = own.get(r.key);
      if (list === undefined) own.set(r.key, (list = []));
      list.push({ ts: r.timestamp, value: r.value });
      this.cleanup.push(input === 0 ? r.timestamp + this.upperMs : r.timestamp - this.lowerMs, {
        key: r.key,
        side: input as 0 | 1,
      });
      const matches = other.get(r.key);
      if (matches === undefined) continue;
      for (const m of matches) {
        const [lts, rts, lv, rv] =
          input === 0 ? [r.timestamp, m.ts, r.value, m.value] : [m.ts, r.timestamp, m.value, r.value];
        if (rts < lts + this.lowerMs || rts > lts + this.upperMs) continue;
        try {
          out.push(new StreamRecord(r.key, this.joiner(lv, rv), lts > rts ? lts : rts));
        } catch (e) {
          this.ctx.deadLetter('user-function', this.name, r, e);
        }
      }
    }
    this.output.emit(out);
    this.ports[1].emit(late);
  }

  override onWatermark(wm: number): void {
    while (this.cleanup.size > 0 && this.cleanup.peekTime() <= wm) {
      const { key, side } = this.cleanup.pop();
      const buf = side === 0 ? this.leftBuf : this.rightBuf;
      const list = buf.get(key);
      if (list === undefined) continue;
      const keep =
        side === 0
          ? list.filter((b) => b.ts + this.upperMs > wm)
          : list.filter((b) => b.ts - this.lowerMs > wm);
      if (keep.length === 0) buf.delete(key);
      else buf.set(key, keep);
    }
    this.forwardWatermark(wm);
  }

  override snapshot(): unknown {
    return [[...this.leftBuf], [...this.rightBuf]];
  }

  override restore(snap: unknown): void {
    const [left, right] = snap as [Array<[unknown, Buffered[]]>, Array<[unknown, Buffered[]]>];
    this.leftBuf.clear();
    this.rightBuf.clear();
    this.cleanup.clear();
    for (const [side, entries] of [
      [0, left],
      [1, right],
    ] as const) {
      const buf = side === 0 ? this.leftBuf : this.rightBuf;
      for (const [key, list] of entries) {
        buf.set(key, list);
        for (const b of list) {
          this.cleanup.push(side === 0 ? b.ts + this.upperMs : b.ts - this.lowerMs, { key, side });
        }
      }
    }
  }

  bufferedCount(): number {
    let n = 0;
    for (const l of this.leftBuf.values()) n += l.length;
    for (const l of this.rightBuf.values()) n += l.length;
    return n;
  }
}

// ───────────────────────────── async enrichment ─────────────────────────────

export interface AsyncOptions {
  /** Calls in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Emit results in input order (default) or as they complete. */
  readonly ordered?: boolean;
  /** Per attempt. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Extra attempts after a failure or timeout. Default 0. */
  readonly retries?: number;
  /** Delay before attempt n+1: backoffMs × 2^n. Default 100 ms. */
  readonly backoffMs?: number;
}

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;
const FAILED = 3;

interface AsyncEntry {
  record: StreamRecord | null;
  /** For watermark entries: the watermark; records: NaN. */
  watermark: number;
  state: number;
  attempts: number;
  result: unknown;
  emitted: boolean;
}

/**
 * Async enrichment (Flink's AsyncWaitOperator): at most `concurrency` calls in flight; the
 * thread never waits on a call. Ordered mode emits in input order; unordered mode emits as
 * calls complete. In both modes a watermark is forwarded only after every record that arrived
 * before it was emitted (or dead-lettered), so no result is ever behind a watermark it
 * preceded. A call that times out or rejects is retried with exponential backoff; after the
 * last attempt the record goes to the dead letters (kind 'async').
 * Backpressure: pending() counts buffered records; the runner stops feeding above its limit.
 */
export class AsyncOperator extends Operator {
  private queue: AsyncEntry[] = [];
  private head = 0;
  private waiting: AsyncEntry[] = [];
  private waitHead = 0;
  private running = 0;
  private flushScheduled = false;
  private drainWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly ordered: boolean;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(
    name: string,
    // biome-ignore lint/suspicious/noExplicitAny: user function over the DSL's types
    readonly fn: (value: any) => Promise<any>,
    options: AsyncOptions,
  ) {
    super(name);
    this.concurrency = options.concurrency ?? 16;
    this.ordered = options.ordered ?? true;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 0;
    this.backoffMs = options.backoffMs ?? 100;
    if (!(this.concurrency >= 1)) throw new SluiceError('INVALID_CONFIG', 'async concurrency must be ≥ 1');
  }

  process(batch: StreamRecord[]): void {
    for (let i = 0; i < batch.length; i++) {
      const e: AsyncEntry = {
        record: batch[i],
        watermark: Number.NaN,
        state: WAITING,
        attempts: 0,
        result: undefined,
        emitted: false,
      };
      this.queue.push(e);
      this.waiting.push(e);
    }
    this.startMore();
  }

  override onWatermark(wm: number): void {
    if (this.pending() === 0) {
      this.forwardWatermark(wm);
      return;
    }
    this.queue.push({
      record: null,
      watermark: wm,
      state: DONE,
      attempts: 0,
      result: undefined,
      emitted: false,
    });
  }

  override pending(): number {
    return this.queue.length - this.head;
  }

  /** Resolves when every buffered record was emitted or dead-lettered. */
  drained(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  override prepareCommit(): Promise<void> {
    return this.drained();
  }

  private startMore(): void {
    while (this.running < this.concurrency && this.waitHead < this.waiting.length) {
      const e = this.waiting[this.waitHead++];
      this.running++;
      e.state = RUNNING;
      this.attempt(e);
    }
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitHead);
      this.waitHead = 0;
    }
  }

  private attempt(e: AsyncEntry): void {
    e.attempts++;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      this.failedAttempt(e, new SluiceError('TIMEOUT', `async call timed out after ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(this.fn((e.record as StreamRecord).value));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        e.result = v;
        e.state = DONE;
        this.running--;
        this.schedule();
      },
      (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failedAttempt(e, err);
      },
    );
  }

  private failedAttempt(e: AsyncEntry, err: unknown): void {
    if (e.attempts <= this.retries) {
      setTimeout(() => this.attempt(e), this.backoffMs * 2 ** (e.attempts - 1));
      return;
    }
    e.state = FAILED;
    e.result = err;
    this.running--;
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
      this.startMore();
    });
  }

  private flush(): void {
    const out: StreamRecord[] = [];
    const q = this.queue;
    if (!this.ordered) {
      for (let i = this.head; i < q.length; i++) {
        const e = q[i];
        if (e.record !== null && !e.emitted && (e.state === DONE || e.state === FAILED))
          this.emitEntry(e, out);
      }
    }
    while (this.head < q.length) {
      const e = q[this.head];
      if (e.record === null) {
        if (out.length > 0) {
          this.output.emit(out.splice(0));
        }
        this.forwardWatermark(e.watermark);
        this.head++;
        continue;
      }
      if (e.state !== DONE && e.state !== FAILED) break;
      if (!e.emitted) this.emitEntry(e, out);
      this.head++;
    }
    if (out.length > 0) this.output.emit(out);
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    if (this.pending() === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  private emitEntry(e: AsyncEntry, out: StreamRecord[]): void {
    e.emitted = true;
    const r = e.record as StreamRecord;
    if (e.state === DONE) {
      r.value = e.result;
      out.push(r);
    } else {
      const err = e.result;
      this.ctx.deadLetter(
        'async',
        this.name,
        r,
        new SluiceError(
          'USER_FUNCTION',
          `async call failed after ${e.attempts} attempt(s): ${errorMessage(err)}`,
          {
            cause: err,
          },
        ),
      );
    }
  }
}

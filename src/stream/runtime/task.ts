/**
 * Task: one instance of the topology's operators, fed by one set of input partitions.
 * Issue 7 creates one task per input partition (co-partitioned inputs share a task); the test
 * driver uses one task holding every partition, like Kafka Streams' TopologyTestDriver.
 *
 * Flow: ingest(input, partition, batch, nextOffset) runs the batch through the operators
 * synchronously (records, then the source's watermark); advanceProcessingTime() checks source
 * idleness, fires processing-time timers and purges expired state; commit() runs the commit
 * protocol of io.ts. Dead letters and late records are written to the sinks named by
 * `deadLetterSink` / `lateSink` as StreamRecords whose value is a DeadLetter / LateRecord.
 *
 * Concurrency: single-threaded; only commit() and drained() are async (they wait for async
 * operators). A task whose commit failed must be discarded (state may be ahead of Kafka).
 */
import { SluiceError } from '../../common/index.js';
import type { Topology } from '../plan/physical.js';
import {
  type ChangelogEntry,
  type ChangeloggingStore,
  jsonSerde,
  type KeyValueStore,
  type Serde,
  type SessionStore,
  type StateStore,
  type StoreEngine,
  type WindowStore,
  withChangelog,
} from '../state/index.js';
import type { Committer, Sink, SinkFactory } from './io.js';
import type { KeyedStateFactory, Operator, OperatorContext, OperatorStores } from './operator.js';
import type { SinkOperator, SourceOperator } from './operators.js';
import { type DeadLetter, type DeadLetterKind, type LateRecord, StreamRecord } from './record.js';
import { HeapStateFactory, storeStateFactory } from './state.js';

export interface TaskOptions {
  readonly taskId?: string;
  /** Processing-time clock; default Date.now. */
  readonly clock?: () => number;
  readonly sinkFactory: SinkFactory;
  readonly stateFactory?: KeyedStateFactory;
  /**
   * Run keyed state and window panes on this engine's stores (in-memory or LMDB, wrapped in
   * the changelogging wrapper by the caller if wanted): commit() flushes them and hands their
   * changelog entries to the committer; a task created on stores restored from the changelog
   * resumes from them. Default: heap state only.
   */
  readonly storeEngine?: StoreEngine;
  /**
   * With a storeEngine: wrap every store in the changelogging wrapper (commit() hands its
   * entries to the committer) and, when given, restore each store from `restore(storeName)`
   * (its changelog topic, read by issue 7) as it is created — before any operator reads it.
   */
  readonly changelog?: { readonly restore?: (storeName: string) => Iterable<ChangelogEntry> };
  readonly deadLetterSink?: string;
  readonly lateSink?: string;
  /**
   * Input partitions this task owns, by input name (issue 7: one task per partition, or the
   * co-partitioned set). Absent inputs: all declared partitions.
   */
  readonly assignment?: Readonly<Record<string, readonly number[]>>;
}

export const DEFAULT_DEAD_LETTER_SINK = '__dead-letters';
export const DEFAULT_LATE_SINK = '__late-records';

export interface TaskSnapshot {
  readonly operators: Record<
    string,
    { wm: { current: number; inputs: number[]; idle: boolean[] }; state: unknown }
  >;
  readonly state: unknown;
  readonly offsets: Record<string, Array<[number, number]>>;
}

export interface TaskMetrics {
  readonly inputs: Record<
    string,
    { recordsIn: number; watermark: number; watermarkLagMs: number | null; idle: boolean }
  >;
  /** Records written per output. */
  readonly outputs: Record<string, number>;
  readonly deadLetters: number;
  readonly lateRecords: number;
  readonly pending: number;
}

export interface CommitResult {
  readonly offsets: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly changelog: ReadonlyMap<string, readonly ChangelogEntry[]>;
  readonly durationMs: number;
}

export class Task {
  readonly taskId: string;
  readonly operators: Operator[];
  readonly sources: Map<string, SourceOperator>;
  readonly sinks: Map<string, SinkOperator>;
  readonly stateFactory: KeyedStateFactory;
  private readonly clock: () => number;
  private readonly deadLetters: Sink;
  private readonly lateRecords: Sink;
  private readonly offsets = new Map<string, Map<number, number>>();
  private readonly allSinks: Sink[] = [];
  private readonly recordsIn = new Map<string, number>();
  private deadLetterCount = 0;
  private readonly windowStores = new Map<string, WindowStore<unknown, unknown>>();
  private readonly sessionStores = new Map<string, SessionStore<unknown, unknown>>();
  private storeList: () => StateStore[] = () => [];
  private lateCount = 0;
  private closed = false;

  constructor(
    readonly topology: Topology,
    options: TaskOptions,
  ) {
    this.taskId = options.taskId ?? '0';
    this.clock = options.clock ?? Date.now;
    const sinkCache = new Map<string, Sink>();
    const sinkFor = (name: string): Sink => {
      let s = sinkCache.get(name);
      if (s === undefined) {
        s = options.sinkFactory(name, this.taskId);
        sinkCache.set(name, s);
        this.allSinks.push(s);
      }
      return s;
    };
    this.deadLetters = sinkFor(options.deadLetterSink ?? DEFAULT_DEAD_LETTER_SINK);
    this.lateRecords = sinkFor(options.lateSink ?? DEFAULT_LATE_SINK);
    const built = topology.createOperators(sinkFor);
    this.operators = built.operators;
    this.sources = built.sources;
    this.sinks = built.sinks;
    const engine = options.storeEngine;
    const changelog = options.changelog;
    const prepare = <
      S extends
        | KeyValueStore<unknown, unknown>
        | WindowStore<unknown, unknown>
        | SessionStore<unknown, unknown>,
    >(
      store: S,
    ): S => {
      if (changelog === undefined) return store;
      const wrapped = withChangelog(store as KeyValueStore<unknown, unknown>) as unknown as S &
        ChangeloggingStore;
      const entries = changelog.restore?.(store.name);
      if (entries !== undefined) wrapped.restoreBatch(entries);
      return wrapped;
    };
    if (engine !== undefined) {
      const kv = storeStateFactory(engine, { clock: this.clock, prepare: (st) => prepare(st) });
      this.stateFactory = options.stateFactory ?? kv;
      this.storeList = () => [
        ...kv.stores.values(),
        ...this.windowStores.values(),
        ...this.sessionStores.values(),
      ];
    } else {
      this.stateFactory = options.stateFactory ?? new HeapStateFactory(this.clock);
    }
    const stores: OperatorStores | undefined =
      engine === undefined
        ? undefined
        : {
            windowStore: <K, V>(o: {
              name: string;
              retentionMs: number;
              keySerde?: Serde<K>;
              valueSerde?: Serde<V>;
            }) => {
              let ws = this.windowStores.get(o.name);
              if (ws === undefined) {
                ws = prepare(
                  engine.windowStore<K, V>({
                    name: o.name.replace(/[^A-Za-z0-9._-]/g, '_'),
                    retentionMs: o.retentionMs,
                    keySerde: o.keySerde ?? jsonSerde<K>(),
                    valueSerde: o.valueSerde ?? jsonSerde<V>(),
                  }) as WindowStore<unknown, unknown>,
                );
                this.windowStores.set(o.name, ws);
              }
              return ws as unknown as WindowStore<K, V>;
            },
            sessionStore: <K, V>(o: {
              name: string;
              retentionMs: number;
              keySerde?: Serde<K>;
              valueSerde?: Serde<V>;
            }) => {
              let ss = this.sessionStores.get(o.name);
              if (ss === undefined) {
                ss = prepare(
                  engine.sessionStore<K, V>({
                    name: o.name.replace(/[^A-Za-z0-9._-]/g, '_'),
                    retentionMs: o.retentionMs,
                    keySerde: o.keySerde ?? jsonSerde<K>(),
                    valueSerde: o.valueSerde ?? jsonSerde<V>(),
                  }) as SessionStore<unknown, unknown>,
                );
                this.sessionStores.set(o.name, ss);
              }
              return ss as unknown as SessionStore<K, V>;
            },
          };
    for (const [input, parts] of Object.entries(options.assignment ?? {})) {
      const src = this.sources.get(input);
      if (src === undefined) throw new SluiceError('NOT_FOUND', `assignment names unknown input '${input}'`);
      src.partitions = [...parts];
    }
    const clock = this.clock;
    const dl = this.deadLetters;
    const lr = this.lateRecords;
    const self = this;
    const ctx: OperatorContext = {
      taskId: this.taskId,
      processingTime: clock,
      stateFactory: this.stateFactory,
      stores,
      deadLetter(kind: DeadLetterKind, operator: string, record: StreamRecord, error: unknown) {
        self.deadLetterCount++;
        const reason = error instanceof Error ? error.message : String(error);
        const letter: DeadLetter = {
          kind,
          operator,
          reason,
          key: record.key,
          value: record.value,
          timestamp: record.timestamp,
          error,
        };
        const ts = Number.isFinite(record.timestamp) && record.timestamp >= 0 ? record.timestamp : clock();
        dl.write([new StreamRecord(record.key, letter, ts)]);
      },
      late(operator: string, record: StreamRecord, watermark: number) {
        self.lateCount++;
        const late: LateRecord = {
          operator,
          key: record.key,
          value: record.value,
          timestamp: record.timestamp,
          watermark,
        };
        lr.write([new StreamRecord(record.key, late, record.timestamp)]);
      },
    };
    for (const op of this.operators) op.open(ctx);
  }

  private source(input: string): SourceOperator {
    const s = this.sources.get(input);
    if (s === undefined) {
      throw new SluiceError(
        'NOT_FOUND',
        `no input named '${input}' (inputs: ${[...this.sources.keys()].join(', ')})`,
      );
    }
    return s;
  }

  /** Runs one batch of one input partition through the topology. The batch becomes the task's. */
  ingest(input: string, partition: number, batch: StreamRecord[], nextOffset?: number): void {
    if (this.closed) throw new SluiceError('CLOSED', `task ${this.taskId} is closed`);
    const src = this.source(input);
    if (!src.partitions.includes(partition)) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `task ${this.taskId} does not own partition ${partition} of ${input} (owns ${src.partitions.join(', ')})`,
      );
    }
    this.recordsIn.set(input, (this.recordsIn.get(input) ?? 0) + batch.length);
    src.ingest(partition, batch);
    if (nextOffset !== undefined) {
      let m = this.offsets.get(input);
      if (m === undefined) this.offsets.set(input, (m = new Map()));
      m.set(partition, nextOffset);
    }
  }

  /** Next offset per input partition of what was ingested (for lag metrics). */
  consumedOffsets(): ReadonlyMap<string, ReadonlyMap<number, number>> {
    return this.offsets;
  }

  /** Forces event time of an input (all partitions, or one) to at least `watermark`. */
  advanceWatermark(input: string, watermark: number, partition?: number): void {
    this.source(input).advanceWatermark(watermark, partition);
  }

  /** End of bounded input: every input's watermark to +∞, so every window fires. */
  endOfInput(): void {
    for (const s of this.sources.values()) s.advanceWatermark(Number.POSITIVE_INFINITY);
  }

  /** Processing time moved (the clock was advanced): idleness, processing-time timers, TTL. */
  advanceProcessingTime(): void {
    const now = this.clock();
    for (const s of this.sources.values()) s.checkIdle(now);
    for (const op of this.operators) op.onProcessingTime(now);
    const sf = this.stateFactory as { purge?: () => void };
    sf.purge?.();
  }

  /** Counters and gauges for the ops dashboard (issue 7 exports them per task). */
  metrics(): TaskMetrics {
    const now = this.clock();
    const inputs: TaskMetrics['inputs'] = {};
    for (const [name, src] of this.sources) {
      const wm = src.currentWatermark;
      inputs[name] = {
        recordsIn: this.recordsIn.get(name) ?? 0,
        watermark: wm,
        watermarkLagMs: Number.isFinite(wm) ? now - wm : null,
        idle: src.tracker.idle,
      };
    }
    const outputs: Record<string, number> = {};
    for (const [name, op] of this.sinks) outputs[name] = op.recordsOut;
    return {
      inputs,
      outputs,
      deadLetters: this.deadLetterCount,
      lateRecords: this.lateCount,
      pending: this.pending(),
    };
  }

  /** Records buffered inside operators (async calls in flight): the backpressure signal. */
  pending(): number {
    let n = 0;
    for (const op of this.operators) n += op.pending();
    return n;
  }

  /** Waits until no operator holds buffered records. */
  async drained(): Promise<void> {
    while (this.pending() > 0) {
      for (const op of this.operators) await op.prepareCommit();
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** The commit protocol (io.ts): flush operators and sinks, hand offsets to the committer, commit. */
  async commit(committer?: Committer): Promise<CommitResult> {
    const t0 = performance.now();
    await this.drained();
    for (const op of this.operators) await op.prepareCommit();
    for (const s of this.allSinks) await s.prepareCommit?.();
    const offsets = new Map<string, ReadonlyMap<number, number>>();
    for (const [k, v] of this.offsets) offsets.set(k, new Map(v));
    const changelog = new Map<string, ChangelogEntry[]>();
    for (const store of this.storeList()) {
      const entries = store.flush();
      if (entries.length > 0) changelog.set(store.name, entries);
    }
    try {
      await committer?.commit(offsets, this.taskId, changelog);
    } catch (e) {
      for (const s of this.allSinks) s.abort?.();
      throw e;
    }
    for (const s of this.allSinks) await s.commit?.();
    for (const op of this.operators) op.commit();
    return { offsets, changelog, durationMs: performance.now() - t0 };
  }

  /**
   * A checkpoint of everything the task holds on the heap: per operator its event-time position
   * and local state (timers, window panes, sessions, join buffers), heap keyed state, consumed
   * offsets. Take it after commit()/drained() (async operators must be empty). The result
   * references live objects: serialize or structuredClone it before processing more input.
   * State in a StoreEngine is not included — its stores snapshot and changelog themselves.
   */
  snapshot(): TaskSnapshot {
    if (this.pending() > 0) {
      throw new SluiceError('NOT_READY', 'snapshot with async calls in flight; await drained() first');
    }
    const operators: TaskSnapshot['operators'] = {};
    for (const op of this.operators)
      operators[op.name] = { wm: op.snapshotWatermarks(), state: op.snapshot() };
    const sf = this.stateFactory as { snapshot?: () => unknown };
    const offsets: Record<string, Array<[number, number]>> = {};
    for (const [k, v] of this.offsets) offsets[k] = [...v];
    return { operators, state: sf.snapshot?.(), offsets };
  }

  /** Restores a snapshot of a task of the same topology, before any input is ingested. */
  restore(snapshot: TaskSnapshot): void {
    for (const op of this.operators) {
      const s = snapshot.operators[op.name];
      if (s === undefined) continue;
      op.restoreWatermarks(s.wm);
      if (s.state !== undefined) op.restore(s.state);
    }
    const sf = this.stateFactory as { restore?: (s: unknown) => void };
    if (snapshot.state !== undefined) sf.restore?.(snapshot.state);
    this.offsets.clear();
    for (const [k, v] of Object.entries(snapshot.offsets)) this.offsets.set(k, new Map(v));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const op of this.operators) op.close();
  }
}

/**
 * TestDriver: runs an app's topology in one task, synchronously, with injectable processing
 * time — Sluice's TopologyTestDriver. Users import it to unit-test pipelines.
 *
 *   const driver = new TestDriver(app, { startTime: 0 });
 *   driver.input<Txn>('transactions').pipe(txn, { timestamp, partition });
 *   driver.advanceProcessingTime(60_000);      // idleness, processing-time timers, TTL
 *   driver.advanceEventTime('transactions', t); // force a watermark
 *   driver.end();                               // end of input: every window fires
 *   driver.output(alerts).values();  driver.deadLetters();  driver.lateRecords();
 *
 * Each pipe() call is one batch; pipeAll() sends one batch per call (or per `batchSize`).
 * The watermark is updated after each batch, so batch boundaries are the points where event
 * time advances — tests that care pipe record by record.
 * Async operators: await driver.settle() to let in-flight calls finish.
 */

import type { StreamApp } from '../api/app.js';
import type { SinkHandle } from '../api/dsl.js';
import type { Topology } from '../plan/physical.js';
import { CollectingSink, type Committer } from '../runtime/io.js';
import type { KeyedStateFactory } from '../runtime/operator.js';
import { type DeadLetter, type LateRecord, StreamRecord } from '../runtime/record.js';
import { HeapStateFactory } from '../runtime/state.js';
import {
  type CommitResult,
  DEFAULT_DEAD_LETTER_SINK,
  DEFAULT_LATE_SINK,
  Task,
  type TaskSnapshot,
} from '../runtime/task.js';

export interface TestDriverOptions {
  /** Initial processing time (ms). Default Date.now() at construction. */
  readonly startTime?: number;
  readonly stateFactory?: KeyedStateFactory;
}

export interface PipeOptions {
  readonly timestamp?: number;
  readonly partition?: number;
  readonly key?: unknown;
}

export class TestInput<V> {
  constructor(
    private readonly driver: TestDriver,
    readonly name: string,
  ) {}

  /** One record as one batch. Without a timestamp the current processing time is used. */
  pipe(value: V, options: PipeOptions = {}): this {
    return this.pipeRecords([{ value, ...options }]);
  }

  /** Raw bytes for inputs with a serde (deserialize failures go to dead letters). */
  pipeBytes(bytes: Uint8Array, options: PipeOptions = {}): this {
    return this.pipeRecords([{ value: bytes as unknown as V, ...options }]);
  }

  /** Values as batches of `batchSize` (default: all in one batch) per partition order given. */
  pipeAll(values: ReadonlyArray<{ value: V } & PipeOptions>, batchSize = values.length): this {
    for (let i = 0; i < values.length; i += Math.max(1, batchSize)) {
      this.pipeRecords(values.slice(i, i + Math.max(1, batchSize)));
    }
    return this;
  }

  private pipeRecords(values: ReadonlyArray<{ value: V } & PipeOptions>): this {
    // A batch goes to one partition at a time, as a consumer fetch would deliver it.
    let i = 0;
    while (i < values.length) {
      const partition = values[i].partition ?? 0;
      const batch: StreamRecord[] = [];
      while (i < values.length && (values[i].partition ?? 0) === partition) {
        const v = values[i];
        batch.push(new StreamRecord(v.key ?? null, v.value, v.timestamp ?? this.driver.now));
        i++;
      }
      const key = `${this.name}\u0000${partition}`;
      const next = (this.driver.offsets.get(key) ?? 0) + batch.length;
      this.driver.offsets.set(key, next);
      this.driver.task.ingest(this.name, partition, batch, next);
    }
    return this;
  }
}

export class TestOutput<V, K> {
  constructor(private readonly sink: CollectingSink) {}
  records(): Array<StreamRecord<K, V>> {
    return this.sink.all() as Array<StreamRecord<K, V>>;
  }
  values(): V[] {
    return this.records().map((r) => r.value);
  }
  /** Removes and returns what was written so far (Kafka Streams' readRecordsToList). */
  read(): Array<StreamRecord<K, V>> {
    const out = this.records();
    this.sink.committed.length = 0;
    this.sink.uncommitted.length = 0;
    return out;
  }
  get size(): number {
    return this.sink.committed.length + this.sink.uncommitted.length;
  }
}

export class TestDriver {
  readonly task: Task;
  readonly topology: Topology;
  private time: number;
  private readonly sinks = new Map<string, CollectingSink>();
  readonly stateFactory: KeyedStateFactory;
  /** Next offset per input partition (the offsets a commit reports). */
  readonly offsets = new Map<string, number>();

  constructor(app: StreamApp | Topology, options: TestDriverOptions = {}) {
    this.topology = 'graph' in app && 'topology' in app ? app.topology() : (app as Topology);
    this.time = options.startTime ?? Date.now();
    this.stateFactory = options.stateFactory ?? new HeapStateFactory(() => this.time);
    this.task = new Task(this.topology, {
      taskId: 'test',
      clock: () => this.time,
      sinkFactory: (name) => this.sinkNamed(name),
      stateFactory: this.stateFactory,
    });
  }

  private sinkNamed(name: string): CollectingSink {
    let s = this.sinks.get(name);
    if (s === undefined) {
      s = new CollectingSink(name);
      this.sinks.set(name, s);
    }
    return s;
  }

  get now(): number {
    return this.time;
  }

  input<V>(name: string): TestInput<V> {
    return new TestInput<V>(this, name);
  }

  output<V, K>(handle: SinkHandle<V, K>): TestOutput<V, K>;
  output<V, K = unknown>(name: string): TestOutput<V, K>;
  output<V, K>(h: SinkHandle<V, K> | string): TestOutput<V, K> {
    return new TestOutput<V, K>(this.sinkNamed(typeof h === 'string' ? h : h.sinkName));
  }

  deadLetters(): DeadLetter[] {
    return this.sinkNamed(DEFAULT_DEAD_LETTER_SINK)
      .all()
      .map((r) => r.value as DeadLetter);
  }

  lateRecords(): LateRecord[] {
    return this.sinkNamed(DEFAULT_LATE_SINK)
      .all()
      .map((r) => r.value as LateRecord);
  }

  /** Moves processing time forward by `ms` and runs idleness checks, timers and TTL purge. */
  advanceProcessingTime(ms: number): void {
    this.time += ms;
    this.task.advanceProcessingTime();
  }

  /** Sets processing time (never backwards). */
  setProcessingTime(time: number): void {
    if (time > this.time) this.time = time;
    this.task.advanceProcessingTime();
  }

  /** Forces an input's watermark (all partitions, or one) to at least `watermark`. */
  advanceEventTime(input: string, watermark: number, partition?: number): void {
    this.task.advanceWatermark(input, watermark, partition);
  }

  /** End of input: all watermarks to +∞, every pending window and event timer fires. */
  end(): void {
    this.task.endOfInput();
  }

  /** Waits for in-flight async calls. */
  settle(): Promise<void> {
    return this.task.drained();
  }

  commit(committer?: Committer): Promise<CommitResult> {
    return this.task.commit(committer);
  }

  /** Reads a keyed state (process state `<operator>.<name>`, tables `table:<name>`). */
  state<K, V>(name: string): { get(key: K): V | undefined } {
    return this.stateFactory.open<K, V>(name, {});
  }

  /** A deep copy of the task's checkpoint (see Task.snapshot). */
  snapshot(): TaskSnapshot {
    return structuredClone(this.task.snapshot());
  }

  /** Restores a snapshot into this (fresh) driver's task. */
  restore(snapshot: TaskSnapshot): void {
    this.task.restore(structuredClone(snapshot));
    for (const [input, parts] of Object.entries(snapshot.offsets)) {
      for (const [p, o] of parts) this.offsets.set(`${input}\u0000${p}`, o);
    }
  }

  watermarkOf(input: string): number {
    return this.task.sources.get(input)?.currentWatermark ?? Number.NEGATIVE_INFINITY;
  }

  close(): void {
    this.task.close();
  }
}

/**
 * The typed fluent DSL. Every method appends a node to the app's LogicalGraph and returns a new
 * handle typed by what flows there: value type V and key type K travel from source to sink
 * without casts. Nothing runs until a Task (or the test driver) is built from app.topology().
 *
 * Keys: a stream's key is whatever the last keyBy produced (or the source's key); stateless
 * operators keep it (map is Kafka Streams' mapValues). Windows, process, joins and tables need
 * a KeyedStream. Keys are compared by SameValueZero (use strings or numbers, like Map keys).
 *
 * Example:
 *   app.stream<Txn>('transactions', { timestamp: t => t.ts, watermark: boundedOutOfOrderness(10_000), idleness: 60_000 })
 *     .keyBy(t => t.customer)
 *     .window(sliding(5 * 60_000, 60_000))
 *     .aggregate(summing(t => t.amount))
 *     .filter(w => w.value > 10_000)
 *     .to('fraud-alerts');
 */
import { SluiceError } from '../../common/index.js';
import type { InputRef, LogicalGraph, NewNode } from '../plan/logical.js';
import type { AsyncOptions, ProcessFunction } from '../runtime/operators.js';
import type { StreamRecord, Windowed } from '../runtime/record.js';
import type { Serde } from '../state/index.js';
import { type AggregateFunction, counting, reducing } from '../window/aggregate.js';
import type { SlidingWindows, TumblingWindows, WindowAssigner } from '../window/assigners.js';
import type { Trigger } from '../window/triggers.js';

interface Node {
  readonly graph: LogicalGraph;
  readonly ref: InputRef;
}

function add(graph: LogicalGraph, node: NewNode): InputRef {
  return { node: graph.add(node).id, port: 0 };
}

export interface SinkOptions<V> {
  /** Turn values into bytes before the sink (issue 7: the Kafka producer's value serde). */
  readonly serde?: { serialize(v: V): Uint8Array };
  readonly name?: string;
}

/** A named output; the test driver reads it typed: driver.output(handle). */
export interface SinkHandle<V, K> {
  readonly sinkName: string;
  /** Phantom types for the driver; never set at runtime. */
  readonly __types?: { value: V; key: K };
}

export class Stream<V, K = unknown> implements Node {
  constructor(
    readonly graph: LogicalGraph,
    readonly ref: InputRef,
  ) {}

  protected stage(
    kind: 'map' | 'filter' | 'flatMap' | 'keyBy' | 'mapRecord',
    fn: (v: never) => unknown,
    name?: string,
  ): InputRef {
    return add(this.graph, {
      kind: 'stage',
      name,
      stage: { kind, name: name ?? `${kind}-${this.graph.nodes.length}`, fn: fn as (v: unknown) => unknown },
      inputs: [this.ref],
    });
  }

  map<R>(fn: (value: V) => R, name?: string): Stream<R, K> {
    return new Stream(this.graph, this.stage('map', fn, name));
  }

  filter<S extends V>(fn: (value: V) => value is S, name?: string): Stream<S, K>;
  filter(fn: (value: V) => boolean, name?: string): Stream<V, K>;
  filter(fn: (value: V) => boolean, name?: string): Stream<V, K> {
    return new Stream(this.graph, this.stage('filter', fn, name));
  }

  flatMap<R>(fn: (value: V) => Iterable<R>, name?: string): Stream<R, K> {
    return new Stream(this.graph, this.stage('flatMap', fn, name));
  }

  /**
   * Low-level per-record access: fn may change the record's key, value and timestamp in place
   * (the record is the operator's own; see runtime/record.ts). Returns the stream retyped.
   */
  mapRecord<R, K2 = K>(fn: (record: StreamRecord<K, V>) => void, name?: string): Stream<R, K2> {
    return new Stream(this.graph, this.stage('mapRecord', fn, name));
  }

  keyBy<K2>(fn: (value: V) => K2, name?: string): KeyedStream<V, K2> {
    return new KeyedStream(this.graph, this.stage('keyBy', fn, name));
  }

  /**
   * Union of this stream and others; the value type is the union of theirs (e.g. Nexmark's
   * Person | Auction | Bid). Watermark = minimum of the inputs.
   */
  merge<V2 = V>(...others: Stream<V2, K>[]): Stream<V | V2, K> {
    return new Stream(
      this.graph,
      add(this.graph, { kind: 'union', inputs: [this.ref, ...others.map((o) => o.ref)] }),
    );
  }

  /**
   * Splits by predicates, first match wins (Kafka Streams' split); records matching none are
   * dropped unless a predicate returns true for everything (e.g. `other: () => true` last).
   */
  branch<N extends string>(predicates: Record<N, (value: V) => boolean>): Record<N, Stream<V, K>> {
    const names = Object.keys(predicates) as N[];
    const node = this.graph.add({
      kind: 'branch',
      predicates: names.map((n) => predicates[n]),
      inputs: [this.ref],
    });
    const out = {} as Record<N, Stream<V, K>>;
    names.forEach((n, port) => {
      out[n] = new Stream(this.graph, { node: node.id, port });
    });
    return out;
  }

  /**
   * Async enrichment: fn runs with at most `concurrency` calls in flight, results in input order
   * (or completion order with ordered: false), per-attempt timeout, retries with backoff; a call
   * that keeps failing sends the record to the dead letters. The thread never waits on a call.
   */
  mapAsync<R>(fn: (value: V) => Promise<R>, options: AsyncOptions & { name?: string } = {}): Stream<R, K> {
    return new Stream(
      this.graph,
      add(this.graph, { kind: 'async', fn, options, name: options.name, inputs: [this.ref] }),
    );
  }

  /** Writes to a named output (a topic in issue 7). */
  to(sinkName: string, options: SinkOptions<V> = {}): SinkHandle<V, K> {
    this.graph.add({
      kind: 'sink',
      sinkName,
      name: options.name ?? `sink-${sinkName}`,
      serializer: options.serde as { serialize(v: unknown): Uint8Array } | undefined,
      inputs: [this.ref],
    });
    return { sinkName };
  }

  /** Declares the stream already keyed by K (e.g. the source key) without a key change. */
  asKeyed<K2 = K>(): KeyedStream<V, K2> {
    return new KeyedStream(this.graph, this.ref);
  }
}

export interface WindowOptions {
  /** Records up to this many ms behind a window's close still update it (default 0). */
  readonly allowedLateness?: number;
  /**
   * Custom trigger (tumbling and global windows): extra firings (early results) or, for global
   * windows, the only firings.
   */
  readonly trigger?: Trigger;
  /**
   * Early results for any time window: every this many ms of processing time, open windows
   * (sessions) whose result changed emit it as 'early'; the final result follows at close.
   */
  readonly earlyEveryMs?: number;
  /**
   * Serdes for the window store when the task runs on a StoreEngine (default JSON; give one
   * for accumulators JSON cannot represent, e.g. Sets or Maps).
   */
  readonly keySerde?: Serde<unknown>;
  readonly accumulatorSerde?: Serde<unknown>;
  readonly name?: string;
}

export class KeyedStream<V, K> extends Stream<V, K> {
  override map<R>(fn: (value: V) => R, name?: string): KeyedStream<R, K> {
    return new KeyedStream(this.graph, this.stage('map', fn, name));
  }

  override filter<S extends V>(fn: (value: V) => value is S, name?: string): KeyedStream<S, K>;
  override filter(fn: (value: V) => boolean, name?: string): KeyedStream<V, K>;
  override filter(fn: (value: V) => boolean, name?: string): KeyedStream<V, K> {
    return new KeyedStream(this.graph, this.stage('filter', fn, name));
  }

  override flatMap<R>(fn: (value: V) => Iterable<R>, name?: string): KeyedStream<R, K> {
    return new KeyedStream(this.graph, this.stage('flatMap', fn, name));
  }

  override merge<V2 = V>(...others: Stream<V2, K>[]): KeyedStream<V | V2, K> {
    return super.merge<V2>(...others).asKeyed<K>();
  }

  override mapAsync<R>(
    fn: (value: V) => Promise<R>,
    options: AsyncOptions & { name?: string } = {},
  ): KeyedStream<R, K> {
    return super.mapAsync(fn, options).asKeyed<K>();
  }

  window(assigner: WindowAssigner, options: WindowOptions = {}): WindowedStream<V, K> {
    return new WindowedStream(this, assigner, options);
  }

  /** Per-key processing with keyed state and event/processing-time timers. */
  process<R>(fn: ProcessFunction<K, V, R>, name?: string): KeyedStream<R, K> {
    return new KeyedStream(this.graph, add(this.graph, { kind: 'process', fn, name, inputs: [this.ref] }));
  }

  /** Enrichment: join each record with the table's current value for its key; no match → dropped. */
  join<T, R>(table: Table<K, T>, joiner: (value: V, row: T) => R, name?: string): KeyedStream<R, K> {
    return new KeyedStream(
      this.graph,
      add(this.graph, {
        kind: 'tableJoin',
        tableName: table.tableName,
        joiner,
        left: false,
        name,
        inputs: [this.ref],
      }),
    );
  }

  /** Like join, but records without a table row pass with row = undefined. */
  leftJoin<T, R>(
    table: Table<K, T>,
    joiner: (value: V, row: T | undefined) => R,
    name?: string,
  ): KeyedStream<R, K> {
    return new KeyedStream(
      this.graph,
      add(this.graph, {
        kind: 'tableJoin',
        tableName: table.tableName,
        joiner,
        left: true,
        name,
        inputs: [this.ref],
      }),
    );
  }

  /**
   * Joins l (this) and r (other) of the same key when l.ts + lowerMs ≤ r.ts ≤ l.ts + upperMs.
   * Result timestamp max(l.ts, r.ts). Records behind the watermark are late (late sink).
   */
  intervalJoin<V2, R>(
    other: KeyedStream<V2, K>,
    bounds: { lowerMs: number; upperMs: number },
    joiner: (left: V, right: V2) => R,
    name?: string,
  ): KeyedStream<R, K> {
    if (bounds.lowerMs > bounds.upperMs) {
      throw new SluiceError('INVALID_ARGUMENT', 'intervalJoin: lowerMs must not exceed upperMs');
    }
    return new KeyedStream(
      this.graph,
      add(this.graph, {
        kind: 'intervalJoin',
        lowerMs: bounds.lowerMs,
        upperMs: bounds.upperMs,
        joiner,
        name,
        inputs: [this.ref, other.ref],
      }),
    );
  }

  /**
   * Window join (Flink's): every pair of this and `other` with the same key in the same tumbling
   * or sliding window, joined when the window closes; result timestamp end − 1.
   */
  windowJoin<V2, R>(
    other: KeyedStream<V2, K>,
    assigner: TumblingWindows | SlidingWindows,
    joiner: (left: V, right: V2) => R,
    name?: string,
  ): KeyedStream<R, K> {
    return new KeyedStream(
      this.graph,
      add(this.graph, { kind: 'windowJoin', assigner, joiner, name, inputs: [this.ref, other.ref] }),
    );
  }

  /**
   * Rolling aggregation per key without windows (Kafka Streams' KGroupedStream.aggregate):
   * emits the key's updated result for every record; the accumulator is keyed state.
   */
  aggregate<A, R>(agg: AggregateFunction<V, A, R>, name?: string): KeyedStream<R, K> {
    return this.process<R>(
      {
        processElement(value, ctx) {
          const state = ctx.state<A>('acc');
          const prev = state.get();
          const acc = agg.add(prev === undefined ? agg.createAccumulator() : prev, value);
          state.set(acc);
          ctx.emit(agg.getResult(acc));
        },
      },
      name,
    );
  }

  /** Materializes this stream as a table (latest value per key; null/undefined deletes). */
  toTable(tableName: string): Table<K, V> {
    const ref = add(this.graph, { kind: 'table', tableName, name: `table-${tableName}`, inputs: [this.ref] });
    return new Table(this.graph, ref, tableName);
  }
}

export class WindowedStream<V, K> {
  constructor(
    private readonly keyed: KeyedStream<V, K>,
    private readonly assigner: WindowAssigner,
    private readonly options: WindowOptions,
  ) {}

  aggregate<A, R>(agg: AggregateFunction<V, A, R>, name?: string): WindowResultStream<R, K, V> {
    const graph = this.keyed.graph;
    const lateness = this.options.allowedLateness ?? 0;
    if (!(lateness >= 0)) throw new SluiceError('INVALID_ARGUMENT', 'allowedLateness must be ≥ 0');
    const node = graph.add({
      kind: 'window',
      assigner: this.assigner,
      agg,
      allowedLateness: lateness,
      trigger: this.options.trigger,
      earlyEveryMs: this.options.earlyEveryMs,
      keySerde: this.options.keySerde,
      accumulatorSerde: this.options.accumulatorSerde,
      name: name ?? this.options.name,
      inputs: [this.keyed.ref],
    });
    return new WindowResultStream(graph, { node: node.id, port: 0 });
  }

  reduce(fn: (a: V, b: V) => V, name?: string): WindowResultStream<V, K, V> {
    return this.aggregate(reducing(fn), name);
  }

  count(name?: string): WindowResultStream<number, K, V> {
    return this.aggregate(counting<V>(), name);
  }
}

/** Window results (Windowed<K, R>), keyed by K, with the window's late records on the side. */
export class WindowResultStream<R, K, In> extends KeyedStream<Windowed<K, R>, K> {
  /** Records that arrived after their windows' allowed lateness (Flink's sideOutputLateData). */
  late(): KeyedStream<In, K> {
    return new KeyedStream(this.graph, { node: this.ref.node, port: 1 });
  }
}

export class Table<K, V> {
  constructor(
    readonly graph: LogicalGraph,
    readonly ref: InputRef,
    readonly tableName: string,
  ) {}

  /** The table's changelog as a stream (every update, deletes as null values filtered out). */
  toStream(): KeyedStream<V, K> {
    return new KeyedStream<V | null | undefined, K>(this.graph, this.ref).filter(
      (v): v is V => v !== null && v !== undefined,
    );
  }
}

/**
 * StreamApp: where a pipeline starts. Inputs are named (topics in issue 7) and declare their
 * partition count, event-time extraction, watermark strategy and idleness; the app records the
 * pipeline as a LogicalGraph and plans it into a Topology on demand.
 *
 * Bad input policy (applies to every input): a value that fails to deserialize, a timestamp
 * that is not a finite number ≥ 0, or one more than `maxFutureMs` ahead of processing time
 * goes to the dead letters with the reason; the input keeps flowing.
 */
import { SluiceError } from '../../common/index.js';
import { LogicalGraph } from '../plan/logical.js';
import { Topology } from '../plan/physical.js';
import type { Deserializer } from '../runtime/operators.js';
import { boundedOutOfOrderness, type WatermarkStrategy } from '../time/watermarks.js';
import { KeyedStream, Stream, type Table } from './dsl.js';

export interface InputOptions<V> {
  /** Partitions of the input (default 1); each has its own watermark. */
  readonly partitions?: number;
  /** Event time of a value; default the record's own timestamp (Kafka's). */
  readonly timestamp?: (value: V) => number;
  /** Default boundedOutOfOrderness(0). */
  readonly watermark?: WatermarkStrategy;
  /** A partition without records for this long (processing time) stops holding the watermark. */
  readonly idleness?: number;
  /** Values arrive as bytes and are deserialized by this (failures → dead letters). */
  readonly serde?: Deserializer<V>;
  /**
   * Ingestion time: timestamps are the processing time of arrival and event time follows the
   * processing-time clock, so windows become processing-time windows. Ignores timestamp/watermark.
   */
  readonly ingestionTime?: boolean;
}

export interface TableOptions<K, V> extends InputOptions<V> {
  /** Key of a row; default the record key. Tombstones (null values) always use the record key. */
  readonly key?: (value: V) => K;
}

export interface AppOptions {
  /** Timestamps further than this ahead of processing time are dead-lettered. Default 1 day. */
  readonly maxFutureMs?: number;
}

export class StreamApp {
  readonly graph = new LogicalGraph();
  private readonly inputs = new Set<string>();
  private readonly maxFutureMs: number;

  constructor(
    readonly applicationId: string,
    options: AppOptions = {},
  ) {
    this.maxFutureMs = options.maxFutureMs ?? 86_400_000;
  }

  private source<V>(name: string, options: InputOptions<V>, key?: (v: V) => unknown) {
    if (this.inputs.has(name)) throw new SluiceError('ALREADY_EXISTS', `input '${name}' is declared twice`);
    this.inputs.add(name);
    const partitions = options.partitions ?? 1;
    if (!(Number.isInteger(partitions) && partitions >= 1)) {
      throw new SluiceError('INVALID_CONFIG', `input '${name}': partitions must be an integer ≥ 1`);
    }
    return this.graph.add({
      kind: 'source',
      name: `source-${name}`,
      inputs: [],
      spec: {
        name,
        partitions,
        deserializer: options.serde as Deserializer<unknown> | undefined,
        timestamp: options.timestamp as ((v: unknown) => number) | undefined,
        key: key as ((v: unknown) => unknown) | undefined,
        watermark: options.watermark ?? boundedOutOfOrderness(0),
        idlenessMs: options.idleness ?? 0,
        maxFutureMs: this.maxFutureMs,
        ingestionTime: options.ingestionTime,
      },
    });
  }

  /** A record stream read from a named input. Its key is the record key until keyBy. */
  stream<V, K = unknown>(name: string, options: InputOptions<V> = {}): Stream<V, K> {
    return new Stream(this.graph, { node: this.source(name, options).id, port: 0 });
  }

  /**
   * A changelog input materialized as a table: latest value per key; a null (or undefined)
   * value with a record key deletes the row (a Kafka tombstone).
   */
  table<V, K = string>(name: string, options: TableOptions<K, V> = {}): Table<K, V> {
    const src = this.source(name, options, options.key);
    const keyed = new KeyedStream<V, K>(this.graph, { node: src.id, port: 0 });
    return keyed.toTable(name);
  }

  /** Plans the graph: chaining, repartition marks, per-task operator factories. */
  topology(): Topology {
    return new Topology(this.graph);
  }
}

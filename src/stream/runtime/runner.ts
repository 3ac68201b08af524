/**
 * TaskRunner: the poll → ingest → commit loop around one Task. Issue 7 runs one per stream
 * thread with a Kafka-backed Source and a transactional Committer; the in-memory ArraySource
 * serves bounded inputs and tests.
 *
 * Loop: poll up to maxPollRecords; ingest each batch; advance processing time (idleness,
 * processing-time timers, TTL); when commitIntervalMs has passed, run Task.commit with the
 * committer (exactly-once: outputs, changelogs and offsets in one transaction). Backpressure:
 * while operators hold more than maxPending records (async calls in flight) the runner waits
 * for them instead of polling, and counts the time as `backpressureMs`.
 *
 * Crash behaviour: nothing is acknowledged to the source except through the committer, so a
 * crash between commits replays from the last committed offsets. A failed commit rejects run();
 * the caller discards the task and restores (Task.restore / changelogs) before resuming.
 */
import type { Committer, Source, SourceBatch } from './io.js';
import { StreamRecord } from './record.js';
import type { CommitResult, Task } from './task.js';

export interface RunnerOptions {
  /** Default 100 ms (Kafka Streams' exactly-once default). */
  readonly commitIntervalMs?: number;
  /** Buffered records (async operators) above which polling pauses. Default 10 000. */
  readonly maxPending?: number;
  /** Default 1 000. */
  readonly maxPollRecords?: number;
  readonly committer?: Committer;
  /** Processing-time clock; default Date.now. Must be the task's clock. */
  readonly clock?: () => number;
  /** When a bounded source is exhausted: advance every watermark to +∞ (fire all windows). */
  readonly endOfInput?: boolean;
}

export interface RunnerMetrics {
  recordsIn: number;
  polls: number;
  commits: number;
  lastCommitMs: number;
  backpressureMs: number;
}

export class TaskRunner {
  readonly metrics: RunnerMetrics = {
    recordsIn: 0,
    polls: 0,
    commits: 0,
    lastCommitMs: 0,
    backpressureMs: 0,
  };
  private lastCommitAt: number;
  private readonly clock: () => number;

  constructor(
    readonly task: Task,
    readonly source: Source & { readonly done?: boolean },
    private readonly options: RunnerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.lastCommitAt = this.clock();
  }

  /** One poll round; returns the number of records ingested. */
  async runOnce(): Promise<number> {
    const maxPending = this.options.maxPending ?? 10_000;
    if (this.task.pending() > maxPending) {
      const t0 = performance.now();
      while (this.task.pending() > maxPending) await new Promise<void>((r) => setImmediate(r));
      this.metrics.backpressureMs += performance.now() - t0;
    }
    const batches: SourceBatch[] = await this.source.poll(this.options.maxPollRecords ?? 1000);
    this.metrics.polls++;
    let n = 0;
    for (const b of batches) {
      n += b.records.length;
      this.task.ingest(b.input, b.partition, b.records, b.nextOffset);
    }
    this.metrics.recordsIn += n;
    this.task.advanceProcessingTime();
    if (this.clock() - this.lastCommitAt >= (this.options.commitIntervalMs ?? 100)) await this.commit();
    return n;
  }

  async commit(): Promise<CommitResult> {
    const res = await this.task.commit(this.options.committer);
    this.lastCommitAt = this.clock();
    this.metrics.commits++;
    this.metrics.lastCommitMs = res.durationMs;
    return res;
  }

  /** Runs until the (bounded) source is done or the signal aborts; commits at the end. */
  async run(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      const n = await this.runOnce();
      if (n === 0) {
        if (this.source.done === true) break;
        await new Promise<void>((r) => setTimeout(r, 1));
      }
    }
    if (this.options.endOfInput === true && this.source.done === true) this.task.endOfInput();
    await this.commit();
  }
}

/** A bounded in-memory source: values per (input, partition), offsets from 0. */
export class ArraySource implements Source {
  private readonly cursors: Array<{
    input: string;
    partition: number;
    values: unknown[];
    pos: number;
    ts: (v: unknown) => number;
  }> = [];

  add<V>(
    input: string,
    partition: number,
    values: readonly V[],
    timestamp: (v: V) => number = () => 0,
  ): this {
    this.cursors.push({
      input,
      partition,
      values: [...values],
      pos: 0,
      ts: timestamp as (v: unknown) => number,
    });
    return this;
  }

  get done(): boolean {
    return this.cursors.every((c) => c.pos >= c.values.length);
  }

  /** Round-robin over partitions, up to maxRecords in total. */
  poll(maxRecords: number): SourceBatch[] {
    const out: SourceBatch[] = [];
    const live = this.cursors.filter((c) => c.pos < c.values.length);
    if (live.length === 0) return out;
    const each = Math.max(1, Math.floor(maxRecords / live.length));
    for (const c of live) {
      const end = Math.min(c.values.length, c.pos + each);
      const records: StreamRecord[] = [];
      for (let i = c.pos; i < end; i++) records.push(new StreamRecord(null, c.values[i], c.ts(c.values[i])));
      c.pos = end;
      out.push({ input: c.input, partition: c.partition, records, nextOffset: end });
    }
    return out;
  }
}

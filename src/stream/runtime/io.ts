/**
 * The boundary between the runtime and the outside world: sources feed a task batches of
 * records per (input, partition) with the offset after the batch; sinks receive output batches.
 *
 * Issue 7 backs both with Kafka: a Source is a partition-assigned consumer (one task per input
 * partition, co-partitioned inputs share a task), a Sink a transactional producer. The commit
 * protocol the runtime drives (Task.commit):
 *   1. every operator's prepareCommit() (flush async results and caches, in topological order),
 *   2. every sink's prepareCommit() (flush buffered output into the open transaction),
 *   3. the committer receives the consumed offsets (next offset per input partition) and the
 *      changelog entries, and commits them atomically with the outputs (sendOffsetsToTransaction),
 *   4. operators' and sinks' commit().
 * If step 3 fails the task is discarded and restored from the last committed state.
 *
 * Concurrency: a sink belongs to one task; write() is synchronous (buffering), only the commit
 * steps may be async.
 */
import type { ChangelogEntry } from '../state/index.js';
import type { StreamRecord } from './record.js';

export interface Sink {
  readonly name: string;
  write(records: readonly StreamRecord[]): void;
  prepareCommit?(): void | Promise<void>;
  commit?(): void | Promise<void>;
  /** The transaction failed: drop what was written since the last commit (if buffered). */
  abort?(): void;
}

/** Creates the sink for a named output (topic) in a task. */
export type SinkFactory = (name: string, taskId: string) => Sink;

/** One polled batch of one input partition; nextOffset is what a commit records as consumed. */
export interface SourceBatch {
  readonly input: string;
  readonly partition: number;
  readonly records: StreamRecord[];
  readonly nextOffset?: number;
}

/** A pull source (issue 7: a Kafka consumer); the runner polls it and feeds Task.ingest. */
export interface Source {
  poll(maxRecords: number): SourceBatch[] | Promise<SourceBatch[]>;
  close?(): void | Promise<void>;
}

/** Called at step 3 of a commit with what this task consumed; issue 7 wraps a transaction. */
export interface Committer {
  /**
   * offsets: next offset per input partition; changelog: per store name, the store's changes
   * since the last commit (deduplicated, latest wins; value null = delete) — written to
   * `<app id>-<store>-changelog` in the same transaction.
   */
  commit(
    offsets: ReadonlyMap<string, ReadonlyMap<number, number>>,
    taskId: string,
    changelog: ReadonlyMap<string, readonly ChangelogEntry[]>,
  ): void | Promise<void>;
}

/** Keeps everything written in memory, split into committed and uncommitted (test driver). */
export class CollectingSink implements Sink {
  readonly committed: StreamRecord[] = [];
  readonly uncommitted: StreamRecord[] = [];
  constructor(readonly name: string) {}
  write(records: readonly StreamRecord[]): void {
    for (let i = 0; i < records.length; i++) this.uncommitted.push(records[i]);
  }
  commit(): void {
    for (const r of this.uncommitted) this.committed.push(r);
    this.uncommitted.length = 0;
  }
  abort(): void {
    this.uncommitted.length = 0;
  }
  /** Everything written, committed first (the driver reads outputs without committing). */
  all(): StreamRecord[] {
    return [...this.committed, ...this.uncommitted];
  }
}

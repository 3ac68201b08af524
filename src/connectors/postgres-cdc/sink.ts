/**
 * The connector's output, as two narrow interfaces, and their in-memory implementations.
 *
 * `ChangeSink.send(records)` resolves only once every record is durably acknowledged
 * (Kafka: acks=all from an idempotent producer; file: written and fsync'd). Records of
 * one call, and successive calls, keep their order per topic and key.
 * `OffsetStore` keeps the connector's source offset per replication slot (Kafka: a
 * compacted topic keyed by slot; file: write-temp-fsync-rename). `save` resolves once durable.
 *
 * The no-loss rule the connector keeps: Postgres's confirmed flush LSN of the slot moves
 * to L only after every record up to L was acknowledged by the sink AND an offset ≥ L was
 * saved. Hence after any crash the sink holds every change committed at or before the
 * slot's confirmed LSN, and replay starts at the saved offset: at-least-once.
 */

export type Headers = Record<string, string>;

export interface ChangeRecord {
  topic: string;
  /** Serialized key (null for key-less tables and for the transaction topic). */
  key: Buffer | null;
  /** Serialized value; null is a tombstone. */
  value: Buffer | null;
  headers?: Headers;
}

export interface ChangeSink {
  send(records: readonly ChangeRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Snapshot progress of one table: the last primary key emitted, or done. */
export interface TableSnapshotProgress {
  done: boolean;
  /** Text form of the last key emitted, in primary-key column order. */
  lastKey: (string | null)[] | null;
  rows: number;
}

export interface SourceOffset {
  slot: string;
  /** Commit end LSN of the last transaction fully acknowledged (text form "X/Y"). */
  lsn: string;
  /** Last transaction id seen at that LSN (for the `source.txId` of resumed events). */
  txId: number | null;
  /** Present while the initial snapshot is unfinished (or finished but not yet streaming). */
  snapshot?: {
    completed: boolean;
    tables: Record<string, TableSnapshotProgress>;
  };
  /** When the offset was stored (ms since epoch). */
  ts_ms: number;
}

export interface OffsetStore {
  load(slot: string): Promise<SourceOffset | undefined>;
  save(offset: SourceOffset): Promise<void>;
  /** Forgets the slot's offset (used when an operator deliberately re-snapshots). */
  clear(slot: string): Promise<void>;
  close(): Promise<void>;
}

/** Keeps every record in memory, in order; for tests and for embedding in a process. */
export class MemoryChangeSink implements ChangeSink {
  readonly records: ChangeRecord[] = [];
  private readonly listeners = new Set<(records: readonly ChangeRecord[]) => void>();

  async send(records: readonly ChangeRecord[]): Promise<void> {
    for (const r of records) this.records.push(r);
    for (const l of this.listeners) l(records);
  }

  /** Calls `listener` with each acknowledged batch; returns an unsubscribe function. */
  onRecords(listener: (records: readonly ChangeRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}
}

export class MemoryOffsetStore implements OffsetStore {
  private readonly offsets = new Map<string, string>();

  async load(slot: string): Promise<SourceOffset | undefined> {
    const s = this.offsets.get(slot);
    return s === undefined ? undefined : (JSON.parse(s) as SourceOffset);
  }

  async save(offset: SourceOffset): Promise<void> {
    this.offsets.set(offset.slot, JSON.stringify(offset));
  }

  async clear(slot: string): Promise<void> {
    this.offsets.delete(slot);
  }

  async close(): Promise<void> {}
}

/**
 * Hands each batch to an async handler; the batch counts as acknowledged when the handler
 * resolves. This is how a stream application uses the connector as its source: process
 * (or durably enqueue) the records, then resolve — the slot advances only after that.
 */
export class CallbackChangeSink implements ChangeSink {
  constructor(private readonly handler: (records: readonly ChangeRecord[]) => Promise<void>) {}

  send(records: readonly ChangeRecord[]): Promise<void> {
    return this.handler(records);
  }

  async close(): Promise<void> {}
}

/**
 * Offsets committed inside a transaction (TxnOffsetCommit), held until the transaction ends.
 * The broker's log-backed store (log-offset-store.ts) does this durably in `__consumer_offsets`;
 * this in-memory fallback serves brokers given another OffsetStore:
 * on commit they are written to the group's offset store, on abort dropped (KIP-98: offsets
 * become visible only with the transaction's output).
 *
 * Keyed by producer id (one open transaction per producer id), then group and partition; a
 * later commit of the same partition in the same transaction replaces the earlier one.
 * Crash behaviour: pending offsets live in memory like the broker's offset store today; a
 * broker restart aborts open transactions anyway, and a transaction in PrepareCommit whose
 * offsets were lost completes without them (the consumer then re-reads: at-least-once for
 * that one transaction). Gone when offsets live in `__consumer_offsets` as transactional
 * records (Kafka's layout), which is left for the log-backed offset store.
 * Concurrency: single event loop.
 */
import { groupPartition } from '../log-offset-store.js';
import type { OffsetStore, TopicPartitionOffset } from '../offset-store.js';

/** Where TxnOffsetCommit puts offsets until the transaction ends. */
export interface TxnOffsetSink {
  /** The `__consumer_offsets` partition of a group (it joins the transaction). */
  partitionFor(groupId: string): number;
  stage(
    producerId: number,
    producerEpoch: number,
    groupId: string,
    entries: readonly TopicPartitionOffset[],
  ): Promise<void>;
}

/** In-memory sink for a broker whose offset store is not log-backed (decided on `complete`). */
export class PendingTxnOffsets implements TxnOffsetSink {
  private readonly byProducer = new Map<number, Map<string, Map<string, TopicPartitionOffset>>>();

  constructor(private readonly store: OffsetStore) {}

  partitionFor(groupId: string): number {
    return groupPartition(groupId, 50);
  }

  async stage(
    producerId: number,
    _epoch: number,
    groupId: string,
    entries: readonly TopicPartitionOffset[],
  ): Promise<void> {
    let groups = this.byProducer.get(producerId);
    if (groups === undefined) {
      groups = new Map();
      this.byProducer.set(producerId, groups);
    }
    let g = groups.get(groupId);
    if (g === undefined) {
      g = new Map();
      groups.set(groupId, g);
    }
    for (const e of entries) g.set(`${e.partition}\u0000${e.topic}`, e);
  }

  /** Groups with offsets pending in some open transaction for this partition. */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    const k = `${partition}\u0000${topic}`;
    for (const groups of this.byProducer.values()) if (groups.get(groupId)?.has(k)) return true;
    return false;
  }

  async complete(producerId: number, commit: boolean): Promise<void> {
    const groups = this.byProducer.get(producerId);
    this.byProducer.delete(producerId);
    if (!commit || groups === undefined) return;
    for (const [groupId, g] of groups) await this.store.commit(groupId, [...g.values()]);
  }
}

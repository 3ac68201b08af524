/**
 * Committed consumer-group offsets. The interface is what the group handlers need; the
 * in-memory implementation serves tests and embedded use until the log-backed store (records
 * in the compacted `__consumer_offsets` topic, replayed on start) replaces it.
 *
 * Invariant: a commit of several partitions is applied as a whole (all or none), and `commit`
 * resolves only when the offsets are durable under the store's policy.
 */

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  value: CommittedOffset;
}

export interface OffsetStore {
  commit(groupId: string, entries: readonly TopicPartitionOffset[]): Promise<void>;
  fetch(groupId: string, topic: string, partition: number): CommittedOffset | undefined;
  /** Every partition with a committed offset for the group, in commit order. */
  committed(groupId: string): { topic: string; partition: number; value: CommittedOffset }[];
  delete(groupId: string, topic: string, partition: number): Promise<void>;
  deleteGroup(groupId: string): Promise<void>;
  /** Groups with at least one committed offset. */
  groups(): string[];
  /** Transactional offsets for the partition await their transaction's decision. */
  hasPending?(groupId: string, topic: string, partition: number): boolean;
}

const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;

export class MemoryOffsetStore implements OffsetStore {
  private readonly byGroup = new Map<
    string,
    Map<string, { topic: string; partition: number; value: CommittedOffset }>
  >();

  async commit(groupId: string, entries: readonly TopicPartitionOffset[]): Promise<void> {
    let g = this.byGroup.get(groupId);
    if (g === undefined) {
      g = new Map();
      this.byGroup.set(groupId, g);
    }
    for (const e of entries)
      g.set(key(e.topic, e.partition), { topic: e.topic, partition: e.partition, value: { ...e.value } });
  }

  fetch(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(key(topic, partition))?.value;
  }

  committed(groupId: string): { topic: string; partition: number; value: CommittedOffset }[] {
    return [...(this.byGroup.get(groupId)?.values() ?? [])];
  }

  async delete(groupId: string, topic: string, partition: number): Promise<void> {
    this.byGroup.get(groupId)?.delete(key(topic, partition));
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.byGroup.delete(groupId);
  }

  groups(): string[] {
    return [...this.byGroup.keys()].filter((g) => (this.byGroup.get(g)?.size ?? 0) > 0);
  }
}

/**
 * GroupConsumer: group membership (group-member.ts) + fetching (fetcher.ts), with the
 * rebalance callbacks run inside poll().
 *
 * poll() first applies the membership's queued transitions in order, running the listener:
 *   - `assigned` (the full new assignment): onRevoked(owned − new) while those partitions are
 *     still assigned (so the callback can commit them), then they are dropped; the new ones
 *     are added without a position and onAssigned(new − owned) runs (it may seek); positions
 *     still unset are then read from the group's committed offsets (OffsetFetch requireStable,
 *     so offsets of an undecided transaction are waited for), else autoOffsetReset. After a
 *     revocation the member rejoins, so the revoked partitions can be handed over.
 *   - `lost`: onLost(partitions), then they are dropped: no record of them is returned after.
 * Only then does it return buffered records or fetch (in slices of at most 100 ms, so
 * rebalances are noticed while waiting). A partition's records are never returned before its
 * onAssigned resolved, nor after its onRevoked/onLost started.
 *
 * commit(): OffsetCommit with the current generation and member id; a generation that moved
 * on is PRODUCER_FENCED (types.ts: drop the tasks, the next poll rejoins). groupMetadata()
 * gives the producer what TxnOffsetCommit needs (KIP-447).
 * close(): onRevoked(everything assigned), LeaveGroup, then nothing more runs.
 *
 * Concurrency: the application must not call poll() concurrently with itself or close()
 * (as with Kafka's consumer); heartbeats and rebalances run in the background.
 * Crash: nothing is persisted here; a restarted consumer starts from the committed offsets.
 */
import { SluiceError } from '../../common/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type {
  GroupConsumer,
  GroupConsumerOptions,
  IncomingRecord,
  IsolationLevel,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import type { EmbeddedAdmin } from './admin.js';
import { type InProcessConnection, kafkaFailure } from './connection.js';
import { Fetcher, tpKey } from './fetcher.js';
import { GroupMembership, type Transition } from './group-member.js';
import { FETCH_SLICE_MS } from './reader.js';

export interface GroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export class EmbeddedGroupConsumer implements GroupConsumer {
  private readonly membership: GroupMembership;
  private readonly fetcher: Fetcher;
  private readonly isolationLevel: IsolationLevel;
  /** What the application sees as assigned (changed only by transitions applied in poll). */
  private readonly assigned = new Map<string, TopicPartition>();
  private started = false;
  private closed = false;

  constructor(
    private readonly conn: InProcessConnection,
    private readonly admin: EmbeddedAdmin,
    private readonly options: GroupConsumerOptions,
  ) {
    if (options.topics.length === 0)
      throw new SluiceError('INVALID_ARGUMENT', `group consumer ${options.groupId} subscribes to no topic`);
    this.isolationLevel = options.isolationLevel ?? 'read_committed';
    this.membership = new GroupMembership(conn, admin, {
      groupId: options.groupId,
      topics: options.topics,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      maxPollIntervalMs: options.maxPollIntervalMs ?? 300_000,
      groupInstanceId: options.groupInstanceId ?? null,
    });
    this.fetcher = new Fetcher(conn, admin, this.isolationLevel, (tp) => this.resetOffset(tp));
  }

  private open(): void {
    if (this.closed) throw new SluiceError('CLOSED', `group consumer ${this.options.groupId} is closed`);
  }

  private assignedOrThrow(tp: TopicPartition): void {
    if (!this.assigned.has(tpKey(tp)))
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `${tp.topic}-${tp.partition} is not assigned to this consumer`,
      );
  }

  async start(): Promise<void> {
    this.open();
    if (this.started) return;
    this.started = true;
    this.membership.start();
  }

  async poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]> {
    this.open();
    if (!this.started) throw new SluiceError('INVALID_ARGUMENT', 'poll() before start()');
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      this.membership.ensureActive();
      await this.applyTransitions();
      if (this.closed) return [];
      await this.resolvePositions();
      if (this.fetcher.hasBuffered()) return this.fetcher.take(maxRecords);
      const left = deadline - Date.now();
      if (left <= 0) return [];
      const fetched = await this.fetcher.fetchOnce(Math.min(left, FETCH_SLICE_MS));
      if (!fetched && this.membership.transitions.length === 0)
        await this.membership.waitForChange(Math.min(left, FETCH_SLICE_MS));
    }
  }

  private async applyTransitions(): Promise<void> {
    const m = this.membership;
    while (m.transitions.length > 0) {
      const t = m.transitions.shift() as Transition;
      if (t.kind === 'lost') {
        const lost = t.partitions.filter((tp) => this.assigned.has(tpKey(tp)));
        if (lost.length > 0) {
          try {
            await this.options.listener.onLost(lost);
          } finally {
            this.drop(lost);
          }
        }
        continue;
      }
      const next = new Set(t.partitions.map(tpKey));
      const revoked = [...this.assigned.values()].filter((tp) => !next.has(tpKey(tp)));
      const added = t.partitions.filter((tp) => !this.assigned.has(tpKey(tp)));
      // A throwing callback still gives the partitions up (and poll rethrows its error).
      try {
        if (revoked.length > 0) await this.options.listener.onRevoked(revoked);
      } finally {
        this.drop(revoked);
        if (t.revokes) m.revocationDone();
      }
      if (added.length > 0) {
        for (const tp of added) {
          this.assigned.set(tpKey(tp), { topic: tp.topic, partition: tp.partition });
          this.fetcher.add(tp, null);
        }
        await this.options.listener.onAssigned(added);
      }
    }
    if (m.fatal !== null) throw m.fatal;
  }

  private drop(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      this.assigned.delete(tpKey(tp));
      this.fetcher.remove(tp);
    }
  }

  /** Committed offsets (stable) of partitions without a position, else autoOffsetReset. */
  private async resolvePositions(): Promise<void> {
    const unresolved = this.fetcher.unresolved();
    if (unresolved.length === 0) return;
    const committed = await this.admin.committedOffsets(this.options.groupId, unresolved);
    const reset = committed.filter((c) => c.offset === null);
    const resetTo =
      reset.length === 0
        ? []
        : await this.admin.listOffsets(
            reset,
            this.options.autoOffsetReset ?? 'earliest',
            this.isolationLevel,
          );
    for (const c of committed) {
      // Skipped if the partition was sought or dropped meanwhile.
      if (this.fetcher.position(c) !== null || !this.fetcher.has(c)) continue;
      const offset =
        c.offset ?? resetTo.find((r) => r.topic === c.topic && r.partition === c.partition)?.offset;
      if (offset !== undefined) this.fetcher.seek(c, offset);
    }
  }

  private async resetOffset(tp: TopicPartition): Promise<number> {
    const [r] = await this.admin.listOffsets(
      [tp],
      this.options.autoOffsetReset ?? 'earliest',
      this.isolationLevel,
    );
    return (r as TopicPartitionOffset).offset;
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  position(partition: TopicPartition): number | undefined {
    if (!this.assigned.has(tpKey(partition))) return undefined;
    return this.fetcher.position(partition) ?? undefined;
  }

  seek(partition: TopicPartition, offset: number): void {
    this.open();
    this.assignedOrThrow(partition);
    if (!Number.isInteger(offset) || offset < 0)
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `offset ${offset} for ${partition.topic}-${partition.partition}`,
      );
    this.fetcher.seek(partition, offset);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.open();
    for (const tp of partitions) {
      this.assignedOrThrow(tp);
      this.fetcher.setPaused(tp, true);
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.open();
    for (const tp of partitions) {
      this.assignedOrThrow(tp);
      this.fetcher.setPaused(tp, false);
    }
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.open();
    if (offsets.length === 0) return;
    const g = this.groupMetadata();
    const byTopic = new Map<string, TopicPartitionOffset[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const r = await this.conn.call(8, {
      groupId: g.groupId,
      generationIdOrMemberEpoch: g.generationId,
      memberId: g.memberId,
      groupInstanceId: g.groupInstanceId,
      topics: [...byTopic].map(([name, os]) => ({
        name,
        partitions: os.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: -1,
          committedMetadata: '',
        })),
      })),
    });
    for (const t of r.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.ILLEGAL_GENERATION || p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID)
          this.membership.requestRejoin();
        if (p.errorCode !== 0)
          throw kafkaFailure(p.errorCode, `OffsetCommit ${g.groupId} ${t.name}-${p.partitionIndex}`);
      }
    }
  }

  /** The group metadata a transactional producer sends with the consumer's offsets (KIP-447). */
  groupMetadata(): GroupMetadata {
    return {
      groupId: this.options.groupId,
      generationId: this.membership.generationId,
      memberId: this.membership.memberId,
      groupInstanceId: this.options.groupInstanceId ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // Partitions already lost (a queued transition) are reported as lost, not revoked.
      const lost = new Set(
        this.membership.transitions.flatMap((t) => (t.kind === 'lost' ? t.partitions.map(tpKey) : [])),
      );
      const owned = this.assignment();
      const gone = owned.filter((tp) => lost.has(tpKey(tp)));
      const kept = owned.filter((tp) => !lost.has(tpKey(tp)));
      if (gone.length > 0) await this.options.listener.onLost(gone);
      if (kept.length > 0 && this.membership.fatal === null) await this.options.listener.onRevoked(kept);
    } finally {
      this.closed = true;
      this.assigned.clear();
      this.fetcher.clear();
      try {
        if (this.started) await this.membership.close();
      } finally {
        this.conn.close();
      }
    }
  }
}

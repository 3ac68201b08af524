/**
 * Admin over the broker's handlers: Metadata (describe, topic ids), CreateTopics,
 * DeleteTopics, ListOffsets, DeleteRecords (the first failed partition's code is thrown, after
 * the broker applied the others), OffsetFetch with requireStable, DescribeGroups (members'
 * consumer-protocol assignment bytes decoded with protocol/consumer-protocol.ts).
 *
 * ensureTopics: describes first and creates only the missing topics; an existing topic with
 * another partition count is INVALID_CONFIG naming it (its config is never altered). A
 * TOPIC_ALREADY_EXISTS race (someone created it between describe and create) is re-checked
 * the same way. deleteTopics ignores topics that do not exist (it is idempotent, like
 * ensureTopics). committedOffsets retries UNSTABLE_OFFSET_COMMIT (a transaction holding
 * offsets of the group is undecided) until the broker answers a stable value.
 *
 * Topic ids (Fetch v13+ names topics by id) are cached by name; `topicIds` refreshes the
 * cache for names it does not know, and `forgetTopicId` drops one after UNKNOWN_TOPIC_ID.
 * No state beyond that cache; nothing here writes except through the broker's handlers.
 */
import { SluiceError } from '../../common/index.js';
import { decodeConsumerAssignment, ErrorCode } from '../../protocol/index.js';
import { checkDeleteOffsets } from '../delete-records.js';
import type {
  Admin,
  GroupDescription,
  GroupMemberDescription,
  IsolationLevel,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
} from '../types.js';
import { type InProcessConnection, kafkaFailure, withRetries } from './connection.js';

const ADMIN_TIMEOUT_MS = 60_000;

export class EmbeddedAdmin implements Admin {
  private readonly ids = new Map<string, Buffer>();

  constructor(private readonly conn: InProcessConnection) {}

  private async metadata(topics: readonly string[]) {
    const r = await this.conn.call(3, {
      topics: topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    });
    return r.topics;
  }

  async describeTopics(topics: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    for (const t of await this.metadata(topics)) {
      if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue;
      if (t.errorCode !== 0) throw kafkaFailure(t.errorCode, `Metadata for ${t.name}`);
      out.set(t.name as string, t.partitions.length);
      this.ids.set(t.name as string, Buffer.from(t.topicId));
    }
    return out;
  }

  async listTopics(): Promise<string[]> {
    const r = await this.conn.call(3, { topics: null, allowAutoTopicCreation: false });
    return r.topics.filter((t) => t.errorCode === 0).map((t) => t.name as string);
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const check = (existing: Map<string, number>, s: TopicSpec) => {
      const n = existing.get(s.topic);
      if (n !== undefined && n !== s.partitions) {
        throw new SluiceError(
          'INVALID_CONFIG',
          `topic ${s.topic} exists with ${n} partitions, not the ${s.partitions} required`,
          { details: { topic: s.topic, partitions: n, required: s.partitions } },
        );
      }
    };
    const existing = await this.describeTopics(specs.map((s) => s.topic));
    for (const s of specs) check(existing, s);
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    const r = await this.conn.call(19, {
      topics: missing.map((s) => ({
        name: s.topic,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configs: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    const raced: TopicSpec[] = [];
    for (const t of r.topics) {
      const spec = missing.find((s) => s.topic === t.name) as TopicSpec;
      if (t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) raced.push(spec);
      else if (t.errorCode !== 0) throw kafkaFailure(t.errorCode, `CreateTopics ${t.name}`, t.errorMessage);
      else this.ids.set(t.name, Buffer.from(t.topicId));
    }
    if (raced.length > 0) {
      const now = await this.describeTopics(raced.map((s) => s.topic));
      for (const s of raced) check(now, s);
    }
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    const r = await this.conn.call(20, {
      topics: topics.map((name) => ({ name })),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    for (const t of r.responses) {
      this.ids.delete(t.name as string);
      if (t.errorCode !== 0 && t.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        throw kafkaFailure(t.errorCode, `DeleteTopics ${t.name}`, t.errorMessage);
    }
  }

  async listOffsets(
    partitions: readonly TopicPartition[],
    which: 'earliest' | 'latest',
    isolationLevel: IsolationLevel = 'read_committed',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const timestamp = which === 'earliest' ? -2 : -1;
    const byTopic = groupByTopic(partitions);
    const r = await this.conn.call(2, {
      replicaId: -1,
      isolationLevel: isolationLevel === 'read_committed' ? 1 : 0,
      topics: [...byTopic].map(([name, ps]) => ({
        name,
        partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp })),
      })),
    });
    const found = partitionAnswers(r.topics, 'ListOffsets', (p) => p.offset);
    return partitions.map((tp) => ({
      topic: tp.topic,
      partition: tp.partition,
      offset: found.get(`${tp.topic}\u0000${tp.partition}`) as number,
    }));
  }

  async deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    if (offsets.length === 0) return [];
    checkDeleteOffsets(offsets);
    const byTopic = groupByTopic(offsets, (o) => ({ partitionIndex: o.partition, offset: o.offset }));
    const r = await this.conn.call(21, {
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    const found = partitionAnswers(r.topics, 'DeleteRecords', (p) => p.lowWatermark);
    return offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: found.get(`${o.topic}\u0000${o.partition}`) as number,
    }));
  }

  async committedOffsets(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { readonly offset: number | null }>> {
    if (partitions.length === 0) return [];
    const byTopic = groupByTopic(partitions);
    const request = {
      groups: [
        { groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) },
      ],
      requireStable: true,
    };
    const found = new Map<string, number>();
    // One error code for the whole answer: the first unstable/failed partition, else 0.
    await withRetries(`OffsetFetch ${groupId}`, ADMIN_TIMEOUT_MS, async () => {
      const r = await this.conn.call(9, request);
      found.clear();
      for (const g of r.groups) {
        if (g.errorCode !== 0) return { errorCode: g.errorCode };
        for (const t of g.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) return { errorCode: p.errorCode };
            found.set(`${t.name}\u0000${p.partitionIndex}`, p.committedOffset);
          }
        }
      }
      return { errorCode: 0 };
    }).then((r) => {
      if (r.errorCode !== 0) throw kafkaFailure(r.errorCode, `OffsetFetch ${groupId}`);
    });
    return partitions.map((tp) => {
      const offset = found.get(`${tp.topic}\u0000${tp.partition}`) ?? -1;
      return { topic: tp.topic, partition: tp.partition, offset: offset < 0 ? null : offset };
    });
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const r = await this.conn.call(15, { groups: [groupId], includeAuthorizedOperations: false });
    const g = r.groups[0];
    if (g === undefined) return { groupId, state: 'Dead', members: [] };
    if (g.errorCode !== 0) throw kafkaFailure(g.errorCode, `DescribeGroups ${groupId}`);
    const members: GroupMemberDescription[] = g.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      groupInstanceId: m.groupInstanceId ?? null,
      assignment: decodeAssignmentBytes(m.memberAssignment),
    }));
    members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    return { groupId, state: g.groupState, members };
  }

  /** Topic ids by name (NOT_FOUND for a topic that does not exist). */
  async topicIds(topics: readonly string[]): Promise<Map<string, Buffer>> {
    const unknown = topics.filter((t) => !this.ids.has(t));
    if (unknown.length > 0) await this.describeTopics([...new Set(unknown)]);
    const out = new Map<string, Buffer>();
    for (const t of topics) {
      const id = this.ids.get(t);
      if (id === undefined)
        throw new SluiceError('NOT_FOUND', `topic ${t} does not exist`, { details: { topic: t } });
      out.set(t, id);
    }
    return out;
  }

  forgetTopicId(topic: string): void {
    this.ids.delete(topic);
  }
}

/** Partition numbers by topic, in first-seen topic order; with `value`, what it makes of each. */
export function groupByTopic(partitions: readonly TopicPartition[]): Map<string, number[]>;
export function groupByTopic<T extends TopicPartition, V>(
  items: readonly T[],
  value: (tp: T) => V,
): Map<string, V[]>;
export function groupByTopic<T extends TopicPartition>(
  items: readonly T[],
  value: (tp: T) => unknown = (tp) => tp.partition,
): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const tp of items) {
    let ps = out.get(tp.topic);
    if (ps === undefined) {
      ps = [];
      out.set(tp.topic, ps);
    }
    ps.push(value(tp));
  }
  return out;
}

/**
 * A per-partition answer (ListOffsets, DeleteRecords) as `topic\0partition` → `value`; the first
 * partition error is thrown, naming `what`.
 */
function partitionAnswers<P extends { partitionIndex: number; errorCode: number }>(
  topics: ReadonlyArray<{ name: string; partitions: readonly P[] }>,
  what: string,
  value: (p: P) => number,
): Map<string, number> {
  const found = new Map<string, number>();
  for (const t of topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) throw kafkaFailure(p.errorCode, `${what} ${t.name}-${p.partitionIndex}`);
      found.set(`${t.name}\u0000${p.partitionIndex}`, value(p));
    }
  }
  return found;
}

/** A member's consumer-protocol assignment as topic-partitions (empty bytes: none yet). */
export function decodeAssignmentBytes(bytes: Uint8Array | null | undefined): TopicPartition[] {
  if (bytes === null || bytes === undefined || bytes.byteLength === 0) return [];
  const a = decodeConsumerAssignment(bytes);
  const out: TopicPartition[] = [];
  for (const t of a.assignedPartitions)
    for (const partition of t.partitions) out.push({ topic: t.topic, partition });
  return out;
}

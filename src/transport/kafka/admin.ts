/**
 * Admin on librdkafka's AdminClient (its own connection, created on first use, closed by
 * KafkaTransport.close()).
 *
 * - describeTopics: DescribeTopics (Metadata); a topic the cluster does not know is absent.
 * - ensureTopics: describe, then CreateTopics for the missing ones (replication factor -1:
 *   the cluster's default); a topic created concurrently by someone else (TOPIC_ALREADY_EXISTS)
 *   is described again and checked like an existing one. Existing with another partition count
 *   = INVALID_CONFIG naming the topic; its config is never altered.
 * - listOffsets: Kafka's ListOffsets through AdminClient.listOffsets with the isolation level
 *   (v2+ of the request): 'latest' + read_committed is the broker's last stable offset (LSO),
 *   read_uncommitted the high watermark. (queryWatermarkOffsets would only give the high
 *   watermark: librdkafka sends it read_uncommitted.)
 * - deleteRecords: AdminClient.deleteRecords (librdkafka's DeleteRecords, sent to each
 *   partition's leader); per-partition errors come back in the result and the first one is
 *   thrown (mapped like every other librdkafka error: OFFSET_OUT_OF_RANGE, NOT_FOUND, …) after
 *   the others were applied. The binding has only this RdKafka form; the KafkaJS-style
 *   `deleteTopicRecords` wraps the same call for one topic.
 * - committedOffsets: OffsetFetch with requireStable (KIP-447): the broker answers
 *   UNSTABLE_OFFSET_COMMIT while a transaction holding offsets of the group is undecided;
 *   librdkafka's admin returns that per partition (it does not retry), so this retries with
 *   backoff until the decision (bounded by the request timeout): an offset is never one a
 *   pending transaction may still change. A partition without a commit (offset -1) is null.
 * - describeGroup: AdminClient.describeGroups; the binding decodes each member's
 *   consumer-protocol assignment into `assignment.topicPartitions` (memberAssignment bytes are
 *   always null there), which is what is returned.
 *
 * Concurrency: every call is independent; librdkafka serialises on its side. All calls are
 * bounded by the transport's request timeout. Nothing here writes locally: no crash behaviour.
 */

import type { IAdminClient } from '@confluentinc/kafka-javascript';
import ck from '@confluentinc/kafka-javascript';
import { SluiceError } from '../../common/index.js';
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
import {
  call,
  clientConfig,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KafkaConnectionOptions,
  kafkaError,
  RD,
  rdCode,
} from './config.js';

const { RdKafka } = ck;
const OffsetSpec = (RdKafka as unknown as { OffsetSpec: { EARLIEST: unknown; LATEST: unknown } }).OffsetSpec;
/** librdkafka's rd_kafka_consumer_group_state_t, by number. */
const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];
const ISOLATION = { read_uncommitted: 0, read_committed: 1 } as const;

export class KafkaAdmin implements Admin {
  private client: IAdminClient | undefined;
  private closed = false;
  private readonly timeoutMs: number;

  constructor(private readonly conn: KafkaConnectionOptions) {
    this.timeoutMs = conn.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private admin(): IAdminClient {
    if (this.closed) throw new SluiceError('CLOSED', 'the Kafka transport is closed');
    this.client ??= RdKafka.AdminClient.create(
      clientConfig(this.conn, `${this.conn.clientId ?? 'sluice'}-admin`, {}) as never,
    );
    return this.client;
  }

  async describeTopics(topics: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    const admin = this.admin();
    const descriptions = await call<Array<{ name: string; partitions: unknown[]; error?: unknown }>>(
      'describe topics',
      'admin',
      (cb) => admin.describeTopics([...topics], { timeout: this.timeoutMs }, cb as never),
    );
    for (const d of descriptions) {
      if (d.error !== undefined && d.error !== null) {
        const code = rdCode(d.error);
        if (code === RD.ERR_UNKNOWN_TOPIC_OR_PART || code === RD.ERR__UNKNOWN_TOPIC) continue;
        throw new SluiceError('IO', `describe topic '${d.name}': ${(d.error as Error).message}`, {
          cause: d.error,
        });
      }
      out.set(d.name, d.partitions.length);
    }
    return out;
  }

  async listTopics(): Promise<string[]> {
    const admin = this.admin();
    return await call<string[]>('list topics', 'admin', (cb) =>
      admin.listTopics({ timeout: this.timeoutMs }, cb as never),
    );
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const existing = await this.describeTopics(specs.map((s) => s.topic));
    const admin = this.admin();
    const raced: TopicSpec[] = [];
    for (const spec of specs) {
      if (!existing.has(spec.topic)) {
        try {
          await call('create topic', 'admin', (cb) =>
            admin.createTopic(
              {
                topic: spec.topic,
                num_partitions: spec.partitions,
                replication_factor: -1,
                ...(spec.config === undefined ? {} : { config: { ...spec.config } }),
              },
              this.timeoutMs,
              cb,
            ),
          );
          continue;
        } catch (err) {
          if (!(err instanceof SluiceError && err.code === 'ALREADY_EXISTS')) {
            throw new SluiceError(
              err instanceof SluiceError ? err.code : 'IO',
              `create topic '${spec.topic}': ${(err as Error).message}`,
              { cause: err },
            );
          }
          raced.push(spec);
          continue;
        }
      }
      checkPartitions(spec, existing.get(spec.topic) as number);
    }
    if (raced.length > 0) {
      const now = await this.describeTopics(raced.map((s) => s.topic));
      for (const spec of raced) checkPartitions(spec, now.get(spec.topic) ?? spec.partitions);
    }
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    const admin = this.admin();
    for (const topic of topics) {
      try {
        await call('delete topic', 'admin', (cb) => admin.deleteTopic(topic, this.timeoutMs, cb));
      } catch (err) {
        // Already gone: nothing to do (idempotent, like ensureTopics).
        if (err instanceof SluiceError && err.code === 'NOT_FOUND') continue;
        throw err;
      }
    }
  }

  async listOffsets(
    partitions: readonly TopicPartition[],
    which: 'earliest' | 'latest',
    isolationLevel: IsolationLevel = 'read_committed',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const admin = this.admin();
    const spec = which === 'earliest' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST;
    const ask = () =>
      call<Array<{ topic: string; partition: number; offset: number; error?: unknown }>>(
        'list offsets',
        'admin',
        (cb) =>
          admin.listOffsets(
            partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: spec })) as never,
            { timeout: this.timeoutMs, isolationLevel: ISOLATION[isolationLevel] as never },
            cb as never,
          ),
      );
    const results = await this.withLeaders(partitions, ask);
    const byKey = new Map(results.map((r) => [`${r.topic}\u0000${r.partition}`, r]));
    return partitions.map((p) => {
      const r = byKey.get(`${p.topic}\u0000${p.partition}`);
      if (r === undefined)
        throw new SluiceError('PROTOCOL', `list offsets: no answer for ${p.topic}[${p.partition}]`);
      if (r.error !== undefined && r.error !== null) {
        const code = rdCode(r.error);
        const kind =
          code === RD.ERR_UNKNOWN_TOPIC_OR_PART || code === RD.ERR__UNKNOWN_TOPIC ? 'NOT_FOUND' : 'IO';
        throw new SluiceError(
          kind,
          `list offsets of ${p.topic}[${p.partition}]: ${(r.error as Error).message}`,
          {
            cause: r.error,
          },
        );
      }
      return { topic: p.topic, partition: p.partition, offset: Number(r.offset) };
    });
  }

  /**
   * Runs a call addressed to partition leaders. The admin client's metadata cache may not have
   * a just-created topic's leader yet (librdkafka answers ERR__NOENT without asking the
   * cluster): refresh the topics' metadata and retry, within the request timeout; a topic the
   * cluster does not know at all is NOT_FOUND at once.
   */
  private async withLeaders<T>(partitions: readonly TopicPartition[], ask: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let backoff = 20; ; backoff = Math.min(backoff * 2, 500)) {
      try {
        return await ask();
      } catch (err) {
        const code = (err as SluiceError).details?.rdkafkaCode;
        if (
          (code !== RD.ERR__NOENT && code !== RD.ERR_LEADER_NOT_AVAILABLE) ||
          Date.now() + backoff > deadline
        )
          throw err;
        const topics = [...new Set(partitions.map((p) => p.topic))];
        const known = await this.describeTopics(topics);
        const missing = topics.find((t) => !known.has(t));
        if (missing !== undefined)
          throw new SluiceError('NOT_FOUND', `topic '${missing}' does not exist`, {
            cause: err,
            details: { topic: missing },
          });
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  async deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    if (offsets.length === 0) return [];
    checkDeleteOffsets(offsets);
    const admin = this.admin();
    type Result = { topic: string; partition: number; lowWatermark: number; error?: unknown };
    const results = await this.withLeaders(offsets, () =>
      call<Result[]>('delete records', 'admin', (cb) =>
        admin.deleteRecords(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
          // The binding reads `operation_timeout` (its JS wrapper's `operationTimeout` default is
          // never seen by the native side): how long the leader may take to apply it.
          { timeout: this.timeoutMs, operation_timeout: this.timeoutMs } as never,
          cb as never,
        ),
      ),
    );
    const byKey = new Map(results.map((r) => [`${r.topic}\u0000${r.partition}`, r]));
    return offsets.map((o) => {
      const r = byKey.get(`${o.topic}\u0000${o.partition}`);
      if (r === undefined)
        throw new SluiceError('PROTOCOL', `delete records: no answer for ${o.topic}[${o.partition}]`);
      if (r.error !== undefined && r.error !== null)
        throw kafkaError(r.error, `delete records of ${o.topic}[${o.partition}] below ${o.offset}`, 'admin');
      return { topic: o.topic, partition: o.partition, offset: Number(r.lowWatermark) };
    });
  }

  async committedOffsets(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { readonly offset: number | null }>> {
    if (partitions.length === 0) return [];
    const admin = this.admin();
    type GroupResult = {
      groupId: string;
      error?: unknown;
      partitions: Array<{ topic: string; partition: number; offset: number; error?: unknown }>;
    };
    const deadline = Date.now() + this.timeoutMs;
    for (let backoff = 10; ; backoff = Math.min(backoff * 2, 200)) {
      const results = await call<GroupResult[]>('committed offsets', 'admin', (cb) =>
        admin.listConsumerGroupOffsets(
          [{ groupId, partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) }],
          { timeout: this.timeoutMs, requireStableOffsets: true },
          cb as never,
        ),
      );
      const group = results[0];
      if (group?.error !== undefined && group?.error !== null)
        throw new SluiceError(
          'IO',
          `committed offsets of group '${groupId}': ${(group.error as Error).message}`,
          {
            cause: group.error,
          },
        );
      const byKey = new Map((group?.partitions ?? []).map((r) => [`${r.topic}\u0000${r.partition}`, r]));
      // librdkafka's admin does not retry UNSTABLE_OFFSET_COMMIT (a transaction holding offsets
      // of the group is undecided): it comes back per partition. Wait for the decision.
      const failed = [...byKey.values()].filter((r) => r.error !== undefined && r.error !== null);
      const unstable = failed.filter((r) => rdCode(r.error) === RD.ERR_UNSTABLE_OFFSET_COMMIT);
      if (failed.length > unstable.length) {
        const r = failed.find(
          (f) => rdCode(f.error) !== RD.ERR_UNSTABLE_OFFSET_COMMIT,
        ) as (typeof failed)[number];
        throw new SluiceError(
          'IO',
          `committed offsets of ${r.topic}[${r.partition}]: ${(r.error as Error).message}`,
          {
            cause: r.error,
          },
        );
      }
      if (unstable.length > 0) {
        if (Date.now() + backoff > deadline)
          throw new SluiceError(
            'TIMEOUT',
            `committed offsets of group '${groupId}': a transaction holding them was not decided within ${this.timeoutMs} ms`,
          );
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      return partitions.map((p) => {
        const r = byKey.get(`${p.topic}\u0000${p.partition}`);
        const offset = r === undefined || r.offset === undefined || r.offset === null ? -1 : Number(r.offset);
        return { topic: p.topic, partition: p.partition, offset: offset >= 0 ? offset : null };
      });
    }
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const admin = this.admin();
    type Described = {
      groups: Array<{
        groupId: string;
        error?: unknown;
        state: number;
        members: Array<{
          memberId: string;
          clientId: string;
          groupInstanceId?: string | null;
          assignment?: { topicPartitions?: Array<{ topic: string; partition: number }> } | null;
        }>;
      }>;
    };
    const r = await call<Described>('describe group', 'admin', (cb) =>
      admin.describeGroups([groupId], { timeout: this.timeoutMs }, cb as never),
    );
    const g = r.groups.find((x) => x.groupId === groupId);
    if (g === undefined) return { groupId, state: 'Dead', members: [] };
    if (g.error !== undefined && g.error !== null)
      throw new SluiceError('IO', `describe group '${groupId}': ${(g.error as Error).message}`, {
        cause: g.error,
      });
    const members: GroupMemberDescription[] = g.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      groupInstanceId: m.groupInstanceId === undefined || m.groupInstanceId === '' ? null : m.groupInstanceId,
      assignment: (m.assignment?.topicPartitions ?? []).map((tp) => ({
        topic: tp.topic,
        partition: tp.partition,
      })),
    }));
    members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    return { groupId, state: GROUP_STATES[g.state] ?? 'Unknown', members };
  }

  close(): void {
    this.closed = true;
    this.client?.disconnect();
    this.client = undefined;
  }
}

function checkPartitions(spec: TopicSpec, actual: number): void {
  if (actual !== spec.partitions)
    throw new SluiceError(
      'INVALID_CONFIG',
      `topic '${spec.topic}' exists with ${actual} partitions, not the ${spec.partitions} asked for`,
      { details: { topic: spec.topic, partitions: actual, expected: spec.partitions } },
    );
}

/**
 * GroupConsumer on librdkafka's KafkaConsumer: consumer-group membership with the
 * cooperative-sticky assignor (KIP-429, incremental rebalances), manual commits
 * (enable.auto.commit=false) and the isolation level asked for (default read_committed).
 *
 * Rebalance callbacks run inside poll(). librdkafka calls its rebalance_cb on the thread that
 * is inside consume(); the binding forwards it to the JS thread, where it is only queued
 * (`events`). librdkafka then waits, fetching nothing for the new partitions, until the
 * application calls incremental_assign / incremental_unassign. The queue is drained — the
 * listener's onAssigned / onRevoked / onLost awaited, one event at a time, in order, then
 * incrementalAssign / incrementalUnassign — only while a poll() is in progress: at its start,
 * as soon as an event arrives while the native consume is waiting, and before it returns.
 * So the callbacks never run while the caller's own code runs, and:
 *   - no record of a partition is returned before its onAssigned resolved (librdkafka does not
 *     fetch it before incrementalAssign);
 *   - after onRevoked / onLost, no record of that partition is returned: records of a
 *     partition revoked during this poll are dropped (its new owner reads them from the
 *     committed offset; the revoked owner committed its progress in onRevoked).
 * An assignment librdkafka reports as lost (session timeout, max.poll.interval.ms passed,
 * fenced generation: `assignmentLost()` read when the event arrives and again when it is
 * handled, since an orderly revocation queued while the caller did not poll can turn into a
 * loss meanwhile) goes to onLost instead of onRevoked.
 * A listener that throws does not stall the group: the assignment change is still applied
 * and the error is thrown by the next poll() (this poll's records are returned first, since
 * librdkafka's position already moved past them).
 *
 * Positions: a newly assigned partition starts at the group's committed offset (librdkafka
 * fetches it with require_stable under read_committed), else auto.offset.reset. A seek() made
 * inside onAssigned is handed to incrementalAssign as the start offset; a seek() on an assigned
 * partition is librdkafka's seek (on a worker thread; the next poll waits for it, so it
 * never returns records from before the seek).
 *
 * close(): onRevoked for everything assigned (the caller commits), incremental_unassign, then
 * librdkafka's close (leave group; static members keep their slot). Rebalance events arriving
 * while closing are acknowledged without calling the listener.
 *
 * Not thread-safe beyond the JS thread; one poll() at a time. Nothing is written locally.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { KafkaConsumer } from '@confluentinc/kafka-javascript';
import ck from '@confluentinc/kafka-javascript';
import { createLogger, SluiceError } from '../../common/index.js';
import type {
  GroupConsumer,
  GroupConsumerOptions,
  IncomingRecord,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import {
  call,
  clientConfig,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KafkaConnectionOptions,
  RD,
  tpKey,
} from './config.js';
import { consumeBatch, toIncoming, waitForFirstOnly } from './consume.js';

const { RdKafka } = ck;
const log = createLogger('transport', { impl: 'kafka' });

/** librdkafka's broker-side fetch wait: see config.ts for why 100 ms. */
export const FETCH_WAIT_MAX_MS = 100;

/** Methods the binding has that its type definitions omit. */
type RdConsumer = KafkaConsumer & {
  incrementalAssign(partitions: Array<TopicPartition & { offset?: number }>): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
  assignmentLost(): boolean;
  commitCb(tpos: TopicPartitionOffset[], cb: (err: unknown) => void): void;
};

interface RebalanceEvent {
  readonly kind: 'assign' | 'revoke';
  readonly lost: boolean;
  readonly partitions: TopicPartition[];
}

export class KafkaGroupConsumer implements GroupConsumer {
  /** The librdkafka consumer: the transactional producer takes its group metadata (KIP-447). */
  readonly consumer: RdConsumer;
  private readonly owned = new Map<string, TopicPartition>();
  private readonly paused = new Set<string>();
  /** Seeks made while a partition's onAssigned runs: its start offset for incrementalAssign. */
  private readonly assigning = new Map<string, number | undefined>();
  private readonly pendingSeeks: Promise<void>[] = [];
  private events: RebalanceEvent[] = [];
  private inPoll = false;
  private draining: Promise<void> | undefined;
  /** Keys revoked or lost since the current consume started (their records are dropped). */
  private revokedInPoll: Set<string> | undefined;
  private listenerError: unknown;
  private state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  private readonly timeoutMs: number;

  constructor(
    conn: KafkaConnectionOptions,
    private readonly options: GroupConsumerOptions,
  ) {
    this.timeoutMs = conn.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const conf = clientConfig(conn, options.clientId ?? `${conn.clientId ?? 'sluice'}-${options.groupId}`, {
      'group.id': options.groupId,
      'partition.assignment.strategy': 'cooperative-sticky',
      'isolation.level': options.isolationLevel ?? 'read_committed',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'session.timeout.ms': options.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': Math.max(100, Math.floor((options.sessionTimeoutMs ?? 10_000) / 3)),
      'max.poll.interval.ms': options.maxPollIntervalMs ?? 300_000,
      'fetch.wait.max.ms': FETCH_WAIT_MAX_MS,
      'fetch.error.backoff.ms': 50,
      'fetch.queue.backoff.ms': 0,
      ...(options.groupInstanceId === undefined ? {} : { 'group.instance.id': options.groupInstanceId }),
    });
    this.consumer = new RdKafka.KafkaConsumer(
      {
        ...conf,
        rebalance_cb: (err: { code: number } | undefined, assignment: TopicPartition[]) =>
          this.onRebalance(err, assignment),
      } as never,
      // A topic-level property: given in the global config it would be lost under this (empty
      // otherwise) default topic config.
      { 'auto.offset.reset': options.autoOffsetReset ?? 'earliest' },
    ) as RdConsumer;
    waitForFirstOnly(this.consumer);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new SluiceError('INVALID_ARGUMENT', 'group consumer already started');
    await call('connect group consumer', 'consumer', (cb) =>
      this.consumer.connect({ timeout: this.timeoutMs }, cb as never),
    );
    this.consumer.subscribe([...this.options.topics]);
    this.state = 'started';
  }

  private onRebalance(err: { code: number } | undefined, assignment: TopicPartition[]): void {
    const kind = err?.code === RD.ERR__ASSIGN_PARTITIONS ? 'assign' : 'revoke';
    const partitions = assignment.map((p) => ({ topic: p.topic, partition: p.partition }));
    if (this.state === 'closing' || this.state === 'closed') {
      // Leaving: librdkafka's close waits for this acknowledgement; the listener already ran.
      try {
        if (kind === 'assign') this.consumer.incrementalAssign(partitions);
        else this.consumer.incrementalUnassign(partitions);
      } catch (e) {
        log.debug({ err: e }, 'rebalance while closing');
      }
      return;
    }
    if (err !== undefined && err.code !== RD.ERR__ASSIGN_PARTITIONS && err.code !== RD.ERR__REVOKE_PARTITIONS)
      log.warn({ code: err.code }, 'unexpected rebalance error code; treated as a revocation');
    const lost = kind === 'revoke' && this.consumer.assignmentLost();
    this.events.push({ kind, lost, partitions });
    if (this.inPoll) this.kick();
  }

  private kick(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let e = this.events.shift(); e !== undefined; e = this.events.shift()) await this.apply(e);
  }

  /** Runs the listener for one event, then acknowledges it to librdkafka. */
  private async apply(e: RebalanceEvent): Promise<void> {
    const { listener } = this.options;
    if (e.kind === 'assign') {
      for (const p of e.partitions) {
        const k = tpKey(p.topic, p.partition);
        this.owned.set(k, p);
        this.assigning.set(k, undefined);
      }
      try {
        await listener.onAssigned(e.partitions);
      } catch (err) {
        this.listenerError ??= err;
      }
      const withStart = e.partitions.map((p) => {
        const start = this.assigning.get(tpKey(p.topic, p.partition));
        return start === undefined ? p : { ...p, offset: start };
      });
      for (const p of e.partitions) this.assigning.delete(tpKey(p.topic, p.partition));
      this.consumer.incrementalAssign(withStart);
      const toPause = e.partitions.filter((p) => this.paused.has(tpKey(p.topic, p.partition)));
      if (toPause.length > 0) this.consumer.pause(toPause);
      return;
    }
    // A revocation queued while the member did not poll may have become a loss meanwhile
    // (max.poll.interval.ms passed, the member left the group): a commit would be rejected.
    const lost = e.lost || this.consumer.assignmentLost();
    try {
      if (lost) await listener.onLost(e.partitions);
      else await listener.onRevoked(e.partitions);
    } catch (err) {
      this.listenerError ??= err;
    }
    for (const p of e.partitions) {
      const k = tpKey(p.topic, p.partition);
      this.owned.delete(k);
      this.paused.delete(k);
      this.revokedInPoll?.add(k);
    }
    this.consumer.incrementalUnassign(e.partitions);
  }

  /** Drains queued rebalance events until none is left. */
  private async settle(): Promise<void> {
    while (this.events.length > 0 || this.draining !== undefined) await (this.draining ?? this.kick());
  }

  private checkStarted(what: string): void {
    if (this.state === 'closed' || this.state === 'closing')
      throw new SluiceError('CLOSED', `${what}: the group consumer is closed`);
    if (this.state === 'new')
      throw new SluiceError('INVALID_ARGUMENT', `${what}: start() the group consumer first`);
  }

  async poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]> {
    this.checkStarted('poll');
    if (this.inPoll) throw new SluiceError('INVALID_ARGUMENT', 'poll: another poll is in progress');
    this.inPoll = true;
    try {
      await this.settle();
      if (this.pendingSeeks.length > 0) await Promise.all(this.pendingSeeks.splice(0));
      if (this.listenerError !== undefined) {
        const err = this.listenerError;
        this.listenerError = undefined;
        throw err;
      }
      const revoked = new Set<string>();
      this.revokedInPoll = revoked;
      const messages = await consumeBatch(this.consumer, maxRecords, maxWaitMs).catch((err: unknown) => {
        throw this.fatal(err);
      });
      // A rebalance event forwarded while the worker finished is handled before returning.
      await yieldToLoop();
      await this.settle();
      this.revokedInPoll = undefined;
      const out: IncomingRecord[] = [];
      for (const m of messages) {
        const k = tpKey(m.topic, m.partition);
        if (!this.owned.has(k) || revoked.has(k)) continue;
        out.push(toIncoming(m));
      }
      return out;
    } finally {
      this.revokedInPoll = undefined;
      this.inPoll = false;
    }
  }

  /**
   * librdkafka's only fatal consumer error (INTRODUCTION.md, "Fatal consumer errors") is a static
   * member fenced by another instance with its group.instance.id (FENCED_INSTANCE_ID), but
   * consume() reports it only as ERR__FATAL and the binding neither exposes
   * rd_kafka_fatal_error() nor emitted an error event for it here: name it.
   */
  private fatal(err: unknown): unknown {
    const details = (err as SluiceError).details;
    if (details?.rdkafkaCode !== RD.ERR__FATAL || this.options.groupInstanceId === undefined) return err;
    return new SluiceError(
      'PRODUCER_FENCED',
      `poll: fenced, another instance joined with group.instance.id '${this.options.groupInstanceId}' (FENCED_INSTANCE_ID; librdkafka reports a fatal error)`,
      { cause: err, kafkaErrorCode: RD.ERR_FENCED_INSTANCE_ID },
    );
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()];
  }

  position(partition: TopicPartition): number | undefined {
    const k = tpKey(partition.topic, partition.partition);
    if (!this.owned.has(k) || this.assigning.has(k) || this.pendingSeeks.length > 0) return undefined;
    try {
      const [p] = this.consumer.position([{ topic: partition.topic, partition: partition.partition }]);
      return p !== undefined && typeof p.offset === 'number' && p.offset >= 0 ? p.offset : undefined;
    } catch {
      return undefined;
    }
  }

  seek(partition: TopicPartition, offset: number): void {
    this.checkStarted('seek');
    const k = tpKey(partition.topic, partition.partition);
    if (this.assigning.has(k)) {
      this.assigning.set(k, offset);
      return;
    }
    if (!this.owned.has(k))
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `seek: ${partition.topic}[${partition.partition}] is not assigned to this member`,
      );
    const tpo = { topic: partition.topic, partition: partition.partition, offset };
    const done = call('seek', 'consumer', (cb) => this.consumer.seek(tpo, this.timeoutMs, cb as never));
    // The failure (if any) is thrown by the next poll, which waits for the seek.
    this.pendingSeeks.push(done);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.checkStarted('pause');
    const live: TopicPartition[] = [];
    for (const p of partitions) {
      const k = tpKey(p.topic, p.partition);
      this.paused.add(k);
      if (this.owned.has(k) && !this.assigning.has(k)) live.push({ topic: p.topic, partition: p.partition });
    }
    if (live.length > 0) this.consumer.pause(live);
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.checkStarted('resume');
    const live: TopicPartition[] = [];
    for (const p of partitions) {
      const k = tpKey(p.topic, p.partition);
      if (this.paused.delete(k) && this.owned.has(k) && !this.assigning.has(k))
        live.push({ topic: p.topic, partition: p.partition });
    }
    if (live.length > 0) this.consumer.resume(live);
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.checkStarted('commit');
    if (offsets.length === 0) return;
    const tpos = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    await call('commit offsets', 'consumer', (cb) => this.consumer.commitCb(tpos, cb));
    // commitCb only queues librdkafka's asynchronous commit (its result would be served by the
    // next consume()); the OffsetFetch below goes through the same group-coordinator queue and
    // connection after it, so it reads what the commit did.
    const now = await call<Array<{ topic: string; partition: number; offset: number }>>(
      'read back committed offsets',
      'consumer',
      (cb) => this.consumer.committed(tpos, this.timeoutMs, cb as never),
    );
    const missed = tpos.filter(
      (o) => !now.some((c) => c.topic === o.topic && c.partition === o.partition && c.offset === o.offset),
    );
    if (missed.length > 0)
      throw new SluiceError(
        'PRODUCER_FENCED',
        `commit offsets: not applied for ${missed.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(', ')} (the member's generation moved on)`,
      );
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state === 'new') {
      this.state = 'closed';
      return;
    }
    // Let queued events (an assignment not yet acknowledged) reach the listener first, so
    // onRevoked below covers exactly what the member owns.
    this.inPoll = true;
    try {
      await this.settle();
      const owned = [...this.owned.values()];
      if (owned.length > 0) await this.apply({ kind: 'revoke', lost: false, partitions: owned });
    } finally {
      this.inPoll = false;
      this.state = 'closing';
    }
    if (this.pendingSeeks.length > 0) await Promise.allSettled(this.pendingSeeks.splice(0));
    await new Promise<void>((resolve) => {
      this.consumer.disconnect(() => resolve());
    });
    this.state = 'closed';
    const err = this.listenerError;
    this.listenerError = undefined;
    if (err !== undefined) throw err;
  }
}

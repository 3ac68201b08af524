/**
 * Group membership, the classic consumer group protocol as a Kafka client runs it, over the
 * broker's handlers: JoinGroup (protocol type `consumer`, one protocol: cooperative-sticky,
 * the subscription carrying the owned partitions and their generation), SyncGroup (the leader
 * runs assignor.ts), Heartbeat on a timer, LeaveGroup.
 *
 * The membership runs in the background and reports to its consumer through a queue of
 * transitions, which the consumer applies (and runs the rebalance callbacks for) inside poll():
 *   - `assigned`: a SyncGroup answered; the member now owns exactly `partitions`.
 *   - `lost`: the member's ownership ended without an orderly revocation (UNKNOWN_MEMBER_ID,
 *     ILLEGAL_GENERATION, or leaving after maxPollIntervalMs without a poll).
 * `owned` is the membership's view, updated when a transition is queued; it is what the next
 * JoinGroup claims. When an assignment takes partitions away (cooperative revocation), no
 * JoinGroup is sent until `revocationDone()` — the consumer calls it once onRevoked has
 * resolved, and it rejoins — so no partition is handed to another member before its owner
 * let it go. Heartbeats continue meanwhile.
 *
 * Errors as a Kafka client handles them: MEMBER_ID_REQUIRED → rejoin with the given id;
 * REBALANCE_IN_PROGRESS (heartbeat or sync) → rejoin keeping the owned partitions;
 * ILLEGAL_GENERATION → partitions lost, rejoin; UNKNOWN_MEMBER_ID → partitions lost, rejoin as
 * a new member; FENCED_INSTANCE_ID (another instance took the group.instance.id) and other
 * unexpected answers are fatal: `fatal` is set and the consumer's next poll throws it.
 * Coordinator-unavailable answers are retried with back-off.
 *
 * Concurrency: one rebalance at a time (`rebalancing`); a rejoin requested meanwhile runs
 * once more after it. Heartbeats are not sent during a rebalance. Nothing is persisted: the
 * group's state is the broker's; committed offsets are the consumer's business.
 */
import { SluiceError } from '../../common/index.js';
import {
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  ErrorCode,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
} from '../../protocol/index.js';
import type { TopicPartition } from '../types.js';
import { type EmbeddedAdmin, groupByTopic } from './admin.js';
import { assignCooperativeSticky, COOPERATIVE_STICKY } from './assignor.js';
import { type InProcessConnection, kafkaFailure, RETRY_CODES, sleep } from './connection.js';

export type Transition =
  | {
      readonly kind: 'assigned';
      readonly generation: number;
      readonly partitions: readonly TopicPartition[];
      /** Some owned partitions were taken away: call revocationDone() after onRevoked. */
      readonly revokes: boolean;
    }
  | { readonly kind: 'lost'; readonly partitions: readonly TopicPartition[] };

export interface MembershipOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly maxPollIntervalMs: number;
  readonly groupInstanceId: string | null;
}

/** The consumer-protocol version we write (subscription with owned partitions, generation, rack). */
const CONSUMER_PROTOCOL_VERSION = 3;

const sameTps = (a: readonly TopicPartition[], b: readonly TopicPartition[]) => {
  const k = (tps: readonly TopicPartition[]) =>
    tps
      .map((tp) => `${tp.topic}\u0000${tp.partition}`)
      .sort()
      .join('\u0001');
  return k(a) === k(b);
};

export class GroupMembership {
  memberId = '';
  generationId = -1;
  owned: TopicPartition[] = [];
  fatal: SluiceError | null = null;
  /** Transitions not yet applied by the consumer, oldest first. */
  readonly transitions: Transition[] = [];
  /** When poll() last ran (maxPollIntervalMs). */
  lastPollAt = Date.now();

  private rebalancing: Promise<void> | null = null;
  private rejoinAgain = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInFlight = false;
  private closed = false;
  /** Set while an assignment's revocations wait for the consumer's onRevoked. */
  private revocation: { pending: true } | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly conn: InProcessConnection,
    private readonly admin: EmbeddedAdmin,
    private readonly opts: MembershipOptions,
  ) {}

  /** Kafka's rule of thumb: a third of the session timeout (at most 3 s, its default). */
  get heartbeatIntervalMs(): number {
    return Math.max(50, Math.min(3000, Math.floor(this.opts.sessionTimeoutMs / 3)));
  }

  start(): void {
    this.requestRejoin();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatIntervalMs);
    this.heartbeatTimer.unref?.();
  }

  /** Resolves after ms, or earlier when a transition is queued or the membership fails. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private signal(): void {
    for (const w of [...this.waiters]) w();
  }

  private push(t: Transition): void {
    this.transitions.push(t);
    this.signal();
  }

  private fail(err: SluiceError): void {
    if (this.fatal === null) this.fatal = err;
    this.signal();
  }

  /** Ownership ends without revocation: queue `lost` for what was owned. */
  private loseAll(): void {
    this.revocation = null;
    if (this.owned.length > 0) this.push({ kind: 'lost', partitions: this.owned });
    this.owned = [];
  }

  /**
   * Starts a rebalance unless one runs or a revocation is pending; then it starts when that
   * rebalance ends or the revocation is done.
   */
  requestRejoin(): void {
    if (this.closed || this.fatal !== null) return;
    if (this.rebalancing !== null || this.revocation !== null) {
      this.rejoinAgain = true;
      return;
    }
    this.rejoinAgain = false;
    this.rebalancing = this.rebalance()
      .catch((err) => {
        if (!this.closed)
          this.fail(
            err instanceof SluiceError ? err : new SluiceError('INTERNAL', String(err), { cause: err }),
          );
      })
      .finally(() => {
        this.rebalancing = null;
        if (this.rejoinAgain) this.requestRejoin();
      });
  }

  /** Poll calls this: a member that left (maxPollIntervalMs) or was dropped joins again. */
  ensureActive(): void {
    this.lastPollAt = Date.now();
    if (this.memberId === '' && this.rebalancing === null && this.revocation === null) this.requestRejoin();
  }

  /** The consumer ran onRevoked for the last assignment's revocations: rejoin to hand them over. */
  revocationDone(): void {
    this.revocation = null;
    this.requestRejoin();
  }

  private async rebalance(): Promise<void> {
    let backoff = 10;
    const retry = async () => {
      await sleep(backoff);
      backoff = Math.min(500, backoff * 2);
    };
    for (;;) {
      if (this.closed) return;
      const owned = [...groupByTopic(this.owned)].map(([topic, partitions]) => ({ topic, partitions }));
      const j = await this.conn.call(11, {
        groupId: this.opts.groupId,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        rebalanceTimeoutMs: this.opts.maxPollIntervalMs,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId,
        protocolType: 'consumer',
        protocols: [
          {
            name: COOPERATIVE_STICKY,
            metadata: encodeConsumerSubscription(CONSUMER_PROTOCOL_VERSION, {
              topics: [...this.opts.topics],
              userData: null,
              ownedPartitions: owned,
              generationId: this.generationId,
              rackId: null,
            }),
          },
        ],
      });
      if (this.closed) return;
      if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = j.memberId;
        continue;
      }
      if (j.errorCode !== 0) {
        await this.onGroupError(j.errorCode, 'JoinGroup', retry);
        continue;
      }
      this.memberId = j.memberId;
      const generation = j.generationId;
      const assignments = j.leader === j.memberId ? await this.assign(j.members) : [];
      const s = await this.conn.call(14, {
        groupId: this.opts.groupId,
        generationId: generation,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId,
        protocolType: 'consumer',
        protocolName: j.protocolName,
        assignments,
      });
      if (this.closed) return;
      if (s.errorCode !== 0) {
        await this.onGroupError(s.errorCode, 'SyncGroup', retry);
        continue;
      }
      const a = decodeConsumerAssignment(s.assignment);
      const partitions = a.assignedPartitions.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
      const revoked = this.owned.some(
        (o) => !partitions.some((p) => p.topic === o.topic && p.partition === o.partition),
      );
      this.generationId = generation;
      // Until the consumer has run onRevoked, no rejoin: it would hand the partitions over early.
      if (revoked) this.revocation = { pending: true };
      const changed = !sameTps(this.owned, partitions);
      this.owned = partitions;
      if (changed) this.push({ kind: 'assigned', generation, partitions, revokes: revoked });
      return;
    }
  }

  /** JoinGroup/SyncGroup errors: what to forget, then rejoin (or fail). */
  private async onGroupError(code: number, what: string, retry: () => Promise<void>): Promise<void> {
    switch (code) {
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.memberId = '';
        this.generationId = -1;
        this.loseAll();
        return;
      case ErrorCode.ILLEGAL_GENERATION:
        this.generationId = -1;
        this.loseAll();
        return;
      default:
        if (RETRY_CODES.has(code)) return retry();
        throw kafkaFailure(code, `${what} ${this.opts.groupId}`);
    }
  }

  /** The leader's SyncGroup assignments: cooperative-sticky over the members' subscriptions. */
  private async assign(
    members: readonly { memberId: string; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subs = members.map((m) => {
      const s = decodeConsumerSubscription(m.metadata);
      return {
        memberId: m.memberId,
        topics: s.topics,
        owned: s.ownedPartitions.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.topic, partition })),
        ),
        generation: s.generationId,
      };
    });
    const counts = await this.admin.describeTopics([...new Set(subs.flatMap((s) => s.topics))]);
    const plan = assignCooperativeSticky(subs, counts);
    return subs.map((s) => ({
      memberId: s.memberId,
      assignment: encodeConsumerAssignment(CONSUMER_PROTOCOL_VERSION, {
        assignedPartitions: [...groupByTopic(plan.get(s.memberId) ?? [])].map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        userData: null,
      }),
    }));
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.fatal !== null || this.rebalancing !== null || this.heartbeatInFlight) return;
    if (this.memberId === '' || this.generationId < 0) return;
    if (Date.now() - this.lastPollAt > this.opts.maxPollIntervalMs) {
      // The application stopped polling: leave so the group can move on (Kafka does the same).
      await this.leave().catch(() => undefined);
      this.loseAll();
      return;
    }
    this.heartbeatInFlight = true;
    try {
      const r = await this.conn.call(12, {
        groupId: this.opts.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId,
      });
      if (this.closed) return;
      switch (r.errorCode) {
        case 0:
          return;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          this.requestRejoin();
          return;
        case ErrorCode.ILLEGAL_GENERATION:
          this.generationId = -1;
          this.loseAll();
          this.requestRejoin();
          return;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.memberId = '';
          this.generationId = -1;
          this.loseAll();
          this.requestRejoin();
          return;
        default:
          if (!RETRY_CODES.has(r.errorCode))
            this.fail(kafkaFailure(r.errorCode, `Heartbeat ${this.opts.groupId}`));
      }
    } catch (err) {
      if (!this.closed)
        this.fail(err instanceof SluiceError ? err : new SluiceError('INTERNAL', String(err)));
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** LeaveGroup (the member id is forgotten: a later join is a new member). */
  async leave(): Promise<void> {
    const memberId = this.memberId;
    this.memberId = '';
    this.generationId = -1;
    if (memberId === '') return;
    const r = await this.conn.call(13, {
      groupId: this.opts.groupId,
      members: [{ memberId, groupInstanceId: this.opts.groupInstanceId, reason: 'the consumer is closing' }],
    });
    const code = r.errorCode || (r.members[0]?.errorCode ?? 0);
    if (code !== 0 && code !== ErrorCode.UNKNOWN_MEMBER_ID)
      throw kafkaFailure(code, `LeaveGroup ${this.opts.groupId}`);
  }

  /** Stops heartbeats and rebalances, leaves the group. */
  async close(): Promise<void> {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.revocation = null;
    this.closed = true;
    this.owned = [];
    this.signal();
    // A fenced member's id is no longer its own (a static member's id now names the newer
    // instance): leaving with it would be refused, or worse, remove the newer one.
    if (this.fatal === null) await this.leave();
  }
}

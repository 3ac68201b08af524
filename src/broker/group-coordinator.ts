/**
 * The classic consumer-group coordinator (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) as
 * a state machine. Time comes from an injected Scheduler, so tests drive it with a manual
 * clock; requests that must wait (a join until the rebalance completes, a sync until the
 * leader sends the assignment) return promises the coordinator settles later.
 *
 * States (Kafka's): Empty → PreparingRebalance → CompletingRebalance → Stable, and back to
 * PreparingRebalance when a member joins, leaves, changes its protocols or misses its session
 * timeout. A rebalance completes when every known member has rejoined, or when the largest
 * rebalance timeout passes (members that did not rejoin are removed). The first rebalance of
 * an empty group waits `initialRebalanceDelayMs` (group.initial.rebalance.delay.ms) so that
 * members starting together land in one generation.
 *
 * Follows Kafka's GroupCoordinator: MEMBER_ID_REQUIRED for new dynamic members from JoinGroup
 * v4 (KIP-394); static membership (group.instance.id, KIP-345): a rejoining static member
 * takes over its old entry under a new member id (the old id is fenced with
 * FENCED_INSTANCE_ID) and, when nothing changed, gets the current generation without a
 * rebalance; the chosen protocol is the one every member supports with the most first-choice
 * votes; the leader stays leader while it is a member.
 * Differences from Kafka: no group size limit, no "new member join timeout", and groups are
 * not yet persisted (offsets are, by the caller, in __consumer_offsets).
 *
 * Concurrency: one event loop; every method runs to completion. Crash: in-memory only; after
 * a restart members rejoin (their heartbeats get UNKNOWN_MEMBER_ID, as after a coordinator
 * failover in Kafka).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../protocol/index.js';

export interface Scheduler {
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** -1 (JoinGroup v0) means "same as the session timeout". */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: an unknown dynamic member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Filled for the leader only: every member with its metadata for the chosen protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocol: string;
  generationId: number;
  leader: string;
  members: MemberDescription[];
}

export interface GroupCoordinatorOptions {
  scheduler?: Scheduler;
  /** group.initial.rebalance.delay.ms (Kafka default 3000). */
  initialRebalanceDelayMs?: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
}

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  awaitingJoin: ((r: JoinResult) => void) | null;
  awaitingSync: ((r: SyncResult) => void) | null;
  cancelSession: (() => void) | null;
}

const EMPTY = Buffer.alloc(0);

class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType = '';
  protocol: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined. */
  readonly pendingMembers = new Set<string>();
  readonly staticMembers = new Map<string, string>();
  cancelRebalance: (() => void) | null = null;
  /** The first rebalance of an empty group waits out the initial delay even if all joined. */
  initialDelay = false;

  constructor(readonly groupId: string) {}

  allRejoined(): boolean {
    for (const m of this.members.values()) if (m.awaitingJoin === null) return false;
    return true;
  }

  /** Protocols every member supports. */
  candidates(): Set<string> {
    let common: Set<string> | undefined;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      if (common === undefined) common = names;
      else for (const n of common) if (!names.has(n)) common.delete(n);
    }
    return common ?? new Set<string>();
  }

  supports(protocolType: string, protocols: Protocol[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const c = this.candidates();
    return protocols.some((p) => c.has(p.name));
  }
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly scheduler: Scheduler;
  private readonly initialDelayMs: number;
  private readonly minSessionMs: number;
  private readonly maxSessionMs: number;

  constructor(options: GroupCoordinatorOptions = {}) {
    this.scheduler = options.scheduler ?? realScheduler;
    this.initialDelayMs = options.initialRebalanceDelayMs ?? 3000;
    this.minSessionMs = options.minSessionTimeoutMs ?? 6000;
    this.maxSessionMs = options.maxSessionTimeoutMs ?? 1_800_000;
  }

  private group(groupId: string, create: boolean): Group | undefined {
    let g = this.groups.get(groupId);
    if (g === undefined && create) {
      g = new Group(groupId);
      this.groups.set(groupId, g);
    }
    return g;
  }

  // ---- JoinGroup ----

  join(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = req.memberId): Promise<JoinResult> =>
      Promise.resolve({
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId,
        members: [],
      });
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.sessionTimeoutMs < this.minSessionMs || req.sessionTimeoutMs > this.maxSessionMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const g = this.group(req.groupId, true) as Group;
    if (g.state === 'Dead') return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!g.supports(req.protocolType, req.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    if (req.memberId === '') {
      if (req.groupInstanceId !== null) return this.joinStatic(g, req);
      const memberId = `${req.clientId}-${randomUUID()}`;
      if (req.requireKnownMemberId) {
        g.pendingMembers.add(memberId);
        return fail(ErrorCode.MEMBER_ID_REQUIRED, memberId);
      }
      return this.addMemberAndRebalance(g, req, memberId);
    }

    if (g.pendingMembers.has(req.memberId)) {
      g.pendingMembers.delete(req.memberId);
      return this.addMemberAndRebalance(g, req, req.memberId);
    }
    if (req.groupInstanceId !== null && g.staticMembers.get(req.groupInstanceId) !== req.memberId) {
      return fail(
        g.staticMembers.has(req.groupInstanceId) ? ErrorCode.FENCED_INSTANCE_ID : ErrorCode.UNKNOWN_MEMBER_ID,
      );
    }
    const m = g.members.get(req.memberId);
    if (m === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    return this.rejoin(g, m, req);
  }

  private joinStatic(g: Group, req: JoinRequest): Promise<JoinResult> {
    const instanceId = req.groupInstanceId as string;
    const oldId = g.staticMembers.get(instanceId);
    const newId = `${instanceId}-${randomUUID()}`;
    if (oldId === undefined) return this.addMemberAndRebalance(g, req, newId);
    const old = g.members.get(oldId) as Member;
    // The new incarnation takes the old member's place; the old id is fenced from now on.
    g.members.delete(oldId);
    old.cancelSession?.();
    const m: Member = {
      ...old,
      memberId: newId,
      cancelSession: null,
      awaitingJoin: null,
      awaitingSync: null,
    };
    this.updateMember(m, req);
    g.members.set(newId, m);
    g.staticMembers.set(instanceId, newId);
    if (g.leaderId === oldId) g.leaderId = newId;
    old.awaitingJoin?.(this.joinError(ErrorCode.FENCED_INSTANCE_ID, oldId));
    old.awaitingSync?.(this.syncError(ErrorCode.FENCED_INSTANCE_ID));
    const unchanged = sameProtocols(old.protocols, req.protocols);
    if (g.state === 'Stable' && unchanged) {
      this.touch(g, m);
      return Promise.resolve(this.joinResultFor(g, m));
    }
    return this.prepareAndWait(g, m);
  }

  private addMemberAndRebalance(g: Group, req: JoinRequest, memberId: string): Promise<JoinResult> {
    if (g.members.size === 0) g.protocolType = req.protocolType;
    const m: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: null,
      awaitingSync: null,
      cancelSession: null,
    };
    g.members.set(memberId, m);
    if (req.groupInstanceId !== null) g.staticMembers.set(req.groupInstanceId, memberId);
    if (g.leaderId === null) g.leaderId = memberId;
    return this.prepareAndWait(g, m);
  }

  private rejoin(g: Group, m: Member, req: JoinRequest): Promise<JoinResult> {
    const changed = !sameProtocols(m.protocols, req.protocols);
    this.updateMember(m, req);
    if (g.state === 'CompletingRebalance' && !changed) {
      // A lost JoinGroup response: resend the current generation.
      this.touch(g, m);
      return Promise.resolve(this.joinResultFor(g, m));
    }
    if (g.state === 'Stable' && !changed && m.memberId !== g.leaderId) {
      this.touch(g, m);
      return Promise.resolve(this.joinResultFor(g, m));
    }
    return this.prepareAndWait(g, m);
  }

  private updateMember(m: Member, req: JoinRequest): void {
    m.protocols = req.protocols;
    m.sessionTimeoutMs = req.sessionTimeoutMs;
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    m.clientId = req.clientId;
    m.clientHost = req.clientHost;
  }

  private prepareAndWait(g: Group, m: Member): Promise<JoinResult> {
    const p = new Promise<JoinResult>((resolve) => {
      m.awaitingJoin?.(this.joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId));
      m.awaitingJoin = resolve;
    });
    // While waiting for the join to complete, the rebalance timeout governs, not the session.
    m.cancelSession?.();
    m.cancelSession = null;
    this.prepareRebalance(g);
    this.maybeCompleteJoin(g);
    return p;
  }

  private prepareRebalance(g: Group): void {
    if (g.state === 'PreparingRebalance') return;
    // Members waiting for an assignment learn that a new rebalance started.
    for (const m of g.members.values()) {
      if (m.awaitingSync !== null) {
        m.awaitingSync(this.syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        m.awaitingSync = null;
      }
    }
    const initial = g.state === 'Empty';
    g.state = 'PreparingRebalance';
    let timeout = 0;
    for (const m of g.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    const delay = initial ? Math.min(this.initialDelayMs, timeout) : timeout;
    g.cancelRebalance?.();
    if (initial && delay > 0) {
      // Initial delay: completes only when it passes, even if everyone has joined already.
      g.cancelRebalance = this.scheduler.schedule(delay, () => {
        g.cancelRebalance = null;
        this.completeJoin(g);
      });
      g.initialDelay = true;
    } else {
      g.initialDelay = false;
      g.cancelRebalance = this.scheduler.schedule(timeout, () => {
        g.cancelRebalance = null;
        this.completeJoin(g);
      });
    }
  }

  private maybeCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    if (g.initialDelay) return;
    if (g.allRejoined()) this.completeJoin(g);
  }

  private completeJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    g.cancelRebalance?.();
    g.cancelRebalance = null;
    // Members that did not rejoin in time leave the group.
    for (const m of [...g.members.values()]) if (m.awaitingJoin === null) this.removeMember(g, m);
    g.generationId++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.protocol = null;
      g.leaderId = null;
      return;
    }
    g.protocol = this.selectProtocol(g);
    if (g.leaderId === null || !g.members.has(g.leaderId))
      g.leaderId = g.members.keys().next().value as string;
    g.state = 'CompletingRebalance';
    for (const m of g.members.values()) {
      m.assignment = EMPTY;
      const resolve = m.awaitingJoin;
      m.awaitingJoin = null;
      this.touch(g, m);
      resolve?.(this.joinResultFor(g, m));
    }
  }

  private selectProtocol(g: Group): string {
    const candidates = g.candidates();
    const votes = new Map<string, number>();
    for (const m of g.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  private joinResultFor(g: Group, m: Member): JoinResult {
    const isLeader = m.memberId === g.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocol,
      leader: g.leaderId ?? '',
      memberId: m.memberId,
      members: isLeader
        ? [...g.members.values()].map((x) => ({
            memberId: x.memberId,
            groupInstanceId: x.groupInstanceId,
            metadata: x.protocols.find((p) => p.name === g.protocol)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  private joinError(errorCode: number, memberId: string): JoinResult {
    return {
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId,
      members: [],
    };
  }

  // ---- SyncGroup ----

  sync(req: SyncRequest): Promise<SyncResult> {
    const g = this.group(req.groupId, false);
    if (g === undefined) return Promise.resolve(this.syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.groupInstanceId !== null && g.staticMembers.get(req.groupInstanceId) !== req.memberId) {
      const code = g.staticMembers.has(req.groupInstanceId)
        ? ErrorCode.FENCED_INSTANCE_ID
        : ErrorCode.UNKNOWN_MEMBER_ID;
      return Promise.resolve(this.syncError(code));
    }
    const m = g.members.get(req.memberId);
    if (m === undefined) return Promise.resolve(this.syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== g.generationId)
      return Promise.resolve(this.syncError(ErrorCode.ILLEGAL_GENERATION));
    if (
      (req.protocolType !== null && req.protocolType !== g.protocolType) ||
      (req.protocolName !== null && req.protocolName !== g.protocol)
    ) {
      return Promise.resolve(this.syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (g.state === 'PreparingRebalance')
      return Promise.resolve(this.syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    this.touch(g, m);
    if (g.state === 'Stable') return Promise.resolve(this.syncOk(g, m.assignment));
    // CompletingRebalance: wait for the leader's assignment.
    const p = new Promise<SyncResult>((resolve) => {
      m.awaitingSync?.(this.syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      m.awaitingSync = resolve;
    });
    if (m.memberId === g.leaderId) {
      const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      for (const x of g.members.values()) x.assignment = byMember.get(x.memberId) ?? EMPTY;
      g.state = 'Stable';
      for (const x of g.members.values()) {
        if (x.awaitingSync !== null) {
          const resolve = x.awaitingSync;
          x.awaitingSync = null;
          resolve(this.syncOk(g, x.assignment));
        }
      }
    }
    return p;
  }

  private syncOk(g: Group, assignment: Buffer): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocol, assignment };
  }

  private syncError(errorCode: number): SyncResult {
    return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
  }

  // ---- Heartbeat, LeaveGroup ----

  heartbeat(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null): number {
    const g = this.group(groupId, false);
    if (g === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (groupInstanceId !== null && g.staticMembers.get(groupInstanceId) !== memberId) {
      return g.staticMembers.has(groupInstanceId)
        ? ErrorCode.FENCED_INSTANCE_ID
        : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    const m = g.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.state === 'PreparingRebalance') {
      // Kafka keeps the member alive and tells it to rejoin.
      this.touch(g, m);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(g, m);
    return ErrorCode.NONE;
  }

  /** Removes members; each result is that member's error code. */
  leave(groupId: string, members: { memberId: string; groupInstanceId: string | null }[]): number[] {
    const g = this.group(groupId, false);
    if (g === undefined) return members.map(() => ErrorCode.UNKNOWN_MEMBER_ID);
    let removed = false;
    const results = members.map(({ memberId, groupInstanceId }) => {
      let id = memberId;
      if (groupInstanceId !== null) {
        const known = g.staticMembers.get(groupInstanceId);
        if (known === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        if (memberId !== '' && memberId !== known) return ErrorCode.FENCED_INSTANCE_ID;
        id = known;
      }
      const m = g.members.get(id);
      if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      m.awaitingJoin?.(this.joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
      m.awaitingJoin = null;
      this.removeMember(g, m);
      removed = true;
      return ErrorCode.NONE;
    });
    if (removed) this.membershipChanged(g);
    return results;
  }

  private removeMember(g: Group, m: Member): void {
    m.cancelSession?.();
    m.cancelSession = null;
    m.awaitingSync?.(this.syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    m.awaitingSync = null;
    g.members.delete(m.memberId);
    if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) {
      g.staticMembers.delete(m.groupInstanceId);
    }
    if (g.leaderId === m.memberId) g.leaderId = g.members.keys().next().value ?? null;
  }

  private membershipChanged(g: Group): void {
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') {
      if (g.members.size === 0) {
        g.cancelRebalance?.();
        g.state = 'Empty';
        g.generationId++;
        g.protocol = null;
        g.leaderId = null;
      } else this.prepareRebalance(g);
    } else if (g.state === 'PreparingRebalance') {
      this.maybeCompleteJoin(g);
      if (g.members.size === 0) {
        g.cancelRebalance?.();
        this.completeJoin(g);
      }
    }
  }

  /** Restarts a member's session timer. */
  private touch(g: Group, m: Member): void {
    m.cancelSession?.();
    m.cancelSession = this.scheduler.schedule(m.sessionTimeoutMs, () => {
      m.cancelSession = null;
      if (g.members.get(m.memberId) !== m || m.awaitingJoin !== null) return;
      this.removeMember(g, m);
      this.membershipChanged(g);
    });
  }

  // ---- admin ----

  describe(groupId: string): GroupDescription | undefined {
    const g = this.groups.get(groupId);
    if (g === undefined) return undefined;
    return {
      groupId,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol ?? '',
      generationId: g.generationId,
      leader: g.leaderId ?? '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: m.protocols.find((p) => p.name === g.protocol)?.metadata ?? EMPTY,
        assignment: m.assignment,
      })),
    };
  }

  list(): { groupId: string; protocolType: string; state: GroupState }[] {
    return [...this.groups.values()].map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      state: g.state,
    }));
  }

  /** Whether a group exists with members (OffsetCommit/DeleteGroups need this). */
  state(groupId: string): GroupState | undefined {
    return this.groups.get(groupId)?.state;
  }

  /**
   * Checks a member's right to commit offsets, with Kafka's rules (GroupCoordinator's
   * validateOffsetCommit): the member must be in the group with the group's current
   * generation. TxnOffsetCommit (`transactional`) has no state check at all, as in Kafka —
   * KIP-447 fences zombies by generation, and cooperative members keep committing their
   * transactions while a rebalance is prepared; refusing those made every exactly-once member
   * abort and rebuild its tasks for as long as a rebalance waited for a dead member's session.
   * OffsetCommit answers REBALANCE_IN_PROGRESS during a rebalance (retriable; clients commit
   * again). Kafka accepts it while the rebalance is only being prepared; Sluice keeps the
   * stricter answer its at-least-once clients were tested against.
   */
  validateMember(
    groupId: string,
    memberId: string,
    generationId: number,
    groupInstanceId: string | null,
    transactional = false,
  ): number {
    const g = this.groups.get(groupId);
    if (g === undefined || g.state === 'Empty' || g.state === 'Dead') {
      // Kafka accepts "simple" commits (generation -1, no member) for groups without members.
      return generationId < 0 && memberId === '' ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (generationId < 0 && memberId === '') return ErrorCode.NONE;
    if (groupInstanceId !== null && g.staticMembers.get(groupInstanceId) !== memberId)
      return ErrorCode.FENCED_INSTANCE_ID;
    const m = g.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (transactional) return ErrorCode.NONE;
    if (g.state === 'PreparingRebalance' || g.state === 'CompletingRebalance')
      return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** Deletes empty groups; NON_EMPTY_GROUP for groups with members. */
  delete(groupId: string): number {
    const g = this.groups.get(groupId);
    if (g === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    g.state = 'Dead';
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  /** Cancels every timer and answers waiting requests with COORDINATOR_NOT_AVAILABLE. */
  shutdown(): void {
    for (const g of this.groups.values()) {
      g.cancelRebalance?.();
      for (const m of g.members.values()) {
        m.cancelSession?.();
        m.awaitingJoin?.(this.joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId));
        m.awaitingSync?.(this.syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
        m.awaitingJoin = null;
        m.awaitingSync = null;
      }
      g.state = 'Dead';
    }
    this.groups.clear();
  }
}

function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => p.name === b[i]?.name && p.metadata.equals(b[i]?.metadata as Buffer))
  );
}

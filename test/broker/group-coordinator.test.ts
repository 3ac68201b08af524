import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GroupCoordinator,
  type JoinRequest,
  type JoinResult,
  type Scheduler,
} from '../../src/broker/index.js';
import { ErrorCode } from '../../src/protocol/index.js';

/** A clock the test moves by hand: timers fire in time order when it advances past them. */
class ManualScheduler implements Scheduler {
  private t = 0;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers
        .filter((x) => x.live && x.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = due.at;
      due.fn();
      await Promise.resolve();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
    await new Promise((r) => setImmediate(r));
  }
}

const meta = (s: string) => Buffer.from(s);

function joinReq(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: meta('m') }],
    requireKnownMemberId: true,
    ...over,
  };
}

/** JoinGroup v4+ flow: MEMBER_ID_REQUIRED, then join with the given id. */
async function newMember(
  gc: GroupCoordinator,
  over: Partial<JoinRequest> = {},
): Promise<{ id: string; join: Promise<JoinResult> }> {
  const first = await gc.join(joinReq(over));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  return { id: first.memberId, join: gc.join(joinReq({ ...over, memberId: first.memberId })) };
}

const settled = async <T>(p: Promise<T>): Promise<T | 'pending'> =>
  Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

describe('GroupCoordinator (classic protocol)', () => {
  it('members starting together land in one generation after the initial delay; the leader gets the member list', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 3000 });
    const members = [await newMember(gc), await newMember(gc), await newMember(gc)];
    assert.equal(await settled(members[0]?.join as Promise<JoinResult>), 'pending');
    await clock.advance(3000);
    const results = await Promise.all(members.map((m) => m.join));
    assert.ok(results.every((r) => r.errorCode === 0 && r.generationId === 1 && r.protocolName === 'range'));
    const leader = results.filter((r) => r.members.length === 3);
    assert.equal(leader.length, 1);
    assert.equal(leader[0]?.leader, leader[0]?.memberId);
    assert.deepEqual(new Set(leader[0]?.members.map((m) => m.memberId)), new Set(members.map((m) => m.id)));
    assert.equal(gc.describe('g')?.state, 'CompletingRebalance');
  });

  it('SyncGroup hands each member the leader assignment; heartbeats then succeed; stale generations are refused', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 0 });
    const a = await newMember(gc);
    const ra = await a.join;
    assert.equal(ra.generationId, 1);
    const b = await newMember(gc);
    // a learns about the rebalance from its heartbeat and rejoins.
    assert.equal(gc.heartbeat('g', a.id, 1, null), ErrorCode.REBALANCE_IN_PROGRESS);
    const ra2 = gc.join(joinReq({ memberId: a.id }));
    const [j1, j2] = await Promise.all([ra2, b.join]);
    assert.equal(j1.generationId, 2);
    assert.equal(j2.generationId, 2);
    const leader = j1.leader === a.id ? a.id : b.id;
    const follower = leader === a.id ? b.id : a.id;
    const followerSync = gc.sync({
      groupId: 'g',
      generationId: 2,
      memberId: follower,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    assert.equal(await settled(followerSync), 'pending');
    const leaderSync = await gc.sync({
      groupId: 'g',
      generationId: 2,
      memberId: leader,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: leader, assignment: meta('L') },
        { memberId: follower, assignment: meta('F') },
      ],
    });
    assert.deepEqual(leaderSync.assignment, meta('L'));
    assert.deepEqual((await followerSync).assignment, meta('F'));
    assert.equal(gc.describe('g')?.state, 'Stable');
    assert.equal(gc.heartbeat('g', follower, 2, null), ErrorCode.NONE);
    assert.equal(gc.heartbeat('g', follower, 1, null), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(gc.heartbeat('g', 'nobody', 2, null), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(gc.validateMember('g', follower, 2, null), ErrorCode.NONE);
    assert.equal(gc.validateMember('g', follower, 1, null), ErrorCode.ILLEGAL_GENERATION);
  });

  it('offset commits during a rebalance: OffsetCommit refused (retriable); TxnOffsetCommit checks only member and generation, as Kafka', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 0 });
    const a = await newMember(gc);
    assert.equal((await a.join).generationId, 1);
    const b = await newMember(gc); // the group prepares a rebalance; a still has generation 1
    assert.equal(gc.describe('g')?.state, 'PreparingRebalance');
    assert.equal(gc.validateMember('g', a.id, 1, null), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(gc.validateMember('g', a.id, 1, null, true), ErrorCode.NONE);
    assert.equal(gc.validateMember('g', a.id, 0, null, true), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(gc.validateMember('g', 'nobody', 1, null, true), ErrorCode.UNKNOWN_MEMBER_ID);
    // a rejoins: generation 2 is formed, the group waits for the leader's SyncGroup
    const [ja] = await Promise.all([gc.join(joinReq({ memberId: a.id })), b.join]);
    assert.equal(ja.generationId, 2);
    assert.equal(gc.describe('g')?.state, 'CompletingRebalance');
    assert.equal(gc.validateMember('g', a.id, 2, null), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(gc.validateMember('g', a.id, 2, null, true), ErrorCode.NONE);
    assert.equal(gc.validateMember('g', a.id, 1, null), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(gc.validateMember('g', a.id, 1, null, true), ErrorCode.ILLEGAL_GENERATION);
  });

  it('a member that stops heartbeating is removed after its session timeout and the rest rebalance', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 1000 });
    const a = await newMember(gc);
    const b = await newMember(gc);
    await clock.advance(1000);
    const [ja] = await Promise.all([a.join, b.join]);
    const gen = ja.generationId;
    await clock.advance(6000);
    assert.equal(gc.heartbeat('g', a.id, gen, null), ErrorCode.NONE); // a keeps beating, b does not
    await clock.advance(6000);
    assert.equal(gc.describe('g')?.members.length, 1);
    assert.equal(gc.heartbeat('g', a.id, gen, null), ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = await gc.join(joinReq({ memberId: a.id }));
    assert.equal(rejoin.generationId, gen + 1);
    assert.equal(rejoin.leader, a.id);
  });

  it('members that do not rejoin within the rebalance timeout are dropped', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 0 });
    const a = await newMember(gc, { rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
    await a.join;
    const b = await newMember(gc, { rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
    assert.equal(await settled(b.join), 'pending');
    await clock.advance(20_000); // a never rejoins
    const jb = await b.join;
    assert.equal(jb.errorCode, 0);
    assert.deepEqual(
      jb.members.map((m) => m.memberId),
      [b.id],
    );
  });

  it('LeaveGroup triggers a rebalance; the last member leaving empties the group, which can then be deleted', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 0 });
    const a = await newMember(gc);
    await a.join;
    assert.equal(gc.delete('g'), ErrorCode.NON_EMPTY_GROUP);
    assert.deepEqual(
      gc.leave('g', [
        { memberId: a.id, groupInstanceId: null },
        { memberId: 'x', groupInstanceId: null },
      ]),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    assert.equal(gc.describe('g')?.state, 'Empty');
    assert.equal(gc.validateMember('g', '', -1, null), ErrorCode.NONE); // simple commits on empty groups
    assert.equal(gc.delete('g'), ErrorCode.NONE);
    assert.equal(gc.describe('g'), undefined);
  });

  it('a restarted static member takes over its entry without a rebalance; the old incarnation is fenced', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 0 });
    const j1 = await gc.join(joinReq({ groupInstanceId: 'i-1' }));
    assert.equal(j1.errorCode, 0);
    const s1 = await gc.sync({
      groupId: 'g',
      generationId: j1.generationId,
      memberId: j1.memberId,
      groupInstanceId: 'i-1',
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: j1.memberId, assignment: meta('A') }],
    });
    assert.deepEqual(s1.assignment, meta('A'));
    const j2 = await gc.join(joinReq({ groupInstanceId: 'i-1' }));
    assert.equal(j2.errorCode, 0);
    assert.notEqual(j2.memberId, j1.memberId);
    assert.equal(j2.generationId, j1.generationId, 'no rebalance');
    assert.equal(gc.heartbeat('g', j1.memberId, j1.generationId, 'i-1'), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(gc.heartbeat('g', j2.memberId, j2.generationId, 'i-1'), ErrorCode.NONE);
    const s2 = await gc.sync({
      groupId: 'g',
      generationId: j2.generationId,
      memberId: j2.memberId,
      groupInstanceId: 'i-1',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.deepEqual(s2.assignment, meta('A'), 'keeps its assignment');
  });

  it('chooses the protocol all members support with the most first-choice votes; refuses inconsistent ones', async () => {
    const clock = new ManualScheduler();
    const gc = new GroupCoordinator({ scheduler: clock, initialRebalanceDelayMs: 100 });
    const a = await newMember(gc, {
      protocols: [
        { name: 'cooperative-sticky', metadata: meta('1') },
        { name: 'range', metadata: meta('2') },
      ],
    });
    const b = await newMember(gc, {
      protocols: [
        { name: 'range', metadata: meta('3') },
        { name: 'cooperative-sticky', metadata: meta('4') },
      ],
    });
    const c = await newMember(gc, { protocols: [{ name: 'range', metadata: meta('5') }] });
    const bad = await gc.join(joinReq({ protocols: [{ name: 'roundrobin', metadata: meta('6') }] }));
    assert.equal(bad.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const wrongType = await gc.join(joinReq({ protocolType: 'connect' }));
    assert.equal(wrongType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await clock.advance(100);
    const results = await Promise.all([a.join, b.join, c.join]);
    assert.ok(results.every((r) => r.protocolName === 'range'));
    const leader = results.find((r) => r.members.length > 0);
    assert.deepEqual(leader?.members.map((m) => m.metadata.toString()).sort(), ['2', '3', '5']);
    const tooShort = await gc.join(joinReq({ sessionTimeoutMs: 10 }));
    assert.equal(tooShort.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    gc.shutdown();
  });
});

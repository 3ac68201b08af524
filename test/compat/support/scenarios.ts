/**
 * The compatibility checks, written once and run with each client through a small adapter:
 * the client under test produces and consumes; an observer (kafkajs admin: DescribeGroups,
 * OffsetFetch, ListOffsets) reads the broker's view. The checks:
 *
 * - roundTrip: 100 000 records per codec into a one-partition topic, consumed back in order,
 *   byte-identical keys, values, headers and timestamps (what the client can carry).
 * - group: three members split six partitions (disjoint, complete, two each); when one leaves
 *   the other two take everything; when a new one joins it is three again. The members
 *   consume and commit; the committed offsets survive a broker crash (SIGKILL) and a member
 *   started afterwards continues from them (reads only the records produced after).
 * - idempotent: the proxy cuts the connection instead of delivering a Produce response; the
 *   client retries the batch (same producer id and sequence) and the log holds it once.
 * - byTimestamp: the client's ListOffsets by timestamp finds the first record at or after it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Admin } from 'kafkajs';
import { decodeConsumerAssignment } from '../../../src/protocol/index.js';
import { type CompatBroker, waitFor } from './harness.js';

const require = createRequire(import.meta.url);

export async function observer(bootstrap: string): Promise<Admin> {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({
    clientId: 'observer',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100 },
  }).admin();
  await admin.connect();
  return admin;
}

/** The broker's view of a group: state and each member's assigned partitions ("topic-p"). */
export async function groupView(
  admin: Admin,
  group: string,
): Promise<{ state: string; members: string[][] }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0];
  if (g === undefined) return { state: 'Dead', members: [] };
  return {
    state: g.state,
    members: g.members.map((m) => {
      if (m.memberAssignment.length === 0) return [];
      const a = decodeConsumerAssignment(m.memberAssignment);
      return a.assignedPartitions.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)).sort();
    }),
  };
}

/** Waits until the group is Stable with `n` members that split `partitions` disjointly and completely. */
export async function waitForSplit(
  admin: Admin,
  group: string,
  topic: string,
  partitions: number,
  n: number,
) {
  const want = Array.from({ length: partitions }, (_, p) => `${topic}-${p}`).sort();
  return waitFor(
    `group ${group}: ${n} members splitting ${partitions} partitions`,
    async () => {
      const v = await groupView(admin, group);
      if (v.state !== 'Stable' || v.members.length !== n) return undefined;
      const all = v.members.flat().sort();
      if (JSON.stringify(all) !== JSON.stringify(want)) return undefined;
      // a fair split: sizes differ by at most one
      const sizes = v.members.map((m) => m.length);
      if (Math.max(...sizes) - Math.min(...sizes) > 1) return undefined;
      return v;
    },
    45_000,
  );
}

export async function committedTotal(admin: Admin, group: string, topic: string): Promise<number> {
  const r = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (r[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export async function highWatermarks(admin: Admin, topic: string): Promise<number> {
  const r = await admin.fetchTopicOffsets(topic);
  return r.reduce((n, p) => n + Number(p.high), 0);
}

/** A consumer-group member of the client under test. */
export interface Member {
  /** Records (value strings) received so far. */
  received: string[];
  /** Leaves the group (closes the consumer). */
  close(): Promise<void>;
}

export interface GroupAdapter {
  /** Starts a member of `group` subscribed to `topic`, committing what it consumes. */
  member(bootstrap: string, group: string, topic: string): Promise<Member>;
  /** Produces string values spread over the topic's partitions. */
  produce(bootstrap: string, topic: string, values: string[]): Promise<void>;
}

export async function groupScenario(env: CompatBroker, client: GroupAdapter, name: string): Promise<void> {
  const admin = await observer(env.bootstrap);
  const topic = `${name}-grp`;
  const group = `${name}-group`;
  const members: Member[] = [];
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const first = Array.from({ length: 600 }, (_, i) => `a${i}`);
    await client.produce(env.bootstrap, topic, first);
    for (let i = 0; i < 3; i++) members.push(await client.member(env.bootstrap, group, topic));
    await waitForSplit(admin, group, topic, 6, 3);
    // one leaves: the two others take over its partitions
    await members.shift()?.close();
    await waitForSplit(admin, group, topic, 6, 2);
    // one joins: three again
    members.push(await client.member(env.bootstrap, group, topic));
    await waitForSplit(admin, group, topic, 6, 3);
    // everything consumed and committed
    let committed = -1;
    await waitFor('600 offsets committed', async () => {
      committed = await committedTotal(admin, group, topic);
      return committed === 600 ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(
        `${err.message} (last seen ${committed}; members received ${members.map((m) => m.received.length).join(', ')})`,
      );
    });
    for (const m of members.splice(0)) await m.close();
    await admin.disconnect();

    await env.restart('SIGKILL');

    const after = await observer(env.bootstrap);
    try {
      assert.equal(await committedTotal(after, group, topic), 600, 'committed offsets survive a crash');
      const second = Array.from({ length: 60 }, (_, i) => `b${i}`);
      await client.produce(env.bootstrap, topic, second);
      const m = await client.member(env.bootstrap, group, topic);
      members.push(m);
      await waitFor('the 60 new records', () => (m.received.length >= 60 ? true : undefined));
      await waitFor('60 more offsets committed', async () =>
        (await committedTotal(after, group, topic)) === 660 ? true : undefined,
      );
      assert.deepEqual(
        [...m.received].sort(),
        [...second].sort(),
        'a member after the restart continues from the committed offsets',
      );
    } finally {
      for (const mm of members.splice(0)) await mm.close();
      await after.disconnect();
    }
  } finally {
    for (const m of members) await m.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Idempotent retry: `produce` sends `values` with an idempotent producer; the proxy swallows the
 * first Produce response (cutting the connection), so the client must retry.
 */
export async function idempotentScenario(
  env: CompatBroker,
  name: string,
  produce: (bootstrap: string, topic: string, values: string[]) => Promise<void>,
  consume: (bootstrap: string, topic: string, n: number) => Promise<string[]>,
): Promise<void> {
  const admin = await observer(env.bootstrap);
  const topic = `${name}-idem`;
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const values = Array.from({ length: 1000 }, (_, i) => `idem-${i}`);
    const before = env.proxy.dropped;
    env.proxy.dropNextProduceResponse();
    await produce(env.bootstrap, topic, values);
    assert.equal(env.proxy.dropped, before + 1, 'a Produce response was swallowed (the client had to retry)');
    assert.equal(await highWatermarks(admin, topic), 1000, 'the retried batch is in the log once');
    const got = await consume(env.bootstrap, topic, 1000);
    assert.deepEqual(got, values);
  } finally {
    await admin.disconnect();
  }
}

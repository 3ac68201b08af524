/**
 * The cooperative-sticky assignor as a pure function, with fast-check: from any valid prior
 * ownership, the first round never hands a partition to a member other than its owner, a
 * second round (after the revocations) assigns every partition exactly once, balanced, and
 * revokes nothing more; members keep what balance lets them keep; the result does not depend
 * on member order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AssignorMember, assignCooperativeSticky } from '../../src/transport/embedded/assignor.js';
import type { TopicPartition } from '../../src/transport/index.js';

const k = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;

const scenario = fc
  .record({
    counts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
    members: fc.integer({ min: 1, max: 6 }),
    seed: fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 24, maxLength: 24 }),
  })
  .map(({ counts, members, seed }) => {
    const topics = counts.map((_, i) => `t${i}`);
    const partitionCounts = new Map(counts.map((n, i) => [`t${i}`, n]));
    const all = topics.flatMap((topic, i) =>
      Array.from({ length: counts[i] as number }, (_, partition) => ({ topic, partition })),
    );
    const ids = Array.from({ length: members }, (_, i) => `member-${String.fromCharCode(97 + i)}`);
    // Prior ownership: each partition owned by one member, or by nobody (-1 / out of range).
    const owned = new Map<string, TopicPartition[]>(ids.map((id) => [id, []]));
    all.forEach((tp, i) => {
      const who = seed[i % seed.length] as number;
      if (who >= 0 && who < members) owned.get(ids[who] as string)?.push(tp);
    });
    const ms: AssignorMember[] = ids.map((memberId) => ({
      memberId,
      topics,
      owned: owned.get(memberId) as TopicPartition[],
      generation: 3,
    }));
    return { ms, partitionCounts, all };
  });

describe('cooperative-sticky assignor', () => {
  it('revokes before reassigning, then converges to a balanced, complete, sticky assignment', () => {
    fc.assert(
      fc.property(scenario, ({ ms, partitionCounts, all }) => {
        const owner = new Map<string, string>();
        for (const m of ms) for (const tp of m.owned) owner.set(k(tp), m.memberId);
        const round1 = assignCooperativeSticky(ms, partitionCounts);
        const given1 = [...round1.values()].flat().map(k);
        assert.equal(new Set(given1).size, given1.length, 'round 1 gives no partition twice');
        for (const [memberId, tps] of round1) {
          for (const tp of tps) {
            const o = owner.get(k(tp));
            assert.ok(
              o === undefined || o === memberId,
              `${k(tp)} is owned by ${o}, not given to ${memberId}`,
            );
          }
        }
        // The members give up what round 1 took away and rejoin with what they kept.
        const next = ms.map((m) => ({ ...m, owned: round1.get(m.memberId) ?? [], generation: 4 }));
        const round2 = assignCooperativeSticky(next, partitionCounts);
        const given2 = [...round2.values()].flat().map(k);
        assert.deepEqual([...given2].sort(), all.map(k).sort(), 'round 2 assigns every partition once');
        const sizes = [...round2.values()].map((l) => l.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
        const floor = Math.floor(all.length / ms.length);
        for (const m of next) {
          const now = new Set((round2.get(m.memberId) ?? []).map(k));
          assert.ok(
            m.owned.every((tp) => now.has(k(tp))),
            'round 2 revokes nothing',
          );
          const original = ms.find((x) => x.memberId === m.memberId) as AssignorMember;
          const kept = original.owned.filter((tp) => now.has(k(tp))).length;
          assert.ok(
            kept >= Math.min(original.owned.length, floor),
            `${m.memberId} kept ${kept} of ${original.owned.length} (fair share ${floor})`,
          );
        }
        // Deterministic: member order does not matter.
        const reversed = assignCooperativeSticky([...ms].reverse(), partitionCounts);
        assert.deepEqual(new Map([...reversed].sort()), new Map([...round1].sort()));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores owned partitions of topics a member does not subscribe to or that no longer exist', () => {
    const plan = assignCooperativeSticky(
      [
        {
          memberId: 'a',
          topics: ['x'],
          owned: [
            { topic: 'x', partition: 0 },
            { topic: 'y', partition: 0 },
            { topic: 'x', partition: 9 },
          ],
          generation: 1,
        },
        { memberId: 'b', topics: ['x', 'y'], owned: [], generation: -1 },
      ],
      new Map([
        ['x', 2],
        ['y', 1],
      ]),
    );
    assert.deepEqual(plan.get('a'), [{ topic: 'x', partition: 0 }]);
    assert.deepEqual(plan.get('b'), [
      { topic: 'x', partition: 1 },
      { topic: 'y', partition: 0 },
    ]);
  });

  it('when two members claim one partition, the newer generation keeps it', () => {
    const plan = assignCooperativeSticky(
      [
        { memberId: 'a', topics: ['x'], owned: [{ topic: 'x', partition: 0 }], generation: 5 },
        { memberId: 'b', topics: ['x'], owned: [{ topic: 'x', partition: 0 }], generation: 4 },
      ],
      new Map([['x', 2]]),
    );
    assert.deepEqual(plan.get('a'), [{ topic: 'x', partition: 0 }]);
    assert.deepEqual(plan.get('b'), [{ topic: 'x', partition: 1 }]);
  });
});

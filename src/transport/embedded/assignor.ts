/**
 * The COOPERATIVE-STICKY partition assignor (Kafka's `cooperative-sticky`), run by the group
 * leader: a pure function from the members' subscriptions (topics, owned partitions,
 * generation) and the partition counts to each member's assignment.
 *
 * 1. Valid ownership: a member keeps claim to an owned partition that still exists and whose
 *    topic it subscribes to; when two members claim one partition, the claim from the
 *    higher generation wins (ties: neither keeps it).
 * 2. Sticky and balanced target: unowned partitions go, in (topic, partition) order, to the
 *    eligible member with the fewest partitions; then, while some member has at least two
 *    more than another member subscribed to one of its topics, its last such partition moves.
 *    For members with equal subscriptions this ends with counts differing by at most one, and
 *    no partition moves unless balance needs it.
 * 3. Cooperative (incremental) adjustment: a partition the target gives to a member other
 *    than its current owner is left out of this round's assignment altogether. The owner
 *    sees it revoked, gives it up (onRevoked) and rejoins; the next round finds it unowned
 *    and hands it to its new member. So no partition is ever owned by two members at once.
 *
 * Deterministic: ties are broken by member id, partitions are handled in sorted order.
 */
import type { TopicPartition } from '../types.js';

export const COOPERATIVE_STICKY = 'cooperative-sticky';

export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly owned: readonly TopicPartition[];
  /** The generation the owned partitions are from (-1 unknown). */
  readonly generation: number;
}

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/**
 * Each member's assignment for this round. `partitionCounts` holds every subscribed topic
 * that exists; topics absent from it are ignored.
 */
export function assignCooperativeSticky(
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const ordered = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const subscribed = new Map(ordered.map((m) => [m.memberId, new Set(m.topics)]));
  const eligible = (memberId: string, tp: TopicPartition) => subscribed.get(memberId)?.has(tp.topic) === true;

  // 1. valid ownership
  const claims = new Map<
    string,
    { memberId: string; generation: number; tp: TopicPartition; tie: boolean }
  >();
  for (const m of ordered) {
    for (const tp of m.owned) {
      const n = partitionCounts.get(tp.topic);
      if (n === undefined || tp.partition < 0 || tp.partition >= n || !eligible(m.memberId, tp)) continue;
      const k = key(tp);
      const c = claims.get(k);
      if (c === undefined || m.generation > c.generation)
        claims.set(k, { memberId: m.memberId, generation: m.generation, tp, tie: false });
      else if (m.generation === c.generation && c.memberId !== m.memberId) c.tie = true;
    }
  }
  const current = new Map<string, string>(); // partition key -> owner
  const target = new Map<string, TopicPartition[]>(ordered.map((m) => [m.memberId, []]));
  for (const [k, c] of claims) {
    if (c.tie) continue;
    current.set(k, c.memberId);
    target.get(c.memberId)?.push(c.tp);
  }

  // 2. sticky, balanced target
  const all: TopicPartition[] = [];
  for (const [topic, n] of [...partitionCounts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (!ordered.some((m) => subscribed.get(m.memberId)?.has(topic))) continue;
    for (let partition = 0; partition < n; partition++) all.push({ topic, partition });
  }
  const count = (id: string) => (target.get(id) as TopicPartition[]).length;
  for (const tp of all) {
    if (current.has(key(tp))) continue;
    let best: string | undefined;
    for (const m of ordered) {
      if (eligible(m.memberId, tp) && (best === undefined || count(m.memberId) < count(best)))
        best = m.memberId;
    }
    if (best !== undefined) target.get(best)?.push(tp);
  }
  for (const list of target.values()) list.sort(compareTp);
  for (;;) {
    let moved = false;
    const bySize = [...ordered].sort((a, b) => count(b.memberId) - count(a.memberId));
    outer: for (const from of bySize) {
      for (const to of [...bySize].reverse()) {
        if (count(from.memberId) - count(to.memberId) < 2) break;
        const list = target.get(from.memberId) as TopicPartition[];
        for (let i = list.length - 1; i >= 0; i--) {
          const tp = list[i] as TopicPartition;
          if (!eligible(to.memberId, tp)) continue;
          list.splice(i, 1);
          const dest = target.get(to.memberId) as TopicPartition[];
          dest.push(tp);
          dest.sort(compareTp);
          moved = true;
          break outer;
        }
      }
    }
    if (!moved) break;
  }

  // 3. cooperative: partitions changing owner are assigned to nobody this round
  const out = new Map<string, TopicPartition[]>();
  for (const [memberId, list] of target) {
    out.set(
      memberId,
      list.filter((tp) => {
        const owner = current.get(key(tp));
        return owner === undefined || owner === memberId;
      }),
    );
  }
  return out;
}

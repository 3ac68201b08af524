/**
 * Standby replicas (Kafka Streams' num.standby.replicas): warm copies of other instances'
 * task state, kept by reading the tasks' changelog partitions, so a task that moves here
 * restores only the changelog's tail.
 *
 * Placement (placeStandbys, a pure function every member evaluates alike): the group's
 * assignor is librdkafka's on the kafka transport, so standbys are derived from the group's
 * membership (Admin.describeGroup) instead of being assigned. A member's client id is
 * `<app>-<instance>-<thread>-consumer` (StreamThread.open), so each member names its instance
 * and thread. For each task with stores, its owner is the member assigned the task's primary
 * partition; its standbys are the `replicas` instances following the owner's instance in
 * sorted instance-id order (never the owner's instance; fewer when there are fewer other
 * instances), and within such an instance the thread `threads[(sub-topology + partition) mod
 * count]` of its sorted thread indexes. A task with no owner in the description (mid
 * rebalance) keeps the standby it has and gets no new one.
 *
 * Format: per standby task and changelog topic, key (latin1 of the key bytes) → latest
 * non-null value, and the reader position (next offset to apply). A null value deletes.
 * Invariant: the map equals the changelog's committed content below `position` (read
 * read_committed from the log start), so map + the tail from `position` to the last stable
 * offset is what a restore from the log start would give.
 * Concurrency: owned by one StreamThread; refresh/poll/take run inside its loop (step or its
 * rebalance callbacks), never concurrently. Crash behaviour: nothing here writes; a crash
 * loses only the warm copies, which are rebuilt from the changelogs.
 * Memory: a standby holds the same data the active store holds.
 */
import type { Logger } from '../../common/index.js';
import type {
  GroupDescription,
  PartitionReader,
  TopicPartitionOffset,
  Transport,
} from '../../transport/index.js';
import type { AppPlan, SubTopology } from '../plan/subtopology.js';
import { ownsStore } from '../plan/subtopology.js';
import { changelogTopic } from '../state/index.js';

/** Per standby task, as shown in the thread metrics. */
export interface StandbyTaskMetrics {
  /** Sum over its changelog partitions of end offset (last stable) − position; null before measured. */
  changelogLag: number | null;
  /** Changelog records applied to the warm copy since the standby was created. */
  recordsApplied: number;
}

/** A standby's warm content of one changelog partition, handed to the restore. */
export interface WarmChangelog {
  readonly entries: Map<string, { key: Buffer; value: Buffer }>;
  /** Next changelog offset to apply. */
  readonly position: number;
}

interface StandbyTask {
  readonly id: string;
  readonly st: SubTopology;
  readonly partition: number;
  /** Changelog topic → warm content. */
  readonly changelogs: Map<
    string,
    { entries: Map<string, { key: Buffer; value: Buffer }>; position: number }
  >;
  readonly metrics: StandbyTaskMetrics;
}

export interface StandbyHost {
  readonly transport: Transport;
  readonly plan: AppPlan;
  readonly applicationId: string;
  readonly instanceId: string;
  readonly thread: number;
  readonly replicas: number;
  readonly partitions: ReadonlyMap<string, number>;
  readonly clientId: string;
  readonly log: Logger;
  /** Store names that may have a changelog (as for restore). */
  storeNames(): Promise<readonly string[]>;
  /** Task ids active on this thread (never also a standby here). */
  activeTasks(): ReadonlySet<string>;
}

/** `<app>-<instance>-<thread>-consumer` → instance and thread; undefined for other clients. */
export function memberIdentity(
  applicationId: string,
  clientId: string,
): { instance: string; thread: number } | undefined {
  const prefix = `${applicationId}-`;
  const suffix = '-consumer';
  if (!clientId.startsWith(prefix) || !clientId.endsWith(suffix)) return undefined;
  const m = /^(.+)-(\d+)$/.exec(clientId.slice(prefix.length, clientId.length - suffix.length));
  if (m === null) return undefined;
  return { instance: m[1] as string, thread: Number(m[2]) };
}

export interface StandbyCandidate {
  readonly id: string;
  readonly subTopology: number;
  readonly topic: string;
  readonly partition: number;
}

/**
 * Task id → the instance/thread pairs that keep its standbys ('' owner = unknown: no entry).
 * Deterministic: depends only on the description's members and assignments.
 */
export function placeStandbys(
  group: GroupDescription,
  applicationId: string,
  tasks: readonly StandbyCandidate[],
  replicas: number,
): Map<string, Array<{ instance: string; thread: number }>> {
  const threadsOf = new Map<string, number[]>();
  const ownerOf = new Map<string, string>();
  for (const m of group.members) {
    const who = memberIdentity(applicationId, m.clientId);
    if (who === undefined) continue;
    let ts = threadsOf.get(who.instance);
    if (ts === undefined) threadsOf.set(who.instance, (ts = []));
    if (!ts.includes(who.thread)) ts.push(who.thread);
    for (const tp of m.assignment) ownerOf.set(`${tp.topic}\0${tp.partition}`, who.instance);
  }
  const instances = [...threadsOf.keys()].sort();
  for (const ts of threadsOf.values()) ts.sort((a, b) => a - b);
  const out = new Map<string, Array<{ instance: string; thread: number }>>();
  for (const t of tasks) {
    const owner = ownerOf.get(`${t.topic}\0${t.partition}`);
    if (owner === undefined) continue;
    const at = instances.indexOf(owner);
    const chosen: Array<{ instance: string; thread: number }> = [];
    for (let k = 1; k <= replicas && k < instances.length; k++) {
      const instance = instances[(at + k) % instances.length] as string;
      const ts = threadsOf.get(instance) as number[];
      chosen.push({ instance, thread: ts[(t.subTopology + t.partition) % ts.length] as number });
    }
    out.set(t.id, chosen);
  }
  return out;
}

const REFRESH_MS = 2_000;
/** While the group rebalances (or a refresh failed): how soon to describe it again. */
const RETRY_MS = 200;

export class StandbyTasks {
  private reader: PartitionReader | undefined;
  private readonly tasks = new Map<string, StandbyTask>();
  /** `topic\0partition` → standby task reading it. */
  private readonly byPartition = new Map<string, StandbyTask>();
  private assigned = new Set<string>();
  private dirty = true;
  private lastRefresh = 0;
  /** Task id → metrics, shared with ThreadMetrics.standbys. */
  readonly metrics: Record<string, StandbyTaskMetrics> = {};

  constructor(private readonly host: StandbyHost) {}

  /** After an assignment change: re-place at the next step. */
  invalidate(): void {
    this.dirty = true;
  }

  get taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  /**
   * One round inside the thread's step: re-places the standbys when the assignment changed
   * or every REFRESH_MS, then applies what the reader has, without waiting.
   */
  async step(maxRecords: number): Promise<void> {
    try {
      await this.apply(maxRecords);
    } catch (e) {
      // A standby is an optimisation: a failed read or description never fails the thread.
      this.dirty = true;
      this.host.log.info({ err: e }, 'standby refresh failed; retrying');
    }
  }

  private async apply(maxRecords: number): Promise<void> {
    const since = Date.now() - this.lastRefresh;
    if ((this.dirty && since >= RETRY_MS) || since >= REFRESH_MS) await this.refresh();
    if (this.reader === undefined || this.byPartition.size === 0) return;
    const recs = await this.reader.poll(maxRecords, 0);
    for (const r of recs) {
      const sb = this.byPartition.get(`${r.topic}\0${r.partition}`);
      if (sb === undefined) continue;
      const cl = sb.changelogs.get(r.topic);
      if (cl === undefined || r.offset < cl.position) continue;
      if (r.key !== null) {
        const k = r.key.toString('latin1');
        if (r.value === null) cl.entries.delete(k);
        else cl.entries.set(k, { key: r.key, value: r.value });
      }
      cl.position = r.offset + 1;
      sb.metrics.recordsApplied++;
    }
    for (const sb of this.tasks.values()) {
      for (const [topic, cl] of sb.changelogs) {
        const p = this.reader.position({ topic, partition: sb.partition });
        if (p > cl.position) cl.position = p; // past markers / aborted records
      }
    }
  }

  /** Reads the membership and adopts this thread's share of standbys. */
  async refresh(): Promise<void> {
    const h = this.host;
    this.lastRefresh = Date.now();
    const group = await h.transport.admin.describeGroup(h.applicationId);
    if (group.state !== 'Stable') return; // assignments in flux: keep what we have, retry
    const stores = await h.storeNames();
    const topicsOf = new Map<number, string[]>();
    const candidates: StandbyCandidate[] = [];
    for (const st of h.plan.subTopologies) {
      const own = stores.filter((s) => ownsStore(st, s)).map((s) => changelogTopic(h.applicationId, s));
      if (own.length === 0) continue;
      topicsOf.set(st.id, own);
      const n = h.partitions.get(st.primary) ?? 1;
      for (let p = 0; p < n; p++)
        candidates.push({ id: `${st.id}_${p}`, subTopology: st.id, topic: st.primary, partition: p });
    }
    const placed = placeStandbys(group, h.applicationId, candidates, h.replicas);
    const active = h.activeTasks();
    const want = new Set<string>();
    for (const c of candidates) {
      if (active.has(c.id)) continue;
      const chosen = placed.get(c.id);
      if (chosen === undefined) {
        if (this.tasks.has(c.id)) want.add(c.id); // owner unknown right now: keep
        continue;
      }
      if (chosen.some((x) => x.instance === h.instanceId && x.thread === h.thread)) want.add(c.id);
    }
    for (const id of [...this.tasks.keys()]) if (!want.has(id)) this.drop(id, 'no longer chosen');
    const existing = await h.transport.admin.describeTopics([...new Set([...topicsOf.values()].flat())]);
    for (const id of want) {
      const c = candidates.find((x) => x.id === id) as StandbyCandidate;
      let sb = this.tasks.get(id);
      if (sb === undefined) {
        const st = h.plan.subTopologies[c.subTopology] as SubTopology;
        sb = {
          id,
          st,
          partition: c.partition,
          changelogs: new Map(),
          metrics: { changelogLag: null, recordsApplied: 0 },
        };
        this.tasks.set(id, sb);
        this.metrics[id] = sb.metrics;
        h.log.info({ task: id }, 'standby task created');
      }
      for (const topic of topicsOf.get(c.subTopology) ?? []) {
        if (!existing.has(topic) || sb.changelogs.has(topic)) continue;
        sb.changelogs.set(topic, { entries: new Map(), position: -1 });
        this.byPartition.set(`${topic}\0${c.partition}`, sb);
      }
    }
    await this.assign();
    this.dirty = false;
  }

  /** Points the reader at every standby changelog partition (kept ones keep their position). */
  private async assign(): Promise<void> {
    const keys = new Set(this.byPartition.keys());
    if (keys.size === this.assigned.size && [...keys].every((k) => this.assigned.has(k))) return;
    const fresh: Array<{ topic: string; partition: number }> = [];
    for (const sb of this.tasks.values())
      for (const [topic, cl] of sb.changelogs)
        if (cl.position < 0) fresh.push({ topic, partition: sb.partition });
    if (fresh.length > 0) {
      for (const s of await this.host.transport.admin.listOffsets(fresh, 'earliest')) {
        const sb = this.byPartition.get(`${s.topic}\0${s.partition}`) as StandbyTask;
        (sb.changelogs.get(s.topic) as { position: number }).position = s.offset;
      }
    }
    const positions: TopicPartitionOffset[] = [];
    for (const sb of this.tasks.values())
      for (const [topic, cl] of sb.changelogs)
        positions.push({ topic, partition: sb.partition, offset: cl.position });
    this.reader ??= this.host.transport.partitionReader({
      isolationLevel: 'read_committed',
      clientId: this.host.clientId,
    });
    await this.reader.assign(positions);
    this.assigned = keys;
  }

  private drop(id: string, why: string): void {
    const sb = this.tasks.get(id);
    if (sb === undefined) return;
    for (const topic of sb.changelogs.keys()) this.byPartition.delete(`${topic}\0${sb.partition}`);
    this.tasks.delete(id);
    delete this.metrics[id];
    this.dirty = true;
    this.host.log.info({ task: id, why }, 'standby task dropped');
  }

  /**
   * The warm copy of a task about to become active here (changelog topic → content), removed
   * from the standbys; undefined when there is none. The caller reads only the tail.
   */
  take(id: string): Map<string, WarmChangelog> | undefined {
    const sb = this.tasks.get(id);
    if (sb === undefined) return undefined;
    const out = new Map<string, WarmChangelog>();
    for (const [topic, cl] of sb.changelogs) if (cl.position >= 0) out.set(topic, cl);
    this.drop(id, 'became active');
    return out;
  }

  /** Changelog lag per standby task: last stable offset − position. */
  async refreshLag(): Promise<void> {
    const tps: Array<{ topic: string; partition: number }> = [];
    for (const sb of this.tasks.values())
      for (const topic of sb.changelogs.keys()) tps.push({ topic, partition: sb.partition });
    if (tps.length === 0) return;
    const ends = await this.host.transport.admin.listOffsets(tps, 'latest', 'read_committed');
    const lag = new Map<string, number>();
    for (const e of ends) {
      const sb = this.byPartition.get(`${e.topic}\0${e.partition}`);
      const cl = sb?.changelogs.get(e.topic);
      if (sb === undefined || cl === undefined) continue;
      lag.set(sb.id, (lag.get(sb.id) ?? 0) + Math.max(0, e.offset - Math.max(cl.position, 0)));
    }
    for (const [id, l] of lag) {
      const sb = this.tasks.get(id);
      if (sb !== undefined) sb.metrics.changelogLag = l;
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.tasks.keys()]) this.drop(id, 'closing');
    this.assigned = new Set();
    await this.reader?.close().catch(() => {});
    this.reader = undefined;
  }
}

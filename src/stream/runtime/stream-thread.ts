/**
 * StreamThread: one member of the application's consumer group with its own tasks, its own
 * (transactional) producer and its own reader of secondary inputs — Kafka Streams' StreamThread.
 *
 * Tasks: the group consumer subscribes to ONE primary input per sub-topology; a task
 * (`<subtopology>_<partition>`) exists while that primary partition is assigned here. The
 * task's other, co-partitioned inputs are read with a PartitionReader from the group's
 * committed offsets; their offsets are committed with the primary's, in the same transaction
 * (Kafka accepts offsets for partitions a member does not own). Cooperative rebalancing moves
 * primaries one by one; the secondaries follow their task, so co-partitioning survives.
 *
 * Rebalance: onAssigned restores each new task's stores from their changelogs (a reader,
 * read_committed, from the log start to the last stable offset; progress in metrics and logs)
 * before the task sees a record; onRevoked commits every task (one transaction) and closes the
 * revoked ones; onLost drops them, and because the open transaction then cannot commit, every
 * task of the thread is rebuilt (reset()).
 *
 * Commit protocol, every commit interval (io.ts):
 *   exactly_once: beginTransaction; per task Task.commit → outputs, changelog records, and the
 *   watermark control records of repartition topics are sent; sendOffsets(consumer, next
 *   offsets of every input partition) with the group metadata (KIP-447); commitTransaction.
 *   at_least_once: the same sends without a transaction, flush, then consumer.commit(offsets).
 * Crash behaviour: a kill -9 leaves an open transaction that the coordinator aborts when the
 * next producer with the same transactional id (`<app>-<instance>-<thread>`) connects or the
 * transaction times out; read_committed readers never see its records, and the tasks restart
 * on their new owner from the last committed offsets and changelogs. A fenced or failed
 * commit aborts (if it still can), drops every task, closes the consumer and producer and
 * rejoins (reset()): the same path as a crash, without the process dying.
 *
 * Repartition purge (Kafka Streams' repartition.purge.interval.ms): repartition topics have no
 * time retention, so after a successful commit, at most every repartitionPurgeIntervalMs, the
 * thread sends DeleteRecords for every repartition partition its active tasks consume, up to
 * the offset THIS thread committed for it (the `committed` map: written only after
 * commitTransaction returned — exactly_once — or after the group accepted the offset commit —
 * at_least_once; offsets of the open transaction are never in it). One purge in flight per
 * thread, not awaited by step(); a failure is logged at warn and tried again at the next
 * interval, never failing the commit or a task; leave() waits for the one in flight.
 * Crash safety: a task, wherever it restarts (this thread after a reset, another thread or
 * instance), starts reading its inputs at the group's committed offset, and a group's
 * committed offset never goes back below one committed before it; so what lies below an
 * offset this thread committed is never read again, and deleting it loses nothing, whatever
 * is killed when (a DeleteRecords the broker did not apply just leaves records for the next
 * purge). The watermarks those records carried live on in the downstream task's
 * changelogged state (`source-<topic>.upstream`), not in the topic.
 *
 * Standby replicas (ctx.standbyReplicas > 0, standby.ts): the thread keeps warm copies of
 * other instances' tasks, re-placed after each assignment change and every few seconds and
 * read without blocking in step(); a task that becomes active here restores from its standby
 * (its content, then only the changelog's tail).
 *
 * Concurrency: one async loop; rebalance callbacks run inside consumer.poll(), so they never
 * interleave with processing. Several threads may share one event loop (embedded transport).
 */
import { createLogger, isSluiceError, type Logger, SluiceError } from '../../common/index.js';
import type {
  GroupConsumer,
  IncomingRecord,
  PartitionReader,
  Producer,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from '../../transport/index.js';
import type { AppPlan, SubTopology } from '../plan/subtopology.js';
import { ownsStore } from '../plan/subtopology.js';
import { type ChangelogEntry, changelogTopic, createInMemoryEngine } from '../state/index.js';
import type { Committer } from './io.js';
import {
  controlRecord,
  controlWatermark,
  type PendingOutput,
  TopicSink,
  toStreamRecordParts,
  UpstreamWatermarks,
} from './kafka-io.js';
import { StreamRecord } from './record.js';
import { type StandbyTaskMetrics, StandbyTasks, type WarmChangelog } from './standby.js';
import { DEFAULT_DEAD_LETTER_SINK, DEFAULT_LATE_SINK, Task } from './task.js';

export type ProcessingGuarantee = 'exactly_once' | 'at_least_once';

/** What a thread shares with the runtime that owns it. */
/** SLUICE_TRACE_WATERMARKS=1: log every watermark control record sent and received (debugging). */
const TRACE_WATERMARKS = process.env.SLUICE_TRACE_WATERMARKS === '1';

/**
 * Errors that rebuilding the tasks or rejoining the group cannot fix (the cluster refuses this
 * member's settings or credentials): the loop reports them at error level and waits.
 */
const UNFIXABLE_BY_REBUILD: ReadonlySet<string> = new Set(['INVALID_CONFIG', 'PERMISSION_DENIED']);

/** Topics already warned about (once per process): old record timestamps vs time retention. */
const warnedOldTimestamps = new Set<string>();
function warnOldTimestamps(log: Logger, topic: string, timestamp: number): void {
  if (warnedOldTimestamps.has(topic)) return;
  warnedOldTimestamps.add(topic);
  log.warn(
    { topic, timestamp: new Date(timestamp).toISOString() },
    `output records to '${topic}' carry timestamps older than 7 days (event time): a topic with time retention (retention.ms, 7 days by default) deletes them at its next retention pass — give it retention.ms=-1 or one that covers them`,
  );
}

function pendingCount(ts: { sinks: TopicSink[] }): number {
  let n = 0;
  for (const s of ts.sinks) for (const p of s.pending.values()) n += p.records.length;
  return n;
}

export interface ThreadContext {
  readonly transport: Transport;
  readonly plan: AppPlan;
  readonly applicationId: string;
  /** Partition count of every topic the app reads or writes. */
  readonly partitions: ReadonlyMap<string, number>;
  readonly guarantee: ProcessingGuarantee;
  readonly commitIntervalMs: number;
  /** Least time between two repartition purges of this thread ("Repartition purge" in the header). */
  readonly repartitionPurgeIntervalMs: number;
  /** Changelog topics known to exist, by store name (the runtime creates them). */
  readonly changelogs: Set<string>;
  /** Creates `<app>-<store>-changelog` (compacted, `partitions`) for a store first seen at commit. */
  ensureChangelog(store: string, partitions: number): Promise<void>;
  /** Store names that may have a changelog, for restore (known + listed). */
  storeNames(): Promise<readonly string[]>;
  readonly maxPollRecords?: number;
  /** Group session timeout (default the transport's, 10 s). */
  readonly sessionTimeoutMs?: number;
  /** Standby replicas per stateful task (default 0); needs instanceId. */
  readonly standbyReplicas?: number;
  /** This instance's id (the `<instance>` of the transactional id). */
  readonly instanceId?: string;
}

export interface RestoreProgress {
  restored: number;
  total: number;
  done: boolean;
  /** Store entries taken from this thread's standby of the task (0: restored from the log start). */
  fromStandby: number;
}

export interface TaskMetricsView {
  recordsIn: number;
  recordsOut: number;
  watermarkLagMs: number | null;
  restore: RestoreProgress;
}

export interface ThreadMetrics {
  thread: number;
  state: 'created' | 'running' | 'restoring' | 'resetting' | 'closed';
  tasks: Record<string, TaskMetricsView>;
  /** Consumer lag per input partition, `topic-partition` → records behind (refreshLag()). */
  lag: Record<string, number>;
  commits: number;
  aborts: number;
  /** Tasks rebuilt in place after an aborted commit (membership kept). */
  revives: number;
  /** Full rejoins (fenced producer or generation, lost partitions, failures). */
  resets: number;
  /** at_least_once: offset commits the group refused while rebalancing (retried by the next commit). */
  commitsRefused: number;
  /**
   * The last error that interrupted processing (a failed commit, a fencing, a configuration
   * error the cluster reports), with its time; null until one happens.
   */
  lastError: { message: string; code: string; at: number } | null;
  /** Repartition purges (DeleteRecords below committed offsets) answered by the cluster. */
  purges: number;
  /** Purges that failed (logged at warn; the next interval tries again). */
  purgeFailures: number;
  /** Repartition partitions whose log start a purge moved (summed over purges). */
  purgedPartitions: number;
  /**
   * Offsets deleted by this thread's purges (records, watermark control records and
   * transaction markers), counted from the log start it last saw; a task moving between
   * threads while a purge is in flight can make two threads count the same offsets.
   */
  purgedRecords: number;
  commitMsLast: number;
  commitMsMax: number;
  /** Time spent waiting for the producer's acknowledgements (backpressure from the log). */
  blockedOnOutputMs: number;
  recordsIn: number;
  recordsOut: number;
  /** Changelog records restored since start, over every task this thread built. */
  restoredRecords: number;
  /** Standby tasks kept on this thread: changelog lag and records applied. */
  standbys: Record<string, StandbyTaskMetrics>;
  /** Event timestamp → committed output, over the last 1 024 committed records. */
  e2eLatencyMs: { p50: number | null; p99: number | null };
}

interface TaskState {
  readonly id: string;
  readonly st: SubTopology;
  readonly partition: number;
  task: Task;
  readonly sinks: TopicSink[];
  /** Input topic → upstream watermarks (repartition inputs only). */
  readonly upstream: Map<string, UpstreamWatermarks>;
  /** Repartition sink topic → last watermark sent. */
  readonly sentWatermarks: Map<string, number | 'idle'>;
  readonly restore: RestoreProgress;
  recordsIn: number;
}

const LATENCY_SAMPLES = 1024;

export class StreamThread {
  private readonly log: Logger;
  private consumer: GroupConsumer | undefined;
  private producer: Producer | undefined;
  private reader: PartitionReader | undefined;
  private readonly tasks = new Map<string, TaskState>();
  private readonly primaryOf = new Map<string, SubTopology>();
  private readonly inputOf = new Map<string, SubTopology>();
  /** Secondary partitions currently read by `reader`: `topic\0partition` → task id. */
  private readonly secondaries = new Map<string, string>();
  /** Offsets last committed, `topic\0partition` → offset: unchanged ones are not re-sent. */
  private readonly committed = new Map<string, number>();
  private txnOpen = false;
  private crashAtCommit = false;
  /** The producer could not abort: only a new producer (reset) can go on. */
  private producerBroken = false;
  private crashed = false;
  private stopping = false;
  private needsReset = false;
  private lastCommitAt = Date.now();
  /** Repartition topics of the app: the inputs whose consumed records are purged. */
  private readonly repartitionTopics: ReadonlySet<string>;
  /** Log start offsets as this thread last saw them, `topic\0partition` → offset (they only grow). */
  private readonly purgedTo = new Map<string, number>();
  /** The one purge in flight, if any: never two at once per thread. */
  private purging: Promise<void> | undefined;
  private lastPurgeAt = Date.now();
  private loop: Promise<void> | undefined;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private readonly standby: StandbyTasks | undefined;
  private latencyCount = 0;
  readonly metricsState: ThreadMetrics;

  constructor(
    private readonly ctx: ThreadContext,
    readonly index: number,
    readonly transactionalId: string,
  ) {
    this.log = createLogger('stream', { app: ctx.applicationId, thread: index });
    this.repartitionTopics = new Set(ctx.plan.repartitionTopics.map((r) => r.topic));
    for (const st of ctx.plan.subTopologies) {
      this.primaryOf.set(st.primary, st);
      for (const i of st.inputs) this.inputOf.set(i.topic, st);
    }
    this.metricsState = {
      thread: index,
      state: 'created',
      tasks: {},
      lag: {},
      commits: 0,
      aborts: 0,
      revives: 0,
      resets: 0,
      commitsRefused: 0,
      lastError: null,
      purges: 0,
      purgeFailures: 0,
      purgedPartitions: 0,
      purgedRecords: 0,
      commitMsLast: 0,
      commitMsMax: 0,
      blockedOnOutputMs: 0,
      recordsIn: 0,
      recordsOut: 0,
      restoredRecords: 0,
      standbys: {},
      e2eLatencyMs: { p50: null, p99: null },
    };
    if ((ctx.standbyReplicas ?? 0) > 0 && ctx.instanceId !== undefined) {
      this.standby = new StandbyTasks({
        transport: ctx.transport,
        plan: ctx.plan,
        applicationId: ctx.applicationId,
        instanceId: ctx.instanceId,
        thread: index,
        replicas: ctx.standbyReplicas as number,
        partitions: ctx.partitions,
        clientId: `${transactionalId}-standby`,
        log: this.log,
        storeNames: () => ctx.storeNames(),
        activeTasks: () => new Set(this.tasks.keys()),
      });
      this.metricsState.standbys = this.standby.metrics;
    }
  }

  /** Connects the producer and joins the group; the loop runs until close(). */
  async start(): Promise<void> {
    await this.open();
    this.metricsState.state = 'running';
    this.loop = this.runLoop();
  }

  private async open(): Promise<void> {
    const t = this.ctx.transport;
    const eos = this.ctx.guarantee === 'exactly_once';
    this.producer = t.producer({
      transactionalId: eos ? this.transactionalId : undefined,
      clientId: `${this.transactionalId}-producer`,
    });
    await this.producer.connect();
    this.reader = t.partitionReader({
      isolationLevel: 'read_committed',
      clientId: `${this.transactionalId}-reader`,
    });
    this.secondaries.clear();
    this.consumer = t.groupConsumer({
      groupId: this.ctx.applicationId,
      topics: this.ctx.plan.subTopologies.map((s) => s.primary),
      isolationLevel: 'read_committed',
      autoOffsetReset: 'earliest',
      clientId: `${this.transactionalId}-consumer`,
      sessionTimeoutMs: this.ctx.sessionTimeoutMs,
      listener: {
        onAssigned: (parts) => this.onAssigned(parts),
        onRevoked: (parts) => this.onRevoked(parts),
        onLost: (parts) => this.onLost(parts),
      },
    });
    await this.consumer.start();
    this.lastCommitAt = Date.now();
  }

  private async runLoop(): Promise<void> {
    let backoff = 100;
    let configBackoff = 1_000;
    while (!this.stopping && !this.crashed) {
      try {
        await this.step();
        if (this.needsReset) await this.reset('partitions lost');
        backoff = 100;
        configBackoff = 1_000;
      } catch (e) {
        if (this.stopping || this.crashed) break;
        this.metricsState.lastError = {
          message: e instanceof Error ? e.message : String(e),
          code: isSluiceError(e) ? e.code : 'INTERNAL',
          at: Date.now(),
        };
        if (isSluiceError(e) && UNFIXABLE_BY_REBUILD.has(e.code)) {
          // The cluster refuses this member's configuration or permissions: rebuilding the tasks
          // or rejoining cannot help, and doing it in a tight loop would hide the cause. Say it
          // at error level and try again slowly (the cluster's configuration may change).
          this.log.error(
            { err: e, retryInMs: configBackoff },
            `${e.message} — processing is stopped until the cluster accepts this member`,
          );
          await new Promise((r) => setTimeout(r, configBackoff));
          configBackoff = Math.min(configBackoff * 2, 30_000);
          continue;
        }
        const fenced = !isSluiceError(e) || e.code === 'PRODUCER_FENCED' || e.code === 'CLOSED';
        try {
          if (!fenced && !this.producerBroken) {
            this.log.info({ err: e }, 'commit failed; rebuilding the tasks from the last commit');
            await this.reviveTasks();
            continue;
          }
          this.log.warn({ err: e }, 'stream thread fenced or failed; dropping its tasks and rejoining');
          await this.reset(e instanceof Error ? e.message : String(e));
        } catch (e2) {
          this.log.warn({ err: e2 }, 'rejoin failed; retrying');
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 5_000);
        }
      }
    }
  }

  /** One round: poll primaries and secondaries, process, and commit when the interval passed. */
  async step(): Promise<void> {
    const consumer = this.consumer as GroupConsumer;
    const max = this.ctx.maxPollRecords ?? 1000;
    const untilCommit = Math.max(0, this.ctx.commitIntervalMs - (Date.now() - this.lastCommitAt));
    const records = await consumer.poll(max, Math.min(untilCommit, 50));
    if (this.needsReset || this.stopping) return;
    this.ingest(records);
    if (this.secondaries.size > 0) this.ingest(await (this.reader as PartitionReader).poll(max, 0));
    if (this.standby !== undefined) await this.standby.step(max);
    const now = Date.now();
    for (const ts of this.tasks.values()) ts.task.advanceProcessingTime();
    if (now - this.lastCommitAt >= this.ctx.commitIntervalMs) await this.commitAll(true);
  }

  private ingest(records: readonly IncomingRecord[]): void {
    if (records.length === 0) return;
    // Group by partition, keeping offset order (records arrive in offset order per partition).
    const groups = new Map<string, IncomingRecord[]>();
    for (const r of records) {
      const k = `${r.topic}\0${r.partition}`;
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = []));
      g.push(r);
    }
    for (const g of groups.values()) {
      const { topic, partition } = g[0];
      const st = this.inputOf.get(topic);
      if (st === undefined) continue;
      const ts = this.tasks.get(`${st.id}_${partition}`);
      if (ts === undefined) continue; // a record of a partition whose task just left
      const internal = ts.upstream.has(topic);
      const batch: StreamRecord[] = [];
      const flush = (nextOffset: number) => {
        if (batch.length > 0) {
          ts.task.ingest(topic, partition, batch.splice(0), nextOffset);
        }
      };
      for (const r of g) {
        if (internal) {
          const c = controlWatermark(r);
          if (c !== undefined) {
            flush(r.offset);
            const wm = (ts.upstream.get(topic) as UpstreamWatermarks).update(c.task, c.wm);
            if (TRACE_WATERMARKS)
              this.log.info({ task: ts.id, from: c.task, wm: c.wm, offset: r.offset, now: wm }, 'wm in');
            ts.task.ingest(topic, partition, [], r.offset + 1);
            if (Number.isFinite(wm)) {
              const before = TRACE_WATERMARKS ? pendingCount(ts) : 0;
              ts.task.advanceWatermark(topic, wm, partition);
              if (TRACE_WATERMARKS && pendingCount(ts) !== before)
                this.log.info({ task: ts.id, wm, emitted: pendingCount(ts) - before }, 'wm fired');
            }
            continue;
          }
        }
        const parts = toStreamRecordParts(r, internal);
        batch.push(new StreamRecord(parts.key, parts.value, parts.timestamp));
      }
      ts.recordsIn += g.length;
      this.metricsState.recordsIn += g.length;
      flush(g[g.length - 1].offset + 1);
    }
  }

  // ───────────────────────────── rebalance ─────────────────────────────

  private async onAssigned(parts: readonly TopicPartition[]): Promise<void> {
    if (this.stopping) return;
    this.metricsState.state = 'restoring';
    try {
      for (const tp of parts) {
        const st = this.primaryOf.get(tp.topic);
        if (st === undefined) continue;
        const id = `${st.id}_${tp.partition}`;
        if (this.tasks.has(id)) continue;
        await this.createTask(st, tp.partition);
      }
      await this.reassignSecondaries();
      this.standby?.invalidate();
    } finally {
      this.metricsState.state = 'running';
    }
  }

  private async onRevoked(parts: readonly TopicPartition[]): Promise<void> {
    if (this.needsReset) return;
    const leaving = this.taskIdsOf(parts);
    if (leaving.length === 0) return;
    if (!this.stopping) await this.commitAll();
    for (const id of leaving) this.closeTask(id);
    await this.reassignSecondaries();
    this.standby?.invalidate();
    this.log.info({ tasks: leaving }, 'tasks revoked');
  }

  private onLost(parts: readonly TopicPartition[]): void {
    const lost = this.taskIdsOf(parts);
    if (lost.length === 0) return;
    this.log.warn({ tasks: lost }, 'tasks lost; the open transaction will be aborted');
    for (const id of lost) this.closeTask(id);
    this.needsReset = true;
  }

  private taskIdsOf(parts: readonly TopicPartition[]): string[] {
    const out: string[] = [];
    for (const tp of parts) {
      const st = this.primaryOf.get(tp.topic);
      if (st !== undefined && this.tasks.has(`${st.id}_${tp.partition}`))
        out.push(`${st.id}_${tp.partition}`);
    }
    return out;
  }

  private async createTask(st: SubTopology, partition: number): Promise<void> {
    const id = `${st.id}_${partition}`;
    const restore: RestoreProgress = { restored: 0, total: 0, done: false, fromStandby: 0 };
    this.metricsState.tasks[id] = { recordsIn: 0, recordsOut: 0, watermarkLagMs: null, restore };
    const restored = await this.restoreStores(st, partition, restore, id, this.standby?.take(id));
    const sinks: TopicSink[] = [];
    const app = this.ctx.applicationId;
    const task = new Task(st.topology, {
      taskId: id,
      storeEngine: createInMemoryEngine(),
      changelog: { restore: (name) => restored.get(name) ?? [] },
      assignment: Object.fromEntries(st.inputs.map((i) => [i.topic, [partition]])),
      sinkFactory: (name) => {
        const kind =
          name === DEFAULT_DEAD_LETTER_SINK || name === DEFAULT_LATE_SINK
            ? 'dead-letters'
            : st.outputs.some((o) => o.topic === name && o.internal)
              ? 'internal'
              : 'user';
        const topic =
          name === DEFAULT_DEAD_LETTER_SINK
            ? `${app}-dead-letters`
            : name === DEFAULT_LATE_SINK
              ? `${app}-late-records`
              : name;
        const s = new TopicSink(name, topic, this.ctx.partitions.get(topic) ?? 1, partition, kind, (t, ts) =>
          warnOldTimestamps(this.log, t, ts),
        );
        sinks.push(s);
        return s;
      },
    });
    // Upstream watermarks of each repartition input, kept in a changelogged state of the task
    // (store `source-<topic>.upstream`), so a restored task resumes event time where it was.
    const upstream = new Map<string, UpstreamWatermarks>();
    for (const r of this.ctx.plan.repartitionTopics) {
      if (r.to !== st.id) continue;
      const n = this.countOfSubTopology(r.from);
      const ids = Array.from({ length: n }, (_, q) => `${r.from}_${q}`);
      const state = task.stateFactory.open<string, { wm: number | null; idle: boolean }>(
        `source-${r.topic}.upstream`,
        {},
      );
      const u = new UpstreamWatermarks(n, { get: (k) => state.get(k), put: (k, v) => state.put(k, v) }, ids);
      upstream.set(r.topic, u);
      const wm = u.current();
      if (TRACE_WATERMARKS)
        this.log.info({ task: id, restored: ids.map((k) => [k, state.get(k)]), now: wm }, 'wm restored');
      if (Number.isFinite(wm)) task.advanceWatermark(r.topic, wm, partition);
    }
    this.tasks.set(id, {
      id,
      st,
      partition,
      task,
      sinks,
      upstream,
      sentWatermarks: new Map(),
      restore,
      recordsIn: 0,
    });
    this.log.info(
      { task: id, restoredRecords: restore.restored, fromStandby: restore.fromStandby },
      'task created',
    );
  }

  private countOfSubTopology(id: number): number {
    const st = this.ctx.plan.subTopologies[id];
    return this.ctx.partitions.get(st.primary) ?? 1;
  }

  /**
   * Reads this task's changelog partitions from the log start to the last stable offset; with
   * a warm standby of the task (`warm`, changelog topic → content), its content comes first
   * and only the changelog from the standby's position on is read.
   */
  private async restoreStores(
    st: SubTopology,
    partition: number,
    progress: RestoreProgress,
    taskId: string,
    warm?: ReadonlyMap<string, WarmChangelog>,
  ): Promise<Map<string, ChangelogEntry[]>> {
    const out = new Map<string, ChangelogEntry[]>();
    const stores = (await this.ctx.storeNames()).filter((s) => ownsStore(st, s));
    if (stores.length === 0) {
      progress.done = true;
      return out;
    }
    const admin = this.ctx.transport.admin;
    const topicToStore = new Map(stores.map((s) => [changelogTopic(this.ctx.applicationId, s), s]));
    const existing = await admin.describeTopics([...topicToStore.keys()]);
    const tps = [...existing.keys()].map((topic) => ({ topic, partition }));
    if (tps.length === 0) {
      progress.done = true;
      return out;
    }
    const [starts, ends] = await Promise.all([
      admin.listOffsets(tps, 'earliest'),
      admin.listOffsets(tps, 'latest', 'read_committed'),
    ]);
    const endOf = new Map(ends.map((e) => [e.topic, e.offset]));
    if (TRACE_WATERMARKS) {
      const hw = await admin.listOffsets(tps, 'latest', 'read_uncommitted');
      this.log.info(
        {
          task: taskId,
          logs: starts.map((s) => [
            s.topic,
            s.offset,
            endOf.get(s.topic),
            hw.find((h) => h.topic === s.topic)?.offset,
          ]),
        },
        'restore range (start, last stable, high watermark)',
      );
    }
    const positions = this.startFromStandby(starts, warm, topicToStore, out, progress).filter(
      (s) => s.offset < (endOf.get(s.topic) ?? 0),
    );
    for (const s of positions) progress.total += (endOf.get(s.topic) ?? 0) - s.offset;
    if (positions.length > 0) {
      const reader = this.ctx.transport.partitionReader({
        isolationLevel: 'read_committed',
        clientId: `${this.transactionalId}-restore`,
      });
      try {
        await reader.assign(positions);
        const pending = new Set(positions.map((p) => p.topic));
        let lastLog = Date.now();
        while (pending.size > 0) {
          const recs = await reader.poll(10_000, 100);
          for (const r of recs) {
            const end = endOf.get(r.topic) ?? 0;
            if (r.offset >= end) continue;
            const store = topicToStore.get(r.topic) as string;
            let list = out.get(store);
            if (list === undefined) out.set(store, (list = []));
            if (r.key !== null) list.push({ key: r.key, value: r.value });
            progress.restored++;
            this.metricsState.restoredRecords++;
          }
          for (const topic of [...pending]) {
            if (reader.position({ topic, partition }) >= (endOf.get(topic) ?? 0)) pending.delete(topic);
          }
          if (Date.now() - lastLog > 1000) {
            lastLog = Date.now();
            this.log.info({ task: taskId, restored: progress.restored, total: progress.total }, 'restoring');
          }
          if (this.stopping) throw new SluiceError('CLOSED', 'closing during restore');
        }
      } finally {
        await reader.close();
      }
    }
    progress.done = true;
    return out;
  }

  /**
   * Restore positions: a changelog partition the standby holds (from a position not before the
   * log start) starts at the standby's position, its entries becoming the store's initial content.
   */
  private startFromStandby(
    starts: readonly TopicPartitionOffset[],
    warm: ReadonlyMap<string, WarmChangelog> | undefined,
    topicToStore: ReadonlyMap<string, string>,
    out: Map<string, ChangelogEntry[]>,
    progress: RestoreProgress,
  ): TopicPartitionOffset[] {
    if (warm === undefined) return [...starts];
    return starts.map((s) => {
      const w = warm.get(s.topic);
      if (w === undefined || w.position < s.offset) return s;
      const list: ChangelogEntry[] = [];
      for (const e of w.entries.values()) list.push({ key: e.key, value: e.value });
      out.set(topicToStore.get(s.topic) as string, list);
      progress.fromStandby += list.length;
      return { topic: s.topic, partition: s.partition, offset: w.position };
    });
  }

  /** Points the secondary reader at the co-partitioned inputs of the current tasks. */
  private async reassignSecondaries(): Promise<void> {
    const want = new Map<string, { topic: string; partition: number; task: string }>();
    for (const ts of this.tasks.values()) {
      for (const i of ts.st.inputs) {
        if (i.topic === ts.st.primary) continue;
        want.set(`${i.topic}\0${ts.partition}`, { topic: i.topic, partition: ts.partition, task: ts.id });
      }
    }
    const same =
      want.size === this.secondaries.size && [...want.keys()].every((k) => this.secondaries.has(k));
    if (same) return;
    const reader = this.reader as PartitionReader;
    const positions: TopicPartitionOffset[] = [];
    const fresh: TopicPartition[] = [];
    for (const [k, w] of want) {
      if (this.secondaries.has(k)) {
        positions.push({ topic: w.topic, partition: w.partition, offset: reader.position(w) });
      } else fresh.push({ topic: w.topic, partition: w.partition });
    }
    if (fresh.length > 0) {
      const admin = this.ctx.transport.admin;
      const committed = await admin.committedOffsets(this.ctx.applicationId, fresh);
      const missing = committed.filter((c) => c.offset === null);
      const earliest = missing.length > 0 ? await admin.listOffsets(missing, 'earliest') : [];
      for (const c of committed) {
        const offset =
          c.offset ?? earliest.find((e) => e.topic === c.topic && e.partition === c.partition)?.offset ?? 0;
        positions.push({ topic: c.topic, partition: c.partition, offset });
      }
    }
    await reader.assign(positions);
    this.secondaries.clear();
    for (const [k, w] of want) this.secondaries.set(k, w.task);
  }

  private closeTask(id: string): void {
    const ts = this.tasks.get(id);
    if (ts === undefined) return;
    ts.task.close();
    this.tasks.delete(id);
    delete this.metricsState.tasks[id];
  }

  // ───────────────────────────── commit ─────────────────────────────

  /**
   * Commits every task: one transaction (exactly_once) or flush + offset commit.
   * `caughtUp`: every record the group consumer has handed out was ingested (the commit of a
   * step, right after ingest), so its position may be committed. Not so inside a rebalance
   * callback — those run within poll(), after librdkafka handed over records the thread has
   * not seen yet — nor at shutdown, whose last poll's records were dropped.
   */
  async commitAll(caughtUp = false): Promise<void> {
    const producer = this.producer as Producer;
    const consumer = this.consumer as GroupConsumer;
    const eos = this.ctx.guarantee === 'exactly_once';
    const t0 = performance.now();
    const offsets: TopicPartitionOffset[] = [];
    const outputs: PendingOutput[] = [];
    const changelog: Array<{
      store: string;
      partition: number;
      partitions: number;
      entries: readonly ChangelogEntry[];
    }> = [];
    const committer = (ts: TaskState): Committer => ({
      commit: (o, _taskId, cl) => {
        for (const [topic, m] of o) {
          const primary = topic === ts.st.primary;
          for (const [partition, ingested] of m) {
            // Every record the group consumer returned has been ingested, so its position is
            // committable: past markers and aborted records that end a partition (else the lag
            // stays above 0 after a transaction aborted at the end, as Kafka Streams found).
            const position = caughtUp && primary ? consumer.position({ topic, partition }) : undefined;
            const offset = position !== undefined && position > ingested ? position : ingested;
            const k = `${topic}\0${partition}`;
            if (this.committed.get(k) === offset) continue;
            offsets.push({ topic, partition, offset });
          }
        }
        const partitions = this.ctx.partitions.get(ts.st.primary) ?? 1;
        for (const [store, entries] of cl)
          changelog.push({ store, partition: ts.partition, partitions, entries });
      },
    });
    for (const ts of this.tasks.values()) {
      await ts.task.commit(committer(ts));
      if (TRACE_WATERMARKS && pendingCount(ts) > 0)
        this.log.info({ task: ts.id, drained: pendingCount(ts) }, 'commit drains');
      for (const s of ts.sinks) outputs.push(...s.drain());
      this.controlRecords(ts, outputs);
    }
    const sending = outputs.length > 0 || changelog.length > 0;
    if (!sending && offsets.length === 0) {
      // Nothing new to commit: every offset in `committed` stands, so the purge may catch up
      // (the last offsets before the input went quiet would otherwise never be purged).
      this.lastCommitAt = Date.now();
      this.maybePurge();
      return;
    }
    for (const c of changelog) {
      if (!this.ctx.changelogs.has(c.store)) await this.ctx.ensureChangelog(c.store, c.partitions);
    }
    try {
      if (eos && !this.txnOpen) {
        producer.beginTransaction();
        this.txnOpen = true;
      }
      const sends: Promise<void>[] = [];
      let outCount = 0;
      for (const o of outputs) {
        sends.push(producer.send(o.topic, o.partition, o.records));
        outCount += o.records.length;
      }
      const app = this.ctx.applicationId;
      for (const c of changelog) {
        sends.push(
          producer.send(
            changelogTopic(app, c.store),
            c.partition,
            c.entries.map((e) => ({
              key: Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength),
              value:
                e.value === null ? null : Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength),
            })),
          ),
        );
      }
      for (const s of sends) s.catch(() => {});
      const tb = performance.now();
      for (const s of sends) await s;
      if (!eos) await producer.flush();
      this.metricsState.blockedOnOutputMs += performance.now() - tb;
      if (eos) {
        if (offsets.length > 0) await producer.sendOffsets(consumer, offsets);
        if (this.crashAtCommit && sending) {
          this.crashed = true;
          throw new SluiceError('CLOSED', 'simulated crash before commitTransaction');
        }
        await producer.commitTransaction();
        this.txnOpen = false;
      } else if (offsets.length > 0 && !(await this.commitAtLeastOnce(consumer, offsets))) {
        offsets.length = 0; // not committed: the next commit carries them again
      }
      for (const o of offsets) this.committed.set(`${o.topic}\0${o.partition}`, o.offset);
      this.metricsState.recordsOut += outCount;
      const done = Date.now();
      for (const o of outputs) {
        for (const ts of o.eventTimes) {
          this.latencies[this.latencyCount++ % LATENCY_SAMPLES] = done - ts;
        }
      }
    } catch (e) {
      if (this.crashed) throw e;
      this.metricsState.aborts++;
      if (eos && this.txnOpen) {
        this.txnOpen = false;
        await producer.abortTransaction().catch(() => {
          this.producerBroken = true;
        });
      }
      throw isSluiceError(e) ? e : new SluiceError('INTERNAL', `commit failed: ${String(e)}`, { cause: e });
    }
    const ms = performance.now() - t0;
    this.metricsState.commits++;
    this.metricsState.commitMsLast = ms;
    if (ms > this.metricsState.commitMsMax) this.metricsState.commitMsMax = ms;
    this.lastCommitAt = Date.now();
    this.maybePurge();
  }

  // ───────────────────────────── repartition purge ─────────────────────────────

  /**
   * After a successful commit, at most every repartitionPurgeIntervalMs: starts one purge of
   * the repartition partitions this thread's active tasks consume, up to the offsets this
   * thread committed (`committed`: set only once the transaction committed, or the
   * at_least_once offset commit succeeded). Does not wait for it: step() goes on, and no
   * second purge starts while one is in flight.
   */
  private maybePurge(): void {
    if (this.purging !== undefined || this.stopping || this.crashed || this.repartitionTopics.size === 0)
      return;
    const now = Date.now();
    if (now - this.lastPurgeAt < this.ctx.repartitionPurgeIntervalMs) return;
    const offsets: TopicPartitionOffset[] = [];
    for (const ts of this.tasks.values()) {
      for (const i of ts.st.inputs) {
        if (!this.repartitionTopics.has(i.topic)) continue;
        const k = `${i.topic}\0${ts.partition}`;
        const offset = this.committed.get(k);
        if (offset !== undefined && offset > (this.purgedTo.get(k) ?? 0))
          offsets.push({ topic: i.topic, partition: ts.partition, offset });
      }
    }
    if (offsets.length === 0) return;
    this.lastPurgeAt = now;
    this.purging = this.purge(offsets).finally(() => {
      this.purging = undefined;
    });
  }

  /** Deletes the records below `offsets`; never throws (a failure waits for the next interval). */
  private async purge(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const admin = this.ctx.transport.admin;
    const key = (tp: TopicPartition) => `${tp.topic}\0${tp.partition}`;
    const m = this.metricsState;
    try {
      // The log start of a partition this thread has not purged yet, to count what goes.
      const unseen = offsets.filter((o) => !this.purgedTo.has(key(o)));
      if (unseen.length > 0)
        for (const e of await admin.listOffsets(unseen, 'earliest')) this.purgedTo.set(key(e), e.offset);
      const todo = offsets.filter((o) => o.offset > (this.purgedTo.get(key(o)) ?? 0));
      if (todo.length === 0) return;
      const starts = await admin.deleteRecords(todo);
      m.purges++;
      for (const s of starts) {
        const before = this.purgedTo.get(key(s)) ?? 0;
        if (s.offset <= before) continue;
        m.purgedPartitions++;
        m.purgedRecords += s.offset - before;
        this.purgedTo.set(key(s), s.offset);
      }
    } catch (e) {
      m.purgeFailures++;
      this.log.warn(
        { err: e, partitions: offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`) },
        'repartition purge failed; retrying at the next purge interval',
      );
    }
  }

  /**
   * at_least_once: commits the consumed offsets after the outputs were flushed. A commit the
   * group refuses because it is rebalancing (or this member's generation just moved on) loses
   * nothing: the outputs are already acknowledged, so the thread keeps its tasks and the next
   * commit carries these offsets again (offsets only grow). Partitions really taken away
   * arrive through onRevoked / onLost. Treating the refusal as fatal would drop and rejoin —
   * itself a rebalance, which makes the other members' commits fail: a rebalance storm.
   * Returns whether the offsets were committed.
   */
  private async commitAtLeastOnce(
    consumer: GroupConsumer,
    offsets: TopicPartitionOffset[],
  ): Promise<boolean> {
    try {
      await consumer.commit(offsets);
      return true;
    } catch (e) {
      if (!isSluiceError(e) || (e.code !== 'PRODUCER_FENCED' && e.code !== 'REBALANCE_IN_PROGRESS')) throw e;
      this.metricsState.commitsRefused++;
      this.log.info(
        { err: e },
        'offset commit refused during a rebalance; the next commit carries the offsets',
      );
      return false;
    }
  }

  /**
   * Watermark control records for every partition of each repartition topic the task writes,
   * when the watermark changed since the last one sent (downstream tasks keep what they were
   * told in their changelogged state, so nothing is repeated while nothing moves).
   */
  private controlRecords(ts: TaskState, outputs: PendingOutput[]): void {
    for (const o of ts.st.outputs) {
      if (!o.internal) continue;
      const sink = ts.task.sinks.get(o.topic);
      if (sink === undefined) continue;
      const idle = sink.snapshotWatermarks().idle.every((x) => x);
      const wm: number | 'idle' = idle ? 'idle' : sink.currentWatermark;
      if (wm !== 'idle' && !Number.isFinite(wm)) continue;
      if (ts.sentWatermarks.get(o.topic) === wm) continue;
      ts.sentWatermarks.set(o.topic, wm);
      if (TRACE_WATERMARKS) this.log.info({ task: ts.id, wm }, 'wm out');
      const n = this.ctx.partitions.get(o.topic) ?? 1;
      for (let p = 0; p < n; p++) {
        outputs.push({ topic: o.topic, partition: p, records: [controlRecord(wm, ts.id)], eventTimes: [] });
      }
    }
  }

  // ───────────────────────────── failure and shutdown ─────────────────────────────

  /**
   * After an aborted commit (e.g. REBALANCE_IN_PROGRESS): the tasks' state is ahead of Kafka,
   * so every task is rebuilt from its changelogs and the primaries are rewound to the group's
   * committed offsets — without leaving the group, so other members see no rebalance.
   */
  private async reviveTasks(): Promise<void> {
    const consumer = this.consumer as GroupConsumer;
    const admin = this.ctx.transport.admin;
    for (const id of [...this.tasks.keys()]) this.closeTask(id);
    this.committed.clear();
    this.secondaries.clear();
    // Every primary partition this member owns now (also ones whose task failed to build).
    const still: Array<{ st: SubTopology; partition: number }> = [];
    for (const tp of consumer.assignment()) {
      const st = this.primaryOf.get(tp.topic);
      if (st !== undefined) still.push({ st, partition: tp.partition });
    }
    const tps = still.map((r) => ({ topic: r.st.primary, partition: r.partition }));
    if (tps.length > 0) {
      const committed = await admin.committedOffsets(this.ctx.applicationId, tps);
      const missing = committed.filter((c) => c.offset === null);
      const earliest = missing.length > 0 ? await admin.listOffsets(missing, 'earliest') : [];
      for (const c of committed) {
        const offset =
          c.offset ?? earliest.find((e) => e.topic === c.topic && e.partition === c.partition)?.offset ?? 0;
        consumer.seek(c, offset);
      }
    }
    for (const r of still) await this.createTask(r.st, r.partition);
    await this.reassignSecondaries();
    this.metricsState.revives++;
    this.lastCommitAt = Date.now();
  }

  /** Drops every task and the clients, and rejoins: state comes back from Kafka. */
  private async reset(reason: string): Promise<void> {
    this.metricsState.state = 'resetting';
    this.metricsState.resets++;
    this.needsReset = true;
    this.log.warn({ reason }, 'resetting stream thread');
    for (const id of [...this.tasks.keys()]) this.closeTask(id);
    await this.closeClients(true);
    this.needsReset = false;
    this.producerBroken = false;
    this.committed.clear();
    if (this.stopping) return;
    await this.open();
    this.metricsState.state = 'running';
  }

  private async closeClients(abort: boolean): Promise<void> {
    const producer = this.producer;
    if (abort && this.txnOpen && producer !== undefined) {
      this.txnOpen = false;
      await producer.abortTransaction().catch(() => {});
    }
    await this.consumer?.close().catch((e) => this.log.debug({ err: e }, 'consumer close'));
    await this.reader?.close().catch(() => {});
    await producer?.close().catch(() => {});
    this.consumer = undefined;
    this.reader = undefined;
    this.producer = undefined;
  }

  /**
   * Clean shutdown: finish the loop's current step, commit (exactly_once: the open transaction
   * commits), close the tasks, leave the group, close the producer.
   */
  async close(): Promise<void> {
    await this.stopAndCommit();
    await this.leave();
  }

  /** Shutdown, first half: stop the loop and commit (every thread does this before any leaves). */
  async stopAndCommit(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.loop?.catch(() => {});
    if (this.consumer !== undefined && !this.needsReset && !this.crashed) {
      try {
        await this.commitAll();
      } catch (e) {
        this.log.warn({ err: e }, 'final commit failed; the transaction was aborted');
      }
    }
  }

  /** Shutdown, second half: close the tasks, leave the group, close the producer. */
  async leave(): Promise<void> {
    await this.purging; // never rejects; bounded by the admin's request timeout
    for (const id of [...this.tasks.keys()]) this.closeTask(id);
    await this.closeClients(true);
    await this.standby?.close();
    this.metricsState.state = 'closed';
  }

  /**
   * A crash in the middle of a transaction, for tests: the next commit that carries records
   * sends them (outputs, changelogs, offsets) and stops before commitTransaction; the thread
   * then leaves the group without committing and keeps its producer open, so the transaction
   * stays open until a producer with the same transactional id fences it (or it times out),
   * exactly what a kill -9 between send and commit leaves behind. Resolves once stopped.
   */
  async crashAtNextCommit(): Promise<void> {
    this.crashAtCommit = true;
    await this.loop?.catch(() => {});
    this.stopping = true;
    this.needsReset = true;
    for (const id of [...this.tasks.keys()]) this.closeTask(id);
    await this.consumer?.close().catch(() => {});
    await this.reader?.close().catch(() => {});
    await this.standby?.close();
    this.metricsState.state = 'closed';
  }

  /** After crashAtNextCommit: releases the producer left open (without aborting). */
  async releaseCrashed(): Promise<void> {
    await this.producer?.close().catch(() => {});
  }

  // ───────────────────────────── metrics ─────────────────────────────

  metrics(): ThreadMetrics {
    const m = this.metricsState;
    for (const ts of this.tasks.values()) {
      const tm = ts.task.metrics();
      let out = 0;
      for (const s of ts.sinks) out += s.written;
      let lag: number | null = null;
      for (const i of Object.values(tm.inputs)) {
        if (i.watermarkLagMs !== null && (lag === null || i.watermarkLagMs > lag)) lag = i.watermarkLagMs;
      }
      m.tasks[ts.id] = { recordsIn: ts.recordsIn, recordsOut: out, watermarkLagMs: lag, restore: ts.restore };
    }
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    if (n > 0) {
      const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
      m.e2eLatencyMs = {
        p50: sorted[Math.floor(0.5 * (n - 1))],
        p99: sorted[Math.floor(0.99 * (n - 1))],
      };
    }
    return m;
  }

  /** Consumer lag per input partition: end offset (last stable) − next offset to process. */
  async refreshLag(): Promise<void> {
    const tps: TopicPartition[] = [];
    for (const ts of this.tasks.values())
      for (const i of ts.st.inputs) tps.push({ topic: i.topic, partition: ts.partition });
    await this.standby?.refreshLag();
    if (tps.length === 0) {
      this.metricsState.lag = {};
      return;
    }
    const ends = await this.ctx.transport.admin.listOffsets(tps, 'latest', 'read_committed');
    const lag: Record<string, number> = {};
    for (const e of ends) {
      const ts = this.tasks.get(`${this.inputOf.get(e.topic)?.id}_${e.partition}`);
      const snap = ts?.task.consumedOffsets();
      const pos = snap?.get(e.topic)?.get(e.partition);
      lag[`${e.topic}-${e.partition}`] = pos === undefined ? e.offset : Math.max(0, e.offset - pos);
    }
    this.metricsState.lag = lag;
  }

  get taskIds(): string[] {
    return [...this.tasks.keys()];
  }
}

/**
 * StreamRuntime: one instance of a stream application on Kafka (Kafka Streams' KafkaStreams).
 * Instances with the same application id form one consumer group (group id = application id)
 * and share the work; the same code runs against the embedded broker and a real cluster, only
 * the Transport differs.
 *
 * start():
 *   1. plans the app into sub-topologies (plan/subtopology.ts);
 *   2. reads the inputs' partition counts, checks co-partitioned inputs agree (INVALID_CONFIG
 *      naming both topics), and creates the internal topics with the admin:
 *      `<app>-<operator>-repartition` (partition count of their downstream sub-topology),
 *      `<app>-<store>-changelog` (compacted, the sub-topology's count) for every store a task
 *      creates when it is built, `<app>-dead-letters` and `<app>-late-records`, and missing
 *      output topics (the sub-topology's count; a real deployment should create them first);
 *   3. starts `threads` StreamThreads, each a group member with its own transactional producer
 *      (`<app>-<instance>-<thread>`). Threads share this process's event loop: the embedded
 *      transport cannot leave the broker's process; for the kafka transport `sluice run` runs
 *      one single-thread runtime per child process instead (cli/commands/run-workers.ts).
 * Stores created later (a process function's state opened on first use) get their changelog
 * topic at the commit that first writes them; a task restores from every changelog of its
 * sub-topology that exists (Admin.listTopics when the transport has it, else the names this
 * process has seen).
 *
 * repartitionPurgeIntervalMs (default 30 000): how often, at most, each stream thread deletes the
 * records of the repartition topics that its tasks consumed and committed (stream-thread.ts).
 *
 * standbyReplicas (default 0): each thread keeps warm copies of other instances' stateful
 * tasks (standby.ts); a task that moves to it restores only its changelog's tail.
 *
 * close(): every thread commits (exactly_once: finishes its transaction), closes its tasks and
 * leaves the group. crashAtNextCommit(): stops mid-transaction, as kill -9 would (tests).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createLogger, type Logger, SluiceError } from '../../common/index.js';
import type { TopicSpec, Transport } from '../../transport/index.js';
import type { StreamApp } from '../api/app.js';
import { type AppPlan, ownsStore, resolvePartitions, splitTopology } from '../plan/subtopology.js';
import { changelogTopic, createInMemoryEngine } from '../state/index.js';
import {
  type ProcessingGuarantee,
  StreamThread,
  type ThreadContext,
  type ThreadMetrics,
} from './stream-thread.js';
import { Task } from './task.js';

/** Kafka Streams' default repartition.purge.interval.ms. */
export const DEFAULT_REPARTITION_PURGE_INTERVAL_MS = 30_000;

export interface StreamRuntimeOptions {
  readonly transport: Transport;
  /** Overrides the app's id (group id and internal topic prefix). */
  readonly applicationId?: string;
  /** Stable identity of this instance (transactional ids); default random. */
  readonly instanceId?: string;
  /** Default exactly_once. */
  readonly guarantee?: ProcessingGuarantee;
  /** Default: available parallelism. */
  readonly threads?: number;
  /** Default 100 ms. */
  readonly commitIntervalMs?: number;
  /**
   * Least time between two purges of consumed repartition records by a stream thread
   * (Kafka Streams' repartition.purge.interval.ms): after a successful commit, each thread
   * deletes the records below its committed offsets of the repartition partitions it consumes.
   * Integer >= 0, default 30 000 ms.
   */
  readonly repartitionPurgeIntervalMs?: number;
  /** Index of the first thread (worker threads of one instance number theirs apart). */
  readonly firstThreadIndex?: number;
  readonly maxPollRecords?: number;
  /** Group session timeout: how soon a crashed instance's tasks move (default 10 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Standby replicas per stateful task (Kafka Streams' num.standby.replicas, default 0): warm
   * copies of other instances' tasks, on other instances (standby.ts). Integer >= 0.
   */
  readonly standbyReplicas?: number;
  /** Log readiness as `{"msg":"running"}` (default true; worker threads leave it to their parent). */
  readonly announce?: boolean;
}

export interface RuntimeMetrics {
  readonly applicationId: string;
  readonly instanceId: string;
  readonly guarantee: ProcessingGuarantee;
  readonly threads: ThreadMetrics[];
  /** Totals over the threads. */
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly commits: number;
  readonly tasks: number;
}

type SerdeLike = { prepare?: (topic: string) => Promise<void> };

export class StreamRuntime {
  readonly applicationId: string;
  readonly instanceId: string;
  readonly guarantee: ProcessingGuarantee;
  readonly standbyReplicas: number;
  readonly repartitionPurgeIntervalMs: number;
  readonly plan: AppPlan;
  private readonly log: Logger;
  private readonly threads: StreamThread[] = [];
  private readonly changelogs = new Set<string>();
  private readonly knownStores = new Set<string>();
  private partitions = new Map<string, number>();
  private started = false;
  private prepared = false;

  constructor(
    readonly app: StreamApp,
    private readonly options: StreamRuntimeOptions,
  ) {
    this.applicationId = options.applicationId ?? app.applicationId;
    this.instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    this.guarantee = options.guarantee ?? 'exactly_once';
    this.standbyReplicas = options.standbyReplicas ?? 0;
    if (!Number.isInteger(this.standbyReplicas) || this.standbyReplicas < 0)
      throw new SluiceError(
        'INVALID_CONFIG',
        `standbyReplicas must be an integer >= 0, got ${String(options.standbyReplicas)}`,
      );
    this.repartitionPurgeIntervalMs =
      options.repartitionPurgeIntervalMs ?? DEFAULT_REPARTITION_PURGE_INTERVAL_MS;
    if (!Number.isInteger(this.repartitionPurgeIntervalMs) || this.repartitionPurgeIntervalMs < 0)
      throw new SluiceError(
        'INVALID_CONFIG',
        `repartitionPurgeIntervalMs must be an integer >= 0, got ${String(options.repartitionPurgeIntervalMs)}`,
      );
    this.plan = splitTopology(app.graph, this.applicationId);
    this.log = createLogger('stream', { app: this.applicationId, instance: this.instanceId });
  }

  /** Creates internal topics, then starts the stream threads; resolves once they joined. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.prepare();
    const admin = this.options.transport.admin;
    const plan = this.plan;
    const ctx: ThreadContext = {
      transport: this.options.transport,
      plan,
      applicationId: this.applicationId,
      partitions: this.partitions,
      guarantee: this.guarantee,
      commitIntervalMs: this.options.commitIntervalMs ?? 100,
      repartitionPurgeIntervalMs: this.repartitionPurgeIntervalMs,
      changelogs: this.changelogs,
      maxPollRecords: this.options.maxPollRecords,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      standbyReplicas: this.standbyReplicas,
      instanceId: this.instanceId,
      ensureChangelog: async (store, partitions) => {
        await admin.ensureTopics([this.changelogSpec(store, partitions)]);
        this.changelogs.add(store);
        this.knownStores.add(store);
      },
      storeNames: async () => this.storeNames(),
    };
    const n = this.options.threads ?? availableParallelism();
    const first = this.options.firstThreadIndex ?? 0;
    for (let i = 0; i < n; i++) {
      this.threads.push(
        new StreamThread(ctx, first + i, `${this.applicationId}-${this.instanceId}-${first + i}`),
      );
    }
    await Promise.all(this.threads.map((t) => t.start()));
    if (this.options.announce === false) return;
    this.log.info(
      {
        msg: 'running',
        threads: n,
        guarantee: this.guarantee,
        transport: this.options.transport.description,
        subTopologies: plan.subTopologies.map((s) => ({ id: s.id, inputs: s.inputs.map((i) => i.topic) })),
      },
      'running',
    );
  }

  /**
   * Checks the inputs (co-partitioning) and creates the internal and missing output topics;
   * start() does it first. Separate so a process can prepare once before starting its
   * stream threads in workers.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    this.prepared = true;
    const admin = this.options.transport.admin;
    const plan = this.plan;
    const external = plan.subTopologies.flatMap((s) =>
      s.inputs.filter((i) => !i.internal).map((i) => i.topic),
    );
    const internal = plan.repartitionTopics.map((r) => r.topic);
    const outputs = plan.subTopologies.flatMap((s) =>
      s.outputs.filter((o) => !o.internal).map((o) => o.topic),
    );
    const existing = await admin.describeTopics([...new Set([...external, ...internal, ...outputs])]);
    const resolved = resolvePartitions(plan, existing);
    this.partitions = resolved.topics;
    const specs: TopicSpec[] = [];
    for (const r of plan.repartitionTopics) {
      // As Kafka Streams: no time retention (records carry event time, possibly years old,
      // which time retention would delete before they are read); instead each stream thread
      // deletes what its tasks consumed and committed (repartitionPurgeIntervalMs, see the
      // "Repartition purge" part of stream-thread.ts's header).
      specs.push({
        topic: r.topic,
        partitions: resolved.subTopologies[r.to],
        config: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
      });
    }
    const maxCount = Math.max(1, ...resolved.subTopologies);
    for (const name of [`${this.applicationId}-dead-letters`, `${this.applicationId}-late-records`]) {
      specs.push({ topic: name, partitions: maxCount });
      this.partitions.set(name, maxCount);
    }
    for (const st of plan.subTopologies) {
      for (const o of st.outputs) {
        if (o.internal) continue;
        const n = existing.get(o.topic);
        if (n === undefined) {
          this.log.info(
            { topic: o.topic, partitions: resolved.subTopologies[st.id] },
            'creating output topic',
          );
          specs.push({ topic: o.topic, partitions: resolved.subTopologies[st.id] });
          this.partitions.set(o.topic, resolved.subTopologies[st.id]);
        } else this.partitions.set(o.topic, n);
      }
      // The stores a task creates when built (windows, tables, watermarks): their changelogs.
      for (const store of this.probeStores(st.id)) {
        this.knownStores.add(store);
        specs.push(this.changelogSpec(store, resolved.subTopologies[st.id]));
        this.changelogs.add(store);
      }
    }
    await admin.ensureTopics(specs);
    await this.prepareSerdes();
  }

  private changelogSpec(store: string, partitions: number): TopicSpec {
    return {
      topic: changelogTopic(this.applicationId, store),
      partitions,
      config: { 'cleanup.policy': 'compact' },
    };
  }

  /** Builds one throwaway task of a sub-topology to learn which stores it creates up front. */
  private probeStores(id: number): string[] {
    const st = this.plan.subTopologies[id];
    const engine = createInMemoryEngine();
    const names: string[] = [];
    const task = new Task(st.topology, {
      taskId: `${id}_probe`,
      storeEngine: engine,
      changelog: {
        restore: (name) => {
          names.push(name);
          return [];
        },
      },
      sinkFactory: (name) => ({ name, write() {} }),
    });
    task.close();
    return names;
  }

  /** Every store that may have a changelog topic: known names plus the cluster's list. */
  private async storeNames(): Promise<string[]> {
    const admin = this.options.transport.admin as { listTopics?: () => Promise<string[]> };
    if (admin.listTopics !== undefined) {
      const prefix = `${this.applicationId}-`;
      for (const t of await admin.listTopics()) {
        if (t.startsWith(prefix) && t.endsWith('-changelog')) {
          const store = t.slice(prefix.length, -'-changelog'.length);
          if (this.plan.subTopologies.some((s) => ownsStore(s, store))) {
            this.knownStores.add(store);
            this.changelogs.add(store);
          }
        }
      }
    }
    return [...this.knownStores];
  }

  private async prepareSerdes(): Promise<void> {
    for (const node of this.app.graph.nodes) {
      if (node.kind === 'source') {
        const serde = node.spec.deserializer as SerdeLike | undefined;
        await serde?.prepare?.(node.spec.name);
      } else if (node.kind === 'sink') {
        const serde = node.serializer as SerdeLike | undefined;
        await serde?.prepare?.(node.sinkName);
      }
    }
  }

  metrics(): RuntimeMetrics {
    const threads = this.threads.map((t) => t.metrics());
    let recordsIn = 0;
    let recordsOut = 0;
    let commits = 0;
    let tasks = 0;
    for (const t of threads) {
      recordsIn += t.recordsIn;
      recordsOut += t.recordsOut;
      commits += t.commits;
      tasks += Object.keys(t.tasks).length;
    }
    return {
      applicationId: this.applicationId,
      instanceId: this.instanceId,
      guarantee: this.guarantee,
      threads,
      recordsIn,
      recordsOut,
      commits,
      tasks,
    };
  }

  /** Refreshes consumer lag (one admin round trip per thread). */
  async refreshLag(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.refreshLag().catch(() => {})));
  }

  /** Task ids per thread (tests, logs). */
  assignment(): string[][] {
    return this.threads.map((t) => t.taskIds);
  }

  /** Clean shutdown: commit, close tasks, leave the group. */
  async close(): Promise<void> {
    // Every thread commits before any leaves: a leave starts a rebalance that would fail the
    // other threads' offset commits (REBALANCE_IN_PROGRESS).
    await Promise.all(this.threads.map((t) => t.stopAndCommit()));
    await Promise.all(this.threads.map((t) => t.leave()));
    this.log.info('closed');
  }

  /**
   * Simulated crash (tests): every thread stops inside its next non-empty transaction, after
   * sending and before committing, and leaves the group; the transactions stay open.
   */
  async crashAtNextCommit(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.crashAtNextCommit()));
  }

  /** After crashAtNextCommit: closes the producers left open (their transactions stay open). */
  async releaseCrashed(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.releaseCrashed()));
  }
}

/**
 * LogManager: every partition log of one broker, in one data directory.
 *
 * Layout: `<dataDir>/<topic>-<partition>/` per partition (partition-log.ts) and
 * `<dataDir>/topics.json`: {"version":1,"topics":{"<name>":{"partitions":N,"config":{…overrides}}}},
 * written with temp + fsync + rename + directory fsync, so after a crash it holds the old or
 * the new topic set, never a mix. A partition directory whose topic is not in topics.json
 * (a crash between creating the directory and committing the file, or during deletion) is
 * removed on open; deletion renames directories to `*-delete` before removing them.
 *
 * `<dataDir>/.lock` holds the owning process id (created exclusively): a second live process
 * opening the same directory gets ALREADY_EXISTS instead of corrupting it; a lock left by a
 * dead process (kill -9) is taken over.
 *
 * Topic names follow Kafka: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
 * Configuration: manager-wide defaults (`defaults`) overridden per topic; only overrides are
 * persisted, so changing a default applies to every topic that did not override it.
 *
 * Background work (`start`): every `maintenanceIntervalMs`, retention on every log and then
 * compaction of compacted logs, one at a time, never overlapping itself. Concurrency: one
 * event loop; all methods may be called while maintenance runs.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, SluiceError } from '../common/index.js';
import { resolveConfig } from './config.js';
import { readFileOrNull, removeTree, unlinkIfExists, writeFileAtomic } from './fs-util.js';
import { PartitionLog } from './partition-log.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './types.js';

const TOPICS_FILE = 'topics.json';
const LOCK_FILE = '.lock';
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export interface LogManagerOptions {
  dataDir: string;
  /** Broker-wide defaults for every topic (Kafka's log.* settings). */
  defaults?: Partial<LogConfig>;
  /** Period of retention/compaction passes once `start()`ed. Default 30 s. */
  maintenanceIntervalMs?: number;
  now?: () => number;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** Only the per-topic overrides. */
  overrides: Partial<LogConfig>;
  /** Effective configuration. */
  config: LogConfig;
}

interface TopicRecord {
  partitions: number;
  config: Partial<LogConfig>;
}

const log = createLogger('log');

export class LogManager {
  readonly dataDir: string;
  private readonly defaults: LogConfig;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private topicsMeta = new Map<string, TopicRecord>();
  private logs = new Map<string, PartitionLog>();
  private timer: NodeJS.Timeout | undefined;
  private maintenance: Promise<void> | undefined;
  private closed = false;

  private constructor(opts: LogManagerOptions) {
    this.dataDir = opts.dataDir;
    this.defaults = resolveConfig(opts.defaults ?? {}, DEFAULT_LOG_CONFIG);
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.maintenanceIntervalMs ?? 30_000;
  }

  /** Opens the data directory (creating it), recovering every partition log in it. */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    const m = new LogManager(opts);
    mkdirSync(m.dataDir, { recursive: true });
    acquireLock(m.dataDir);
    const raw = readFileOrNull(join(m.dataDir, TOPICS_FILE));
    if (raw !== null) {
      const parsed = JSON.parse(raw.toString('utf8')) as { topics: Record<string, TopicRecord> };
      for (const [name, t] of Object.entries(parsed.topics)) m.topicsMeta.set(name, t);
    }
    const expected = new Set<string>();
    for (const [name, t] of m.topicsMeta) for (let p = 0; p < t.partitions; p++) expected.add(`${name}-${p}`);
    for (const entry of readdirSync(m.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (!expected.has(entry.name) && /-\d+(\.\d+-delete)?$/.test(entry.name)) {
        removeTree(join(m.dataDir, entry.name));
      }
    }
    for (const [name, t] of m.topicsMeta)
      for (let p = 0; p < t.partitions; p++) await m.openPartition(name, p, t.config);
    return m;
  }

  private async openPartition(
    topic: string,
    partition: number,
    overrides: Partial<LogConfig>,
    fresh = false,
  ): Promise<void> {
    const pl = await PartitionLog.open(join(this.dataDir, `${topic}-${partition}`), {
      topic,
      partition,
      config: resolveConfig(overrides, this.defaults),
      now: this.now,
    });
    const r = pl.openReport;
    // A partition created just now has no clean-shutdown marker yet: nothing was recovered.
    if (!r.cleanShutdown && !fresh)
      log.warn(
        { topic, partition, ...r, logEndOffset: pl.logEndOffset },
        'recovered partition after unclean shutdown',
      );
    this.logs.set(`${topic}-${partition}`, pl);
  }

  private persist(): void {
    const topics: Record<string, TopicRecord> = {};
    for (const [name, t] of this.topicsMeta) topics[name] = t;
    writeFileAtomic(join(this.dataDir, TOPICS_FILE), JSON.stringify({ version: 1, topics }, null, 1));
  }

  private assertOpen(): void {
    if (this.closed) throw new SluiceError('CLOSED', 'log manager is closed');
  }

  async createTopic(name: string, partitions: number, overrides: Partial<LogConfig> = {}): Promise<void> {
    this.assertOpen();
    if (!TOPIC_NAME.test(name) || name === '.' || name === '..')
      throw new SluiceError('INVALID_ARGUMENT', `invalid topic name '${name}'`, { kafkaErrorCode: 17 });
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new SluiceError('INVALID_ARGUMENT', `invalid partition count ${partitions}`, {
        kafkaErrorCode: 37,
      });
    if (this.topicsMeta.has(name))
      throw new SluiceError('ALREADY_EXISTS', `topic '${name}' already exists`, { kafkaErrorCode: 36 });
    resolveConfig(overrides, this.defaults);
    const record = { partitions, config: { ...overrides } };
    this.topicsMeta.set(name, record);
    try {
      this.persist();
    } catch (err) {
      this.topicsMeta.delete(name);
      throw err;
    }
    for (let p = 0; p < partitions; p++) await this.openPartition(name, p, record.config, true);
  }

  /** Adds partitions (never removes: Kafka semantics). */
  async createPartitions(name: string, newCount: number): Promise<void> {
    this.assertOpen();
    const t = this.requireTopic(name);
    if (!Number.isInteger(newCount) || newCount <= t.partitions)
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `topic '${name}' has ${t.partitions} partitions; cannot set ${newCount}`,
        {
          kafkaErrorCode: 37,
        },
      );
    const old = t.partitions;
    t.partitions = newCount;
    this.persist();
    for (let p = old; p < newCount; p++) await this.openPartition(name, p, t.config, true);
  }

  async deleteTopic(name: string): Promise<void> {
    this.assertOpen();
    const t = this.requireTopic(name);
    this.topicsMeta.delete(name);
    this.persist();
    for (let p = 0; p < t.partitions; p++) {
      const key = `${name}-${p}`;
      const pl = this.logs.get(key);
      this.logs.delete(key);
      if (pl !== undefined) await pl.close().catch(() => undefined);
      const dir = join(this.dataDir, key);
      if (existsSync(dir)) {
        const tomb = `${dir}.${Date.now()}-delete`;
        renameSync(dir, tomb);
        removeTree(tomb);
      }
    }
  }

  /** Merges `overrides` into the topic's overrides (null removes one) and applies them live. */
  alterTopicConfig(name: string, overrides: Record<string, unknown>): void {
    this.assertOpen();
    const t = this.requireTopic(name);
    const next: Record<string, unknown> = { ...t.config };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    const effective = resolveConfig(next, this.defaults);
    const normalized: Record<string, unknown> = {};
    for (const k of Object.keys(next)) normalized[k] = effective[k as keyof LogConfig];
    t.config = normalized as Partial<LogConfig>;
    this.persist();
    for (let p = 0; p < t.partitions; p++) this.logs.get(`${name}-${p}`)?.updateConfig(effective);
  }

  private requireTopic(name: string): TopicRecord {
    const t = this.topicsMeta.get(name);
    if (t === undefined) throw new SluiceError('NOT_FOUND', `unknown topic '${name}'`, { kafkaErrorCode: 3 });
    return t;
  }

  describeTopic(name: string): TopicDescription {
    const t = this.requireTopic(name);
    return {
      name,
      partitions: t.partitions,
      overrides: { ...t.config },
      config: resolveConfig(t.config, this.defaults),
    };
  }

  topics(): TopicDescription[] {
    return [...this.topicsMeta.keys()].sort().map((n) => this.describeTopic(n));
  }

  hasTopic(name: string): boolean {
    return this.topicsMeta.has(name);
  }

  /** The partition's log; NOT_FOUND (Kafka UNKNOWN_TOPIC_OR_PARTITION) when absent. */
  getLog(topic: string, partition: number): PartitionLog {
    const pl = this.logs.get(`${topic}-${partition}`);
    if (pl === undefined)
      throw new SluiceError('NOT_FOUND', `unknown topic-partition ${topic}-${partition}`, {
        kafkaErrorCode: 3,
      });
    return pl;
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /** One retention + compaction pass over every log. Never runs twice at once. */
  runMaintenance(now: number = this.now()): Promise<void> {
    if (this.maintenance !== undefined) return this.maintenance;
    this.maintenance = (async () => {
      for (const pl of this.allLogs()) {
        if (this.closed) return;
        try {
          pl.enforceRetention(now);
          await pl.compact(now);
        } catch (err) {
          log.error({ err, topic: pl.topic, partition: pl.partition }, 'log maintenance failed');
        }
      }
    })().finally(() => {
      this.maintenance = undefined;
    });
    return this.maintenance;
  }

  /** Starts periodic maintenance (the timer does not keep the process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.runMaintenance(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops maintenance and closes every log cleanly (clean-shutdown markers written). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.maintenance?.catch(() => undefined);
    const errors: unknown[] = [];
    for (const pl of this.logs.values()) await pl.close().catch((e: unknown) => errors.push(e));
    const lock = join(this.dataDir, LOCK_FILE);
    if (readFileOrNull(lock)?.toString('utf8').trim() === String(process.pid)) unlinkIfExists(lock);
    if (errors.length > 0) throw errors[0];
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(dataDir: string): void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileOrNull(path)?.toString('utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner))
        throw new SluiceError('ALREADY_EXISTS', `data directory ${dataDir} is in use by process ${owner}`);
      unlinkIfExists(path);
    }
  }
  throw new SluiceError('IO', `could not lock data directory ${dataDir}`);
}

/**
 * `sluice topics create|list|describe|delete|alter`: topic administration against any Kafka
 * cluster (Sluice's broker or a real one) chosen with --bootstrap.
 *
 * Output: data on stdout (one topic per line for `list`; a readable block for `describe`, or
 * one JSON document with --json); diagnostics on stderr. Exit codes follow runCli: an unknown
 * topic is exit 1 naming it, a bad flag value exit 2.
 */
import type { Command } from 'commander';
import { SluiceError } from '../../common/index.js';
import {
  addClientOptions,
  type ClientOptions,
  ConfigClient,
  type ConfigEntry,
  clientOptions,
  createPartitions,
  out,
  parseKeyValue,
  topicMetadata,
  translateError,
  withAdmin,
} from '../kafka-client.js';
import { parsePositiveInt } from '../program.js';

interface CreateOpts extends ClientOptions {
  partitions: number;
  replicationFactor?: number;
  config?: [string, string][];
}

interface AlterOpts extends ClientOptions {
  partitions?: number;
  config?: [string, string][];
  deleteConfig?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  earliest: string;
  latest: string;
}

export function registerTopicsCommands(program: Command): void {
  const topics = program
    .command('topics')
    .description('create, list, describe, alter and delete topics on any Kafka cluster')
    .addHelpText(
      'after',
      `
Examples:
  sluice topics create orders --partitions 6 --config retention.ms=86400000
  sluice topics list --bootstrap broker1:9092,broker2:9092
  sluice topics describe orders
  sluice topics alter orders --partitions 12 --config cleanup.policy=compact
  sluice topics delete orders`,
    );

  addClientOptions(
    topics
      .command('create <name>')
      .description('create a topic')
      .option('--partitions <n>', 'number of partitions', parsePositiveInt, 1)
      .option(
        '--replication-factor <n>',
        'replicas per partition (default: the cluster default)',
        parsePositiveInt,
      )
      .option(
        '--config <key=value>',
        'a topic config, e.g. retention.ms=3600000 (repeatable)',
        parseKeyValue,
      ),
  ).action(async (name: string, raw: CreateOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    checkTopicName(name);
    await withAdmin(opts, async (admin) => {
      let created: boolean;
      try {
        created = await admin.createTopics({
          timeout: opts.timeout,
          topics: [
            {
              topic: name,
              numPartitions: opts.partitions,
              ...(opts.replicationFactor === undefined ? {} : { replicationFactor: opts.replicationFactor }),
              configEntries: (opts.config ?? []).map(([n, value]) => ({ name: n, value })),
            },
          ],
        });
      } catch (err) {
        throw createError(err, opts, name);
      }
      if (!created) throw new SluiceError('ALREADY_EXISTS', `topic '${name}' already exists`);
      out(cmd, `created topic ${name} with ${opts.partitions} partition(s)\n`);
    });
  });

  addClientOptions(
    topics
      .command('list')
      .description('list topics, one per line')
      .option('--internal', 'include internal topics (names starting with __)'),
  ).action(async (raw: ClientOptions & { internal?: boolean }, cmd: Command) => {
    const opts = clientOptions(raw);
    await withAdmin(opts, async (admin) => {
      const names = await admin.listTopics({ timeout: opts.timeout }).catch((e: unknown) => {
        throw translateError(e, opts, 'list topics');
      });
      for (const n of names.filter((t) => raw.internal === true || !t.startsWith('__')).sort())
        out(cmd, `${n}\n`);
    });
  });

  addClientOptions(
    topics
      .command('describe <name>')
      .description('partitions (leader, replicas, earliest and latest offsets) and configs of a topic')
      .option('--json', 'print one JSON document'),
  ).action(async (name: string, raw: ClientOptions & { json?: boolean }, cmd: Command) => {
    const opts = clientOptions(raw);
    const partitions = await withAdmin(opts, async (admin) => {
      const md = await topicMetadata(admin, opts, name);
      const offsets = await admin
        .fetchTopicOffsets(name, { timeout: opts.timeout } as never)
        .catch((e: unknown) => {
          throw translateError(e, opts, 'list offsets', name);
        });
      const byPartition = new Map(offsets.map((o) => [o.partition, o]));
      return md.partitions
        .map(
          (p): PartitionInfo => ({
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            earliest: byPartition.get(p.partitionId)?.low ?? '?',
            latest: byPartition.get(p.partitionId)?.high ?? '?',
          }),
        )
        .sort((a, b) => a.partition - b.partition);
    });
    const configs = await withConfigClient(opts, (c) => c.describeTopic(name));
    if (raw.json === true) {
      const config = Object.fromEntries(configs.map((c) => [c.name, c.sensitive ? null : c.value]));
      out(cmd, `${JSON.stringify({ topic: name, partitions, config })}\n`);
      return;
    }
    out(cmd, `topic ${name}: ${partitions.length} partition(s)\n`);
    out(cmd, 'partition  leader  replicas  isr       earliest  latest\n');
    for (const p of partitions) {
      out(
        cmd,
        `${String(p.partition).padEnd(10)} ${String(p.leader).padEnd(7)} ${p.replicas.join(',').padEnd(9)} ${p.isr
          .join(',')
          .padEnd(9)} ${p.earliest.padEnd(9)} ${p.latest}\n`,
      );
    }
    out(cmd, 'configs:\n');
    for (const c of configs) out(cmd, `  ${formatConfig(c)}\n`);
  });

  addClientOptions(topics.command('delete <name>').description('delete a topic and its data')).action(
    async (name: string, raw: ClientOptions, cmd: Command) => {
      const opts = clientOptions(raw);
      await withAdmin(opts, async (admin) => {
        await topicMetadata(admin, opts, name);
        await admin.deleteTopics({ topics: [name], timeout: opts.timeout }).catch((e: unknown) => {
          throw translateError(e, opts, `delete topic '${name}'`, name);
        });
      });
      out(cmd, `deleted topic ${name}\n`);
    },
  );

  addClientOptions(
    topics
      .command('alter <name>')
      .description('add partitions and set or reset topic configs')
      .option('--partitions <n>', 'new total number of partitions (can only grow)', parsePositiveInt)
      .option('--config <key=value>', 'set a topic config (repeatable)', parseKeyValue)
      .option('--delete-config <key>', 'reset a topic config to the cluster default (repeatable)', collect),
  ).action(async (name: string, raw: AlterOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    const changes: [string, string | null][] = [
      ...(opts.config ?? []),
      ...(opts.deleteConfig ?? []).map((k): [string, null] => [k, null]),
    ];
    if (opts.partitions === undefined && changes.length === 0)
      throw new SluiceError('USAGE', 'nothing to alter: give --partitions, --config or --delete-config');
    const current = await withAdmin(
      opts,
      async (admin) => (await topicMetadata(admin, opts, name)).partitions.length,
    );
    if (opts.partitions !== undefined) {
      if (opts.partitions < current)
        throw new SluiceError(
          'INVALID_ARGUMENT',
          `topic '${name}' has ${current} partitions; partitions can only grow`,
        );
      if (opts.partitions > current) {
        await createPartitions(opts, name, opts.partitions);
        out(cmd, `topic ${name}: partitions ${current} -> ${opts.partitions}\n`);
      }
    }
    if (changes.length > 0) {
      await withConfigClient(opts, (c) => c.alterTopic(name, changes));
      for (const [k, v] of changes) out(cmd, `topic ${name}: ${v === null ? `reset ${k}` : `${k}=${v}`}\n`);
    }
  });
}

/** Kafka's topic name rule, checked before asking the cluster so a typo is a usage error. */
function checkTopicName(name: string): void {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..')
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `'${name}' is not a valid topic name (1-249 characters of a-z A-Z 0-9 . _ -, not '.' or '..')`,
    );
}

function createError(err: unknown, opts: ClientOptions, name: string): SluiceError {
  // KafkaJS-style aggregate errors carry the per-topic errors in `errors`.
  const nested = (err as { errors?: { message?: string; code?: number }[] }).errors?.[0];
  const e = nested ?? (err as { message?: string; code?: number });
  if (e?.code === 40 || /invalid config|INVALID_CONFIG/i.test(e?.message ?? ''))
    return new SluiceError('INVALID_ARGUMENT', `topic '${name}': ${e.message}`, { cause: err });
  if (e?.code === 17 || /invalid topic/i.test(e?.message ?? ''))
    return new SluiceError('INVALID_ARGUMENT', `'${name}' is not a valid topic name: ${e.message}`, {
      cause: err,
    });
  return translateError(e, opts, `create topic '${name}'`, name);
}

async function withConfigClient<T>(opts: ClientOptions, fn: (c: ConfigClient) => Promise<T>): Promise<T> {
  const c = await ConfigClient.open(opts);
  try {
    return await fn(c);
  } catch (err) {
    throw err instanceof SluiceError ? err : translateError(err, opts, 'configs');
  } finally {
    c.close();
  }
}

function formatConfig(c: ConfigEntry): string {
  const value = c.sensitive ? '(sensitive)' : (c.value ?? '(null)');
  return `${c.name}=${value}  [${c.source}${c.readOnly ? ', read-only' : ''}]`;
}

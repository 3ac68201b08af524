/**
 * `sluice consume <topic>`: print records from any Kafka cluster to stdout (data only; the
 * summary and errors go to stderr).
 *
 * Two modes:
 * - without --group: the partitions (all, or --partition) are assigned directly, starting at
 *   --from-beginning, --offset N, --from-timestamp (the first record at or after it) or, by
 *   default, the end; nothing is committed.
 * - with --group: the topic is subscribed in that consumer group (rebalancing with other
 *   members); consumed offsets are committed; --from-beginning picks the start when the group
 *   has no committed offset. --offset, --from-timestamp and --partition need the first mode.
 *
 * Stops after --max-messages records, after --timeout-ms without a record, or on SIGINT /
 * SIGTERM (the consumer leaves its group and commits before the command exits 0).
 * Formats: value (the value), kv (key, --key-separator, value), json (one object per line
 * with topic, partition, offset, timestamp, key, value, headers). --print-headers prefixes
 * value and kv lines with the headers as k=v,k=v and a tab. Keys and values print as UTF-8.
 * With --registry <url>, values are Confluent wire-format messages (magic 0, schema id,
 * payload) decoded with the writer's schema fetched by id (cached) and printed as JSON
 * (64-bit integers exact, bytes as base64); a null value stays null. A value that is not in
 * the wire format, or whose id the registry does not know, fails the command naming the
 * partition and offset (records before it were printed).
 */
import ck from '@confluentinc/kafka-javascript';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../../common/index.js';
import { deserializer, RegistryClient } from '../../registry/index.js';
import {
  addClientOptions,
  type ClientOptions,
  clientOptions,
  err,
  isStdoutClosed,
  out,
  parseNonNegativeInt,
  rdkafkaConfig,
  topicMetadata,
  translateError,
  withAdmin,
} from '../kafka-client.js';
import { parsePositiveInt } from '../program.js';
import { decodedValueJson } from '../schema-files.js';

const { RdKafka } = ck;
type RdMessage = {
  value: Buffer | null;
  key?: Buffer | string | null;
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  headers?: { [k: string]: Buffer | string }[];
};

interface ConsumeOpts extends ClientOptions {
  fromBeginning?: boolean;
  offset?: number;
  fromTimestamp?: number;
  partition?: number;
  group?: string;
  maxMessages?: number;
  timeoutMs?: number;
  format: 'value' | 'kv' | 'json';
  keySeparator: string;
  printHeaders?: boolean;
  registry?: string;
}

/** ISO-8601 date/time or epoch milliseconds. */
export function parseTimestamp(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(`expected an ISO date/time or epoch milliseconds, got '${value}'`);
  return ms;
}

/** How consume --registry turns Protobuf messages into JSON: 64-bit as strings, enum names, defaults. */
export const PROTOBUF_JSON = {
  longs: String,
  enums: String,
  bytes: Buffer as never,
  defaults: true,
} as const;

const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

function text(b: Buffer | string | null | undefined): string | null {
  if (b === null || b === undefined) return null;
  return typeof b === 'string' ? b : b.toString('utf8');
}

function headerPairs(m: RdMessage): [string, string][] {
  return (m.headers ?? []).flatMap((h) =>
    Object.entries(h).map(([k, v]): [string, string] => [k, text(v) ?? '']),
  );
}

export function formatRecord(
  m: RdMessage,
  opts: Pick<ConsumeOpts, 'format' | 'keySeparator' | 'printHeaders'> & {
    /** The value is JSON text (decoded with the registry): --format json embeds it as JSON. */
    valueIsJson?: boolean;
  },
): string {
  if (opts.format === 'json') {
    const value = text(m.value);
    return JSON.stringify({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp,
      key: text(m.key),
      value: opts.valueIsJson === true && value !== null ? (JSON.parse(value) as unknown) : value,
      headers: Object.fromEntries(headerPairs(m)),
    });
  }
  const prefix =
    opts.printHeaders === true
      ? `${headerPairs(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}\t`
      : '';
  const value = text(m.value) ?? '';
  if (opts.format === 'kv') return `${prefix}${text(m.key) ?? ''}${opts.keySeparator}${value}`;
  return `${prefix}${value}`;
}

export function registerConsumeCommand(program: Command): void {
  addClientOptions(
    program
      .command('consume <topic>')
      .description('print records of a topic to stdout')
      .option('--from-beginning', 'start at the earliest offset (default: only new records)')
      .option(
        '--offset <n>',
        'start at this offset (in --partition, or in every partition)',
        parseNonNegativeInt,
      )
      .option(
        '--from-timestamp <time>',
        'start at the first record at or after this ISO time or epoch ms',
        parseTimestamp,
      )
      .option('--partition <n>', 'read only this partition', parseNonNegativeInt)
      .option('--group <id>', 'consume as a member of this consumer group and commit offsets')
      .option('--max-messages <n>', 'stop after this many records', parsePositiveInt)
      .option(
        '--timeout-ms <ms>',
        'stop after this long without a record (default: wait for ever)',
        parsePositiveInt,
      )
      .addOption(
        new Option('--format <format>', 'output: value, kv (key<sep>value) or json')
          .choices(['value', 'kv', 'json'])
          .default('value'),
      )
      .option('--key-separator <sep>', 'separator between key and value in --format kv (\\t for a tab)', '\t')
      .option('--print-headers', 'prefix value and kv lines with k=v,… headers and a tab')
      .addOption(
        new Option(
          '--registry <url>',
          'decode wire-format values with this schema registry and print them as JSON',
        ).env('SLUICE_REGISTRY_URL'),
      )
      .addHelpText(
        'after',
        `
Examples:
  sluice consume orders --from-beginning --max-messages 10
  sluice consume orders --partition 0 --offset 1000 --format json
  sluice consume orders --from-timestamp 2026-01-01T00:00:00Z --timeout-ms 5000
  sluice consume orders --group audit --format kv --key-separator :
  sluice consume payments --from-beginning --registry http://127.0.0.1:8081 --timeout-ms 2000`,
      ),
  ).action(async (topic: string, raw: ConsumeOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    const starts = [opts.fromBeginning === true, opts.offset !== undefined, opts.fromTimestamp !== undefined];
    if (starts.filter(Boolean).length > 1)
      throw new SluiceError('USAGE', 'give at most one of --from-beginning, --offset, --from-timestamp');
    if (
      opts.group !== undefined &&
      (opts.offset !== undefined || opts.fromTimestamp !== undefined || opts.partition !== undefined)
    )
      throw new SluiceError(
        'USAGE',
        '--group subscribes to the whole topic: --offset, --from-timestamp and --partition need consuming without --group',
      );
    const separator = opts.keySeparator.replace(/\\t/g, '\t');
    // Protobuf: every field printed, proto3 defaults included (as Confluent's console consumer).
    const decode =
      opts.registry === undefined
        ? undefined
        : deserializer(new RegistryClient({ url: opts.registry }), { protobufObjectOptions: PROTOBUF_JSON });

    // Bounded check that the cluster answers and the topic exists; the start positions.
    const assignment = await withAdmin(opts, async (admin) => {
      const md = await topicMetadata(admin, opts, topic);
      const partitions = md.partitions.map((p) => p.partitionId).sort((a, b) => a - b);
      if (opts.partition !== undefined && !partitions.includes(opts.partition))
        throw new SluiceError(
          'NOT_FOUND',
          `topic '${topic}' has no partition ${opts.partition} (it has ${partitions.length})`,
        );
      if (opts.group !== undefined) return undefined;
      const chosen = opts.partition === undefined ? partitions : [opts.partition];
      if (opts.fromTimestamp !== undefined) {
        const found = await admin
          .fetchTopicOffsetsByTimestamp(topic, opts.fromTimestamp, { timeout: opts.timeout } as never)
          .catch((e: unknown) => {
            throw translateError(e, opts, 'list offsets by timestamp', topic);
          });
        const at = new Map(found.map((o) => [o.partition, Number(o.offset)]));
        return chosen.map((partition) => ({ topic, partition, offset: at.get(partition) ?? OFFSET_END }));
      }
      const offset = opts.offset ?? (opts.fromBeginning === true ? OFFSET_BEGINNING : OFFSET_END);
      return chosen.map((partition) => ({ topic, partition, offset }));
    });

    const consumer = new RdKafka.KafkaConsumer(
      {
        ...rdkafkaConfig(opts),
        'group.id': opts.group ?? `sluice-cli-${process.pid}-${Date.now()}`,
        'enable.auto.commit': opts.group !== undefined,
        'enable.partition.eof': false,
      } as never,
      { 'auto.offset.reset': opts.fromBeginning === true ? 'earliest' : 'latest' } as never,
    );
    await new Promise<void>((resolve, reject) => {
      consumer.connect({ timeout: opts.timeout } as never, (e) =>
        e ? reject(translateError(e, opts, 'connect consumer', topic)) : resolve(),
      );
    });

    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let count = 0;
    try {
      if (assignment === undefined) consumer.subscribe([topic]);
      else consumer.assign(assignment);
      consumer.setDefaultConsumeTimeout(100);
      let lastRecord = Date.now();
      while (!stopped && !isStdoutClosed()) {
        const want = Math.min(1000, opts.maxMessages === undefined ? 1000 : opts.maxMessages - count);
        if (want <= 0) break;
        const batch = await new Promise<RdMessage[]>((resolve, reject) => {
          consumer.consume(want, (e, messages) =>
            e ? reject(translateError(e, opts, 'consume', topic)) : resolve(messages as RdMessage[]),
          );
        });
        if (batch.length === 0) {
          if (opts.timeoutMs !== undefined && Date.now() - lastRecord >= opts.timeoutMs) break;
          continue;
        }
        lastRecord = Date.now();
        let chunk = '';
        for (const m of batch) {
          if (decode !== undefined && m.value !== null) {
            try {
              m.value = Buffer.from(decodedValueJson(await decode(m.value)));
            } catch (e) {
              out(cmd, chunk);
              throw new SluiceError(
                'DESERIALIZATION',
                `${topic} partition ${m.partition} offset ${m.offset}: ${(e as Error).message}`,
                { cause: e },
              );
            }
          }
          chunk += `${formatRecord(m, { ...opts, keySeparator: separator, valueIsJson: decode !== undefined })}\n`;
        }
        out(cmd, chunk);
        count += batch.length;
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
    err(cmd, `consumed ${count} records from ${topic}${stopped ? ' (interrupted)' : ''}\n`);
  });
}

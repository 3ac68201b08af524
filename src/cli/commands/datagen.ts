/**
 * `sluice datagen nexmark --topic <t>`: the Nexmark generator as a producer into a topic, on
 * any Kafka cluster (Sluice's broker or a real one), through the producer core shared with
 * `sluice produce` (cli/producer.ts).
 *
 * Records: key = the event's entity id (person id, auction id, a bid's auction id) as decimal
 * UTF-8, value = the nexmark/nexmark JSON layout (connectors' encodeEvent), record timestamp =
 * the event time. Keys are placed with murmur2 (librdkafka's murmur2_random), as the Java client
 * and Kafka Streams place them, so all bids of an auction and the auction itself share a
 * partition. Content is a function of (--seed, --base-time, --event-rate, --out-of-order-group)
 * only: two runs with the same flags produce the same bytes in the same partitions.
 *
 * --rate paces the wall clock (events/s, 0 = as fast as the producer takes them); event time
 * is paced separately by --event-rate (Nexmark's firstEventRate). A topic that does not exist
 * is created with --partitions (default 1); an existing one must have that many when the flag
 * is given.
 *
 * Progress goes to stderr once a second (carriage return on a terminal, one line otherwise;
 * --no-progress turns it off), the summary at the end. SIGINT/SIGTERM stop generation, flush
 * (every record handed to the producer is waited for) and print the summary marked
 * "interrupted"; the exit code is then 0, as for `sluice consume`. Exit 0 always means the
 * cluster acknowledged every record counted in the summary.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../../common/index.js';
import { AUCTION, BID, encodeEvent, NexmarkGenerator, PERSON } from '../../connectors/index.js';
import {
  addClientOptions,
  type ClientOptions,
  clientOptions,
  err,
  parseNonNegativeInt,
  translateError,
  withAdmin,
} from '../kafka-client.js';
import { CliProducer, COMPRESSION_CHOICES, type Compression } from '../producer.js';
import { parsePositiveInt } from '../program.js';

interface DatagenOpts extends ClientOptions {
  topic: string;
  events?: number;
  rate: number;
  seed: number;
  partitions?: number;
  format: 'json';
  eventRate: number;
  baseTime?: number;
  outOfOrderGroup: number;
  acks: '0' | '1' | 'all';
  compression: Compression;
  progress: boolean;
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected an integer, got '${value}'`);
  return n;
}

/** Creates the topic with `partitions` when missing; checks the count when it exists. */
async function ensureTopic(opts: DatagenOpts): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const topics = await admin.listTopics({ timeout: opts.timeout });
    if (topics.includes(opts.topic)) {
      const [md] = await admin.fetchTopicMetadata({ topics: [opts.topic], timeout: opts.timeout });
      const have = md?.partitions.length ?? 0;
      if (opts.partitions !== undefined && have !== opts.partitions)
        throw new SluiceError(
          'INVALID_ARGUMENT',
          `topic '${opts.topic}' exists with ${have} partition(s), not --partitions ${opts.partitions}`,
        );
      return have;
    }
    const partitions = opts.partitions ?? 1;
    try {
      await admin.createTopics({
        timeout: opts.timeout,
        topics: [{ topic: opts.topic, numPartitions: partitions }],
      });
    } catch (e) {
      throw translateError(e, opts, `create topic '${opts.topic}'`, opts.topic);
    }
    return partitions;
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function registerDatagenCommands(program: Command): void {
  const datagen = program.command('datagen').description('generate benchmark data into a topic');
  addClientOptions(
    datagen
      .command('nexmark')
      .description('produce Nexmark events (Person, Auction, Bid) into a topic')
      .requiredOption('--topic <name>', 'topic to produce into (created when missing)')
      .option('--events <n>', 'events to produce (default: until interrupted)', parsePositiveInt)
      .option(
        '--rate <n>',
        'events per second of wall-clock time, 0 = as fast as possible',
        parseNonNegativeInt,
        0,
      )
      .option('--seed <n>', 'generator seed (same seed and base time = same bytes)', parseInteger, 1)
      .option(
        '--partitions <n>',
        'partitions of the topic (created with this many; default 1)',
        parsePositiveInt,
      )
      .addOption(new Option('--format <format>', 'value encoding').choices(['json']).default('json'))
      .option(
        '--event-rate <n>',
        "events per second of event time (Nexmark's firstEventRate)",
        parsePositiveInt,
        10_000,
      )
      .option(
        '--base-time <ms>',
        'event time of the first event, ms since the epoch (default: now)',
        parseInteger,
      )
      .option(
        '--out-of-order-group <n>',
        'deliver events shuffled within groups of n (1 = in event-time order)',
        parsePositiveInt,
        1,
      )
      .addOption(
        new Option('--acks <acks>', 'acknowledgements to wait for').choices(['0', '1', 'all']).default('all'),
      )
      .addOption(
        new Option('--compression <codec>', 'compression codec').choices(COMPRESSION_CHOICES).default('none'),
      )
      .option('--no-progress', 'do not print progress to stderr')
      .addHelpText(
        'after',
        `
Examples:
  sluice datagen nexmark --topic nexmark --events 10000000 --partitions 4
  sluice datagen nexmark --topic nexmark --rate 50000 --seed 7 --base-time 1700000000000`,
      ),
  ).action(async (raw: DatagenOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    const gen = new NexmarkGenerator({
      seed: opts.seed,
      firstEventRate: opts.eventRate,
      baseTime: opts.baseTime ?? Date.now(),
      outOfOrderGroupSize: opts.outOfOrderGroup,
    });
    const partitions = await ensureTopic(opts);
    const producer = await CliProducer.open(opts, {
      topic: opts.topic,
      acks: opts.acks,
      compression: opts.compression,
      partitioner: 'murmur2_random',
    });

    let stopped: NodeJS.Signals | undefined;
    const onSignal = (s: NodeJS.Signals) => {
      stopped = s;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const tty = process.stderr.isTTY === true;
    const kinds = [0, 0, 0];
    const limit = opts.events ?? Number.POSITIVE_INFINITY;
    // Records per turn of the event loop: small at low rates so pacing stays smooth.
    const chunk = opts.rate > 0 ? Math.max(1, Math.min(1000, Math.floor(opts.rate / 100))) : 1000;
    const t0 = performance.now();
    let lastProgress = t0;
    const progress = (now: number) => {
      const s = (now - t0) / 1000;
      const line = `datagen nexmark: ${fmt(producer.sent)} events${Number.isFinite(limit) ? ` of ${fmt(limit)}` : ''}, ${fmt(producer.delivered)} acknowledged, ${(producer.bytes / 1e6).toFixed(1)} MB, ${fmt(producer.sent / Math.max(s, 1e-9))} events/s`;
      err(cmd, tty ? `\r${line}\x1b[K` : `${line}\n`);
    };
    try {
      while (producer.sent < limit && stopped === undefined && !producer.failed) {
        const n = Math.min(chunk, limit - producer.sent);
        for (let i = 0; i < n; i++) {
          const e = gen.next();
          kinds[e.kind]++;
          const { key, value, timestamp } = encodeEvent(e);
          const wait = producer.send(null, value as Buffer, key as Buffer, timestamp);
          if (wait !== undefined) await wait;
        }
        const now = performance.now();
        if (opts.progress && now - lastProgress >= 1000) {
          lastProgress = now;
          progress(now);
        }
        if (opts.rate > 0) {
          const due = t0 + (producer.sent / opts.rate) * 1000;
          if (due > now) await new Promise((r) => setTimeout(r, due - now));
          else await new Promise((r) => setImmediate(r));
        } else {
          // Let delivery reports and signals in.
          await new Promise((r) => setImmediate(r));
        }
      }
      await producer.finish();
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await producer.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (opts.progress) progress(performance.now());
    if (opts.progress && tty) err(cmd, '\n');
    err(
      cmd,
      `produced ${producer.sent} Nexmark events (${kinds[PERSON]} persons, ${kinds[AUCTION]} auctions, ${kinds[BID]} bids; ${producer.bytes} bytes) to ${opts.topic} (${partitions} partition(s)) in ${seconds.toFixed(2)} s (${fmt(producer.sent / Math.max(seconds, 1e-9))} events/s)${stopped === undefined ? '' : ` (interrupted by ${stopped})`}\n`,
    );
  });
}

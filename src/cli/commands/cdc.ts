/**
 * `sluice cdc postgres`: runs the Debezium-compatible Postgres CDC source until SIGINT or
 * SIGTERM, then stops cleanly (delivers what is complete, saves the offset, confirms the
 * slot) and exits 130/143. A fatal error (slot dropped, permission revoked, bad config)
 * exits 1 (2 for configuration) with the error on stderr.
 *
 * Output: `--bootstrap host:port` (any Kafka cluster; offsets in `_sluice_cdc_offsets`),
 * or `--sink-file <path>` (an fsync'd local record file, offsets in `<path>.offsets/`;
 * for running without Kafka and for the chaos tests). Progress lines go to stderr.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../../common/index.js';
import {
  type ChangeSink,
  FileChangeSink,
  FileOffsetStore,
  KafkaChangeSink,
  KafkaOffsetStore,
  type OffsetStore,
  PostgresCdcSource,
} from '../../connectors/index.js';
import { RegistryClient } from '../../registry/index.js';
import { parsePositiveInt } from '../program.js';

interface CdcFlags {
  url: string;
  tables: string[];
  topicPrefix: string;
  bootstrap?: string;
  sinkFile?: string;
  slot?: string;
  publication?: string;
  format: 'json' | 'json-schema' | 'avro';
  registry?: string;
  snapshot: 'initial' | 'never';
  decimalMode: 'precise' | 'string' | 'double';
  transactionTopic?: boolean;
  heartbeatMs: number;
  chunkRows: number;
  keylessTables: 'error' | 'replica-identity-full';
  resetOffsets?: boolean;
  offsetsTopic?: string;
}

function parseTables(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new InvalidArgumentError('expected schema.table[,schema.table…]');
  return list;
}

function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected an integer ≥ 0, got '${value}'`);
  return n;
}

export function registerCdcCommands(program: Command): void {
  const cdc = program.command('cdc').description('change data capture sources');
  cdc
    .command('postgres')
    .description('stream Postgres changes (pgoutput) as Debezium-compatible events')
    .requiredOption('--url <url>', 'Postgres URL, postgres://user:pass@host:port/db')
    .requiredOption('--tables <list>', 'tables to capture: schema.table,…', parseTables)
    .requiredOption('--topic-prefix <prefix>', 'topics are <prefix>.<schema>.<table>')
    .option('--bootstrap <servers>', 'Kafka bootstrap servers host:port[,…]')
    .option('--sink-file <path>', "write records to an fsync'd local file instead of Kafka")
    .option('--slot <name>', 'replication slot (default sluice_<prefix>)')
    .option('--publication <name>', 'publication (default sluice_<prefix>)')
    .addOption(
      new Option('--format <format>', 'record format')
        .choices(['json', 'json-schema', 'avro'])
        .default('json'),
    )
    .option('--registry <url>', 'schema registry URL (for --format avro)')
    .addOption(
      new Option('--snapshot <mode>', 'initial snapshot').choices(['initial', 'never']).default('initial'),
    )
    .addOption(
      new Option('--decimal-mode <mode>', 'numeric/decimal handling')
        .choices(['precise', 'string', 'double'])
        .default('precise'),
    )
    .option('--transaction-topic', 'write BEGIN/END records to <prefix>.transaction')
    .option('--heartbeat-ms <ms>', 'heartbeat interval (0: off)', parseNonNegativeInt, 10_000)
    .option('--chunk-rows <n>', 'snapshot rows per chunk', parsePositiveInt, 10_000)
    .addOption(
      new Option(
        '--keyless-tables <mode>',
        'tables without a primary key: refuse, or set REPLICA IDENTITY FULL',
      )
        .choices(['error', 'replica-identity-full'])
        .default('error'),
    )
    .option('--offsets-topic <topic>', 'offsets topic (with --bootstrap)')
    .option('--reset-offsets', 'forget the stored offset of the slot and exit (after a lost slot)')
    .action(async (flags: CdcFlags) => {
      if ((flags.bootstrap === undefined) === (flags.sinkFile === undefined))
        throw new SluiceError('USAGE', 'give exactly one of --bootstrap <host:port> or --sink-file <path>');
      if (flags.format === 'avro' && flags.registry === undefined)
        throw new SluiceError('USAGE', '--format avro needs --registry <url>');
      let sink: ChangeSink;
      let offsets: OffsetStore;
      if (flags.bootstrap !== undefined) {
        sink = new KafkaChangeSink({ bootstrap: flags.bootstrap });
        offsets = new KafkaOffsetStore({ bootstrap: flags.bootstrap, offsetsTopic: flags.offsetsTopic });
      } else {
        sink = await FileChangeSink.open(flags.sinkFile as string);
        offsets = new FileOffsetStore(`${flags.sinkFile}.offsets`);
      }
      const source = new PostgresCdcSource({
        url: flags.url,
        tables: flags.tables,
        topicPrefix: flags.topicPrefix,
        sink,
        offsets,
        slot: flags.slot,
        publication: flags.publication,
        format: flags.format,
        ...(flags.registry === undefined ? {} : { registry: new RegistryClient({ url: flags.registry }) }),
        snapshot: flags.snapshot,
        decimalMode: flags.decimalMode,
        transactionTopic: flags.transactionTopic === true,
        heartbeatIntervalMs: flags.heartbeatMs,
        snapshotChunkRows: flags.chunkRows,
        noPrimaryKey: flags.keylessTables,
        onSnapshotProgress: (p) =>
          process.stderr.write(
            `snapshot ${p.table}: ${p.rows} rows${p.done ? ' (done)' : ''} [${p.tablesDone}/${p.tablesTotal} tables]\n`,
          ),
        onReconnect: (err, attempt) =>
          process.stderr.write(`reconnecting (attempt ${attempt}): ${err.message}\n`),
      });
      if (flags.resetOffsets === true) {
        await offsets.clear(source.slot);
        await offsets.close();
        process.stderr.write(`cleared the stored offset of slot ${source.slot}\n`);
        return;
      }
      let signalled: number | undefined;
      const onSignal = (code: number) => () => {
        signalled = code;
        void source.stop();
      };
      const onInt = onSignal(130);
      const onTerm = onSignal(143);
      process.once('SIGINT', onInt);
      process.once('SIGTERM', onTerm);
      try {
        await source.start();
        process.stderr.write(`streaming from slot ${source.slot}\n`);
        await source.done;
      } catch (err) {
        // Stopped by a signal during set-up or the snapshot: a clean stop, not a failure.
        if (signalled === undefined) throw err;
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        await sink.close();
        await offsets.close();
      }
      if (signalled !== undefined) process.exit(signalled);
    });
}

/**
 * `sluice broker`: runs the embedded Kafka-compatible broker in the foreground until SIGINT or
 * SIGTERM, then shuts down cleanly (connections closed, logs flushed, clean-shutdown markers
 * written so the next start skips recovery) and exits 0.
 *
 * Configuration (later wins): defaults < `--config <file>` (JSON, camelCase keys as in
 * src/broker/config.ts, plus `topicDefaults` and `sasl`) < SLUICE_BROKER_* environment < flags.
 * Flags are passed on only when given, so they never mask the file or the environment.
 * Defaults: 127.0.0.1:9092, data directory ./sluice-data (relative to the working directory).
 *
 * Output: one line on stdout once listening: `sluice broker listening on HOST:PORT …`.
 * With --registry the schema registry is served too (on --registry-port, default 8081, same
 * --host), its schemas in the broker's own `_schemas` topic through the embedded transport
 * (in-process, no TCP); a second line `schema registry listening on URL …` follows. On a
 * signal the registry stops before the broker.
 * SLUICE_BROKER_TRACE=<file> keeps a request trace (broker/request-trace.ts: Produce/Fetch
 * timings with offsets, GC pauses, event-loop lateness) and writes it to <file> on shutdown;
 * a diagnostic for bench/broker.ts, off by default.
 * Exit codes: 0 after a signal, 1 when the port is in use or the data directory cannot be
 * created, written or locked, 2 for a bad flag or configuration value.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Broker, resolveBrokerConfig } from '../../broker/index.js';
import { isSluiceError, SluiceError } from '../../common/index.js';
import { createRegistryServer, type RegistryServer, TopicStorage } from '../../registry/index.js';
import { createEmbeddedTransport } from '../../transport/index.js';
import { registryListeningLine } from './registry.js';

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${min}..${max}, got '${value}'`);
    return n;
  };
}

interface BrokerOpts {
  port?: number;
  host?: string;
  advertisedHost?: string;
  advertisedPort?: number;
  dataDir?: string;
  config?: string;
  nodeId?: number;
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
  maxRequestBytes?: number;
  maxConnections?: number;
  flushMs?: number;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  maxMessageBytes?: number;
  registry?: boolean;
  registryPort?: number;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (err) {
    throw new SluiceError('INVALID_ARGUMENT', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new SluiceError(
      'INVALID_CONFIG',
      `config file ${path} is not a JSON object: ${(err as Error).message}`,
    );
  }
}

/** Turns the OS's errors for the listener and the data directory into one clear sentence. */
function explain(err: unknown, host: string, port: number, dataDir: string): unknown {
  if (isSluiceError(err)) {
    if (err.code === 'ALREADY_EXISTS' && /data directory/.test(err.message))
      return new SluiceError('IO', `${err.message}: is another broker running on it?`);
    return err;
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    return new SluiceError('IO', `cannot listen on ${host}:${port}: the port is already in use`);
  if (e.code === 'EADDRNOTAVAIL')
    return new SluiceError('IO', `cannot listen on ${host}:${port}: no such local address`);
  if (e.code === 'EACCES' && e.syscall === 'listen')
    return new SluiceError('IO', `cannot listen on ${host}:${port}: permission denied`);
  if (
    e.code === 'EACCES' ||
    e.code === 'EPERM' ||
    e.code === 'EROFS' ||
    e.code === 'ENOTDIR' ||
    e.code === 'EEXIST'
  )
    return new SluiceError('IO', `data directory ${dataDir} is not usable: ${e.message}`);
  return err;
}

export function registerBrokerCommand(program: Command): void {
  program
    .command('broker')
    .description('run the Kafka-compatible broker in the foreground (Ctrl-C stops it cleanly)')
    .addOption(
      new Option('--port <n>', 'port to listen on, 0 for any free port (default 9092)').argParser(
        int(0, 65535),
      ),
    )
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory of the logs (default ./sluice-data)')
    .option('--config <file>', 'JSON configuration file (keys as in the docs; topicDefaults, sasl)')
    .option('--advertised-host <host>', 'host clients are told to connect to (default: --host)')
    .addOption(
      new Option('--advertised-port <n>', 'port clients are told to connect to').argParser(int(0, 65535)),
    )
    .addOption(new Option('--node-id <n>', 'broker node id (default 1)').argParser(int(0)))
    .option('--no-auto-create-topics', 'do not create topics on first use')
    .addOption(
      new Option('--default-partitions <n>', 'partitions of auto-created topics (default 1)').argParser(
        int(1),
      ),
    )
    .addOption(
      new Option('--max-request-bytes <n>', 'largest request accepted (default 100 MiB)').argParser(
        int(1024),
      ),
    )
    .addOption(
      new Option('--max-connections <n>', 'most client connections at once (default 10000)').argParser(
        int(1),
      ),
    )
    .addOption(
      new Option(
        '--flush-ms <n>',
        'durability for new topics: 0 fsync before every ack (default), N fsync every N ms, -1 leave it to the OS',
      ).argParser(int(-1)),
    )
    .addOption(
      new Option('--retention-ms <n>', 'retention.ms of new topics (-1: keep forever)').argParser(int(-1)),
    )
    .addOption(
      new Option('--retention-bytes <n>', 'retention.bytes of new topics (-1: unlimited)').argParser(int(-1)),
    )
    .addOption(new Option('--segment-bytes <n>', 'segment.bytes of new topics').argParser(int(14)))
    .addOption(new Option('--max-message-bytes <n>', 'max.message.bytes of new topics').argParser(int(0)))
    .option('--registry', "also serve the schema registry, stored in this broker's _schemas topic")
    .addOption(
      new Option(
        '--registry-port <n>',
        'port of the schema registry (0: any free port; default 8081)',
      ).argParser(int(0, 65535)),
    )
    .action(async (opts: BrokerOpts, cmd: Command) => {
      if (opts.registryPort !== undefined && opts.registry !== true)
        throw new SluiceError('USAGE', '--registry-port needs --registry');
      const file = opts.config === undefined ? undefined : readConfigFile(opts.config);
      // --no-auto-create-topics sets false; commander reports true when absent: pass only false.
      const config = resolveBrokerConfig({
        ...(file === undefined ? {} : { file }),
        env: process.env,
        flags: {
          port: opts.port,
          host: opts.host,
          advertisedHost: opts.advertisedHost,
          advertisedPort: opts.advertisedPort,
          dataDir: opts.dataDir,
          nodeId: opts.nodeId,
          autoCreateTopics: opts.autoCreateTopics === false ? false : undefined,
          defaultPartitions: opts.defaultPartitions,
          maxRequestBytes: opts.maxRequestBytes,
          maxConnections: opts.maxConnections,
        },
      });
      const topicFlags: [string, number | undefined][] = [
        ['flush.ms', opts.flushMs],
        ['retention.ms', opts.retentionMs],
        ['retention.bytes', opts.retentionBytes],
        ['segment.bytes', opts.segmentBytes],
        ['max.message.bytes', opts.maxMessageBytes],
      ];
      for (const [k, v] of topicFlags) if (v !== undefined) config.topicDefaults[k] = v;
      config.dataDir = resolve(config.dataDir);
      const tracePath = process.env.SLUICE_BROKER_TRACE || undefined;

      let broker: Broker;
      try {
        broker = await Broker.start(config, tracePath === undefined ? {} : { trace: true });
      } catch (err) {
        throw explain(err, config.host, config.port, config.dataDir);
      }
      const write = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      const { host, port } = broker.address;
      write(
        `sluice broker listening on ${host}:${port} (advertised ${config.advertisedHost}:${broker.cluster.node.port}), data dir ${config.dataDir}\n`,
      );
      let registry: RegistryServer | undefined;
      const transport = opts.registry === true ? createEmbeddedTransport(broker) : undefined;
      if (transport !== undefined) {
        try {
          registry = await createRegistryServer({
            storage: new TopicStorage(transport),
            port: opts.registryPort ?? 8081,
            host: config.host,
          });
        } catch (err) {
          await transport.close();
          await broker.close();
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'EADDRINUSE')
            throw new SluiceError(
              'IO',
              `cannot listen on ${config.host}:${opts.registryPort ?? 8081} for the registry: the port is already in use`,
            );
          throw err;
        }
        write(registryListeningLine(registry));
      }
      const signal = await new Promise<NodeJS.Signals>((done) => {
        process.once('SIGINT', () => done('SIGINT'));
        process.once('SIGTERM', () => done('SIGTERM'));
      });
      process.stderr.write(`sluice broker: ${signal}, shutting down\n`);
      await registry?.close();
      await transport?.close();
      await broker.close();
      if (tracePath !== undefined) broker.trace?.writeTo(resolve(tracePath));
    });
}

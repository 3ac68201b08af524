/**
 * `sluice run <app.ts|app.js>`: runs a stream application file until SIGINT/SIGTERM.
 *
 * The file's default export is a StreamApp (src/stream/api) or a function (possibly async)
 * returning one; `.ts` files are loaded through tsx. Transport:
 *   --bootstrap <servers> (or env SLUICE_BOOTSTRAP): the kafka transport, any cluster;
 *   --embedded --data-dir <dir> [--port n]: Sluice's broker starts in this process (TCP
 *     listener on --port, default 9092, for other tools) and the app uses the embedded
 *     transport (no TCP between the app and the broker).
 * Standbys: --standby-replicas n (default 0) warm copies of each stateful task on other
 * instances (stream/runtime/standby.ts).
 * Threads: --threads n stream threads (default: cores), each a group member with its own
 * transactional producer `<app id>-<instance id>-<thread>`. With the kafka transport each runs
 * in its own worker thread (run-workers.ts: n cores); with --embedded they share this
 * process's event loop, because the embedded transport cannot leave the broker's process.
 *
 * Output: readiness is logged as `{"msg":"running",...}` (pino, stderr); with
 * --metrics-interval-ms n > 0 one JSON line `{"metrics":{...}}` every n ms on stderr.
 * Shutdown: SIGINT/SIGTERM commit (exactly_once: finish the open transaction), close the
 * tasks, leave the group, stop the embedded broker, exit 0.
 * Errors: a missing file or one without a StreamApp export is NOT_FOUND / INVALID_ARGUMENT,
 * mismatched co-partitioned inputs INVALID_CONFIG (exit 2); an unreachable bootstrap, a
 * missing input topic or a failure at start exit 1.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Broker, resolveBrokerConfig } from '../../broker/index.js';
import { createLogger, SluiceError } from '../../common/index.js';
import type { StreamApp } from '../../stream/index.js';
import { DEFAULT_REPARTITION_PURGE_INTERVAL_MS, StreamRuntime } from '../../stream/index.js';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '../../transport/index.js';
import { WorkerPool } from './run-workers.js';

interface RunOpts {
  bootstrap?: string;
  embedded?: boolean;
  dataDir?: string;
  port?: number;
  applicationId?: string;
  instanceId?: string;
  guarantee: 'exactly_once' | 'at_least_once';
  threads?: number;
  standbyReplicas: number;
  commitIntervalMs: number;
  repartitionPurgeIntervalMs: number;
  metricsIntervalMs: number;
  requestTimeoutMs?: number;
}

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${min}..${max}, got '${value}'`);
    return n;
  };
}

function isStreamApp(v: unknown): v is StreamApp {
  const o = v as { graph?: { nodes?: unknown }; topology?: unknown; applicationId?: unknown } | null;
  return (
    o !== null &&
    typeof o === 'object' &&
    typeof o.applicationId === 'string' &&
    typeof o.topology === 'function' &&
    Array.isArray(o.graph?.nodes)
  );
}

/** Loads the app file's default export (a StreamApp or a function returning one). */
export async function loadApp(file: string): Promise<StreamApp> {
  const path = resolve(file);
  if (!existsSync(path)) throw new SluiceError('NOT_FOUND', `application file ${file} does not exist`);
  const url = pathToFileURL(path).href;
  let mod: { default?: unknown };
  try {
    if (/\.[cm]?tsx?$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else {
      mod = (await import(url)) as { default?: unknown };
    }
  } catch (e) {
    throw new SluiceError('INVALID_ARGUMENT', `cannot load ${file}: ${(e as Error).message}`, { cause: e });
  }
  let exported = mod.default;
  // tsx may wrap a CommonJS-style module: { default: { default: app } }.
  if (!isStreamApp(exported) && typeof exported === 'object' && exported !== null && 'default' in exported) {
    exported = (exported as { default: unknown }).default;
  }
  if (typeof exported === 'function' && !isStreamApp(exported))
    exported = await (exported as () => unknown)();
  if (!isStreamApp(exported)) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `${file} has no StreamApp default export (export default app, or a function returning one)`,
    );
  }
  return exported;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a stream application file (exactly-once on Kafka; Ctrl-C stops it cleanly)')
    .argument('<app>', 'application file (.ts or .js) whose default export is a StreamApp')
    .option('--bootstrap <servers>', 'Kafka bootstrap servers host:port,... (default env SLUICE_BOOTSTRAP)')
    .option('--embedded', "start Sluice's broker in this process and use the embedded transport")
    .option('--data-dir <dir>', 'data directory of the embedded broker (with --embedded)')
    .addOption(
      new Option('--port <n>', 'TCP port of the embedded broker for other tools (default 9092)').argParser(
        int(0, 65535),
      ),
    )
    .option('--application-id <id>', "overrides the app's id (group id and internal topic prefix)")
    .option(
      '--instance-id <name>',
      'stable identity of this instance; transactional ids are <app id>-<instance id>-<thread> (default random)',
    )
    .addOption(
      new Option('--guarantee <g>', 'processing guarantee')
        .choices(['exactly_once', 'at_least_once'])
        .default('exactly_once'),
    )
    .addOption(new Option('--threads <n>', 'stream threads (default: cores)').argParser(int(1, 1024)))
    .addOption(
      new Option(
        '--standby-replicas <n>',
        "warm copies of each stateful task kept on other instances (read from the task's changelog; a moved task then restores only the tail). Each costs the memory of the task's stores",
      )
        .argParser(int(0, 1024))
        .default(0),
    )
    .addOption(
      new Option('--commit-interval-ms <n>', 'commit (transaction) interval').argParser(int(1)).default(100),
    )
    .addOption(
      new Option(
        '--repartition-purge-interval-ms <n>',
        'least time between two deletions of consumed, committed records of the repartition topics (per stream thread)',
      )
        .argParser(int(0))
        .default(DEFAULT_REPARTITION_PURGE_INTERVAL_MS),
    )
    .addOption(
      new Option('--metrics-interval-ms <n>', 'print a JSON metrics line to stderr every n ms (0: off)')
        .argParser(int(0))
        .default(0),
    )
    .addOption(
      new Option(
        '--request-timeout-ms <n>',
        'kafka transport: how long the cluster may take to answer (default 30000)',
      ).argParser(int(1)),
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice run app.ts --embedded --data-dir ./data        broker and app in one process
  sluice run app.ts --bootstrap localhost:9092 --instance-id a --threads 4
                                                        one instance of many against any Kafka

The app file's default export is a StreamApp (or a function returning one). Instances with the
same application id share the input partitions (one task per sub-topology and partition).
Internal topics: <app id>-<operator>-repartition, <app id>-<store>-changelog (compacted),
<app id>-dead-letters, <app id>-late-records. SIGINT/SIGTERM commit, leave the group, exit 0.
See docs/stream-on-kafka.md.
`,
    )
    .action(async (file: string, opts: RunOpts) => {
      const bootstrap = opts.bootstrap ?? process.env.SLUICE_BOOTSTRAP;
      if (opts.embedded === true && opts.bootstrap !== undefined) {
        throw new SluiceError('USAGE', 'use either --embedded or --bootstrap, not both');
      }
      if (opts.embedded === true && opts.dataDir === undefined) {
        throw new SluiceError('USAGE', '--embedded needs --data-dir <dir>');
      }
      if (opts.embedded !== true && bootstrap === undefined) {
        throw new SluiceError('USAGE', 'give --bootstrap <servers> (or SLUICE_BOOTSTRAP), or --embedded');
      }
      // Signals are taken from here on, so SIGINT/SIGTERM while the application loads or the
      // runtime starts still ends in a clean exit (start, then shut down at once); a second
      // signal of the same kind is Node's default (immediate exit).
      let signalled: NodeJS.Signals | undefined;
      const stopRequested = new Promise<NodeJS.Signals>((done) => {
        const on = (s: NodeJS.Signals) => {
          signalled = s;
          done(s);
        };
        process.once('SIGINT', () => on('SIGINT'));
        process.once('SIGTERM', () => on('SIGTERM'));
      });
      const app = await loadApp(file);
      const log = createLogger('cli', { command: 'run' });
      if (signalled !== undefined) {
        log.info({ signal: signalled }, 'stopped before start');
        return;
      }
      let broker: Broker | undefined;
      let transport: Transport;
      if (opts.embedded === true) {
        const config = resolveBrokerConfig({
          env: process.env,
          flags: { port: opts.port ?? 9092, dataDir: resolve(opts.dataDir as string) },
        });
        config.dataDir = resolve(config.dataDir);
        broker = await Broker.start(config);
        transport = createEmbeddedTransport(broker);
      } else {
        transport = createKafkaTransport({
          bootstrap: bootstrap as string,
          requestTimeoutMs: opts.requestTimeoutMs,
        });
      }
      let timer: NodeJS.Timeout | undefined;
      const threads = opts.threads ?? availableParallelism();
      const instanceId = opts.instanceId ?? randomUUID().slice(0, 8);
      const inProcess = new StreamRuntime(app, {
        transport,
        applicationId: opts.applicationId,
        instanceId,
        guarantee: opts.guarantee,
        threads,
        commitIntervalMs: opts.commitIntervalMs,
        repartitionPurgeIntervalMs: opts.repartitionPurgeIntervalMs,
        standbyReplicas: opts.standbyReplicas,
      });
      // kafka transport with several threads: one worker thread per stream thread (cores).
      const pool =
        broker === undefined && threads > 1
          ? new WorkerPool(
              {
                file: resolve(file),
                bootstrap: bootstrap as string,
                requestTimeoutMs: opts.requestTimeoutMs,
                applicationId: opts.applicationId,
                instanceId,
                guarantee: opts.guarantee,
                commitIntervalMs: opts.commitIntervalMs,
                repartitionPurgeIntervalMs: opts.repartitionPurgeIntervalMs,
                standbyReplicas: opts.standbyReplicas,
              },
              threads,
            )
          : undefined;
      const runtime: Pick<StreamRuntime, 'metrics' | 'refreshLag' | 'close'> = pool ?? inProcess;
      const shutdown = async () => {
        if (timer !== undefined) clearInterval(timer);
        await runtime.close().catch((e) => log.error({ err: e }, 'close failed'));
        await transport.close().catch(() => {});
        await broker?.close().catch(() => {});
      };
      try {
        if (pool === undefined) await inProcess.start();
        else {
          await inProcess.prepare();
          await pool.start();
          log.info(
            {
              msg: 'running',
              threads,
              workerThreads: true,
              guarantee: opts.guarantee,
              transport: transport.description,
              instance: instanceId,
            },
            'running',
          );
        }
      } catch (e) {
        await shutdown();
        throw e;
      }
      if (opts.metricsIntervalMs > 0) {
        timer = setInterval(() => {
          void runtime.refreshLag().then(() => {
            process.stderr.write(`${JSON.stringify({ metrics: runtime.metrics() })}\n`);
          });
        }, opts.metricsIntervalMs);
      }
      const signal = await stopRequested;
      log.info({ signal }, 'shutting down');
      await shutdown();
      log.info('stopped');
    });
}

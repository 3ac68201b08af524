/**
 * A real `sluice broker` as a child process (src/cli/main.ts through tsx) on a data directory,
 * for tests and benchmarks that want the broker on its own event loop, or want to kill it.
 *
 * `spawnSluiceBroker(dataDir, options)` resolves once the broker printed its `listening on
 * HOST:PORT` line, with the port it bound (port 0 = any free port). Data topics use page-cache
 * durability (`--flush-ms -1`, Kafka's default of no fsync): a kill -9 of the process loses
 * nothing the kernel already has. The group initial rebalance delay is short (300 ms) so
 * tests do not wait Kafka's 3 s for a group to form. stderr is kept (its last 20 kB) for
 * failure messages. The caller stops the child (SIGTERM: clean, exit 0; SIGKILL: crash).
 * `freePort()` finds a port to pin a broker to, so a restarted broker keeps its address.
 *
 * `startBrokerProcess(options)` wraps it in a lifecycle over a temp data directory and a fixed
 * port: `kill()` (SIGKILL, a crash) and `start()` again bring it back on the same port and
 * data; `stop()` is SIGTERM (clean close) and removes the data directory. Its durability is the
 * broker's default (fsync before every acknowledgement) unless `flushMs` says otherwise. A
 * process-exit hook SIGKILLs brokers a crashed caller forgot.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface BrokerProcess {
  child: ChildProcess;
  port: number;
  /** The last 20 kB the broker wrote on stderr. */
  stderrTail(): string;
}

export interface BrokerProcessOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Port the broker advertises in metadata (a proxy in front of it); default its own. */
  advertisedPort?: number;
  /** Extra flags for `sluice broker`. */
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Appends everything the broker writes (stdout and stderr) to this file (debugging). */
  logFile?: string;
}

export async function spawnSluiceBroker(
  dataDir: string,
  options: BrokerProcessOptions = {},
): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'broker',
      '--port',
      String(options.port ?? 0),
      ...(options.advertisedPort === undefined ? [] : ['--advertised-port', String(options.advertisedPort)]),
      '--data-dir',
      dataDir,
      // data topics: page-cache durability keeps large runs short; __consumer_offsets and
      // __transaction_state are always fsync'd before a commit is acknowledged.
      '--flush-ms',
      '-1',
      ...(options.args ?? []),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SLUICE_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300',
        SLUICE_LOG_LEVEL: 'error',
        ...options.env,
      },
    },
  );
  if (options.logFile !== undefined) {
    const file = options.logFile;
    child.stdout?.on('data', (d) => appendFileSync(file, d));
    child.stderr?.on('data', (d) => appendFileSync(file, d));
  }
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${err}`)));
  });
  return { child, port, stderrTail: () => err };
}

/** A broker process with a lifecycle (see the header); from startBrokerProcess. */
export interface ManagedBrokerProcess {
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  /** Starts the broker (again) on the same port and data directory. */
  start(): Promise<void>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), then removes the data directory. */
  stop(): Promise<void>;
  /** The last few KB of the broker's stderr. */
  stderr(): string;
  /** OS process id of the running broker (undefined when it is not running). */
  pid(): number | undefined;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ManagedBrokerOptions {
  /** flush.ms of new topics (default 0: fsync before every acknowledgement, the broker's own). */
  flushMs?: number;
  /** The first consumer group join waits this long for more members (broker default 3000 ms). */
  groupInitialRebalanceDelayMs?: number;
}

export async function startBrokerProcess(options: ManagedBrokerOptions = {}): Promise<ManagedBrokerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-broker-'));
  const port = await freePort();
  let current: BrokerProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async (): Promise<void> => {
    const b = await spawnSluiceBroker(dataDir, {
      port,
      // Later flags win: the broker's default durability unless asked otherwise.
      args: ['--flush-ms', String(options.flushMs ?? 0)],
      env: {
        SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'warn',
        SLUICE_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: String(options.groupInitialRebalanceDelayMs ?? 3000),
      },
    });
    current = b;
    live.add(b.child);
    exited = once(b.child, 'exit').then(() => {
      live.delete(b.child);
    });
  };
  await start();
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    dataDir,
    start,
    async kill() {
      current?.child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      current?.child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
    stderr: () => current?.stderrTail() ?? '',
    pid: () => {
      const c = current?.child;
      return c !== undefined && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
    },
  };
}

export { freePort };

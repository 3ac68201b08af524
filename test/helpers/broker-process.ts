/**
 * A Sluice broker in its own process (`sluice broker`, run from source with tsx) over a temp
 * data directory, for tests and benchmarks that need the real path through TCP with the
 * broker's CPU apart from the caller's. `start()` resolves once the broker printed its
 * listening line; `stop()` sends SIGTERM (clean close) and removes the data directory.
 * `kill()` is a SIGKILL (crash) and `start()` again brings it back on the same port and data.
 *
 * Durability: the broker's default (`flush.ms=0`, fsync before every acknowledgement) unless
 * `flushMs` says otherwise. A process-exit hook SIGKILLs a broker a crashed caller forgot.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface BrokerProcess {
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

export interface BrokerProcessOptions {
  /** flush.ms of new topics (default: the broker's, 0 = fsync before every acknowledgement). */
  flushMs?: number;
  /** The first consumer group join waits this long for more members (broker default 3000 ms). */
  groupInitialRebalanceDelayMs?: number;
}

export async function startBrokerProcess(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-broker-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let err = '';
  const start = async (): Promise<void> => {
    const args = [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'broker',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...(options.flushMs === undefined ? [] : ['--flush-ms', String(options.flushMs)]),
    ];
    const c = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'warn',
        ...(options.groupInitialRebalanceDelayMs === undefined
          ? {}
          : { SLUICE_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: String(options.groupInitialRebalanceDelayMs) }),
      },
    });
    child = c;
    live.add(c);
    exited = new Promise((resolve) =>
      c.once('exit', () => {
        live.delete(c);
        resolve();
      }),
    );
    c.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`broker did not listen within 30 s: ${err}`)), 30_000);
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`broker exited (${code}) before listening: ${err}`));
      });
    });
  };
  await start();
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    dataDir,
    start,
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
    stderr: () => err,
    pid: () => (child?.exitCode === null && child.signalCode === null ? child.pid : undefined),
  };
}

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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

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

/** A TCP port free on 127.0.0.1 right now (for a broker that must keep its port across restarts). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

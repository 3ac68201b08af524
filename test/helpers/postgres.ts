/**
 * A throwaway real Postgres for tests: initdb into a temp dir owned by the `postgres` OS
 * user (Postgres refuses to run as root), `wal_level=logical`, a free localhost port, the
 * unix socket inside the temp dir. `stop()` shuts it down and removes the dir; call it in
 * `after()` so it runs even when a test fails. A process-exit hook stops any instance a
 * crashed test forgot (best effort: SIGKILL of the test runner cannot be caught).
 *
 * Binaries: Debian's postgresql (PG_BIN overrides /usr/lib/postgresql/<ver>/bin).
 * Durability: fsync stays on (the chaos tests restart Postgres and expect committed data).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

export interface PostgresOptions {
  /** Extra postgresql.conf lines (e.g. `max_wal_senders = 4`). */
  config?: Record<string, string | number>;
  /** wal_level (default logical). */
  walLevel?: 'logical' | 'replica' | 'minimal';
}

export interface TestPostgres {
  port: number;
  host: string;
  dataDir: string;
  /** Superuser connection URL (user postgres, database postgres). */
  url: string;
  urlFor(user: string, password?: string, database?: string): string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Fast shutdown then start again on the same port and data dir. */
  restart(): Promise<void>;
  /** Immediate shutdown (like a crash), then start. */
  crashRestart(): Promise<void>;
  stop(): Promise<void>;
}

function findBin(): string {
  if (process.env.PG_BIN !== undefined) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(base, v, 'bin', 'pg_ctl'))) return join(base, v, 'bin');
  }
  throw new Error('Postgres binaries not found: install Debian postgresql (scripts/setup.sh) or set PG_BIN');
}

function pgUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

const live = new Set<() => void>();
process.once('exit', () => {
  for (const f of live) f();
});

export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = findBin();
  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? pgUser() : undefined;
  const root = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const sockDir = join(root, 'sock');
  const run = (args: string[], allowFail = false) => {
    const r = spawnSync(join(bin, args[0]), args.slice(1), {
      ...(owner === undefined ? {} : { uid: owner.uid, gid: owner.gid }),
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
      timeout: 60_000,
    });
    if (r.status !== 0 && !allowFail)
      throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r;
  };
  try {
    for (const d of [dataDir, sockDir]) {
      execFileSync('mkdir', ['-p', d]);
      if (owner !== undefined) chownSync(d, owner.uid, owner.gid);
    }
    if (owner !== undefined) chownSync(root, owner.uid, owner.gid);
    run(['initdb', '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const port = await freePort();
    const conf: Record<string, string | number> = {
      listen_addresses: "'127.0.0.1'",
      port,
      unix_socket_directories: `'${sockDir}'`,
      wal_level: options.walLevel ?? 'logical',
      max_wal_senders: 10,
      max_replication_slots: 10,
      max_connections: 50,
      shared_buffers: "'64MB'",
      synchronous_commit: 'on',
      log_min_messages: 'warning',
      ...(options.walLevel === 'minimal' ? { max_wal_senders: 0 } : {}),
      ...options.config,
    };
    writeFileSync(
      join(dataDir, 'postgresql.auto.conf'),
      `${Object.entries(conf)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
    if (owner !== undefined) chownSync(join(dataDir, 'postgresql.auto.conf'), owner.uid, owner.gid);
    const logFile = join(root, 'postgres.log');
    const start = () => run(['pg_ctl', '-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
    const stopMode = (mode: 'fast' | 'immediate') =>
      run(['pg_ctl', '-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop'], true);
    start();
    let stopped = false;
    const cleanup = () => {
      if (stopped) return;
      stopped = true;
      stopMode('immediate');
      rmSync(root, { recursive: true, force: true });
    };
    live.add(cleanup);
    const host = '127.0.0.1';
    const urlFor = (user: string, password?: string, database = 'postgres') =>
      `postgres://${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@${host}:${port}/${database}`;
    const url = urlFor('postgres');
    const handle: TestPostgres = {
      port,
      host,
      dataDir,
      url,
      urlFor,
      async query(sql, params) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return (await c.query(sql, params)).rows;
        } finally {
          await c.end();
        }
      },
      async restart() {
        if (stopMode('fast').status !== 0) stopMode('immediate');
        start();
      },
      async crashRestart() {
        stopMode('immediate');
        start();
      },
      async stop() {
        live.delete(cleanup);
        cleanup();
      },
    };
    return handle;
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
export { freePort };

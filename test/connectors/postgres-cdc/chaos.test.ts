/**
 * Chaos: the connector runs as a real child process (`sluice cdc postgres --sink-file`,
 * an fsync'd record file with fsync'd offsets) and is killed with SIGKILL at least 10
 * times, during the snapshot and while streaming, under a concurrent workload; Postgres
 * is restarted once while the connector streams. A last run catches up and is stopped
 * with SIGTERM. Then: every change the workload saw commit is in the file (no loss), the
 * duplicates (at-least-once replays after kills) are counted and reported, and the
 * materialized topics equal `SELECT *`.
 *
 * The sink is the durable file sink until the embedded broker lands; the no-loss logic
 * under test (flush → offset → confirm) is the same for the Kafka sink.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSinkRecords } from '../../../src/connectors/index.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import {
  assertMaterializedEqualsPostgres,
  type CommittedOp,
  createSchema,
  decodeRecords,
  eventually,
  opId,
  opOf,
  runWorkload,
  seed,
  TABLES,
} from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const KILLS = 11;

describe('postgres-cdc chaos', { timeout: 170_000 }, () => {
  let pgs: TestPostgres;
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    pgs = await startPostgres();
    await createSchema(pgs.url);
    await seed(pgs.url, 3000);
    dir = mkdtempSync(join(tmpdir(), 'sluice-cdc-chaos-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await pgs?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function spawnConnector(): { proc: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
    let err = '';
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'cdc',
        'postgres',
        '--url',
        pgs.url,
        '--tables',
        TABLES.join(','),
        '--topic-prefix',
        'chaos',
        '--sink-file',
        join(dir, 'records.jsonl'),
        '--chunk-rows',
        '50',
        '--heartbeat-ms',
        '300',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' } },
    );
    proc.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    child = proc;
    return { proc, exited, stderr: () => err };
  }

  /** What the running connector last saved: nothing yet (since `since`), snapshot progress, or a streamed commit. */
  function phase(since = 0): 'none' | 'snapshot' | 'streaming' {
    const f = join(dir, 'records.jsonl.offsets', 'sluice_chaos.offset.json');
    if (!existsSync(f) || statSync(f).mtimeMs < since) return 'none';
    try {
      const o = JSON.parse(readFileSync(f, 'utf8')) as { snapshot?: { completed: boolean } };
      return o.snapshot?.completed === false ? 'snapshot' : 'streaming';
    } catch {
      return 'none';
    }
  }

  it('loses no committed change across 11 SIGKILLs and a Postgres restart', async (t) => {
    const committed: CommittedOp[] = [];
    let stopWorkload = false;
    // The workload starts once the slot exists: changes committed before it are only
    // visible as the snapshot's final state, after it every change must be an event.
    let workload: Promise<CommittedOp[]> = Promise.resolve([]);
    const startWorkload = () => {
      workload = runWorkload(pgs.url, {
        workers: 2,
        transactions: 1_000_000,
        ids: 3000,
        stop: () => stopWorkload,
        survivePostgresRestarts: true,
        onCommit: (ops) => committed.push(...ops),
      });
    };
    const killedIn: string[] = [];
    let restarted = false;
    try {
      for (let k = 0; k < KILLS; k++) {
        const spawnedAt = Date.now();
        const c = spawnConnector();
        // Early kills land in the snapshot (3 × 1500 rows in chunks of 50, each fsync'd).
        const wantSnapshot = k < 3;
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          const p = phase(spawnedAt);
          if (wantSnapshot ? p === 'snapshot' : p === 'streaming') break;
        }
        if (k === 0) startWorkload();
        await new Promise((r) =>
          setTimeout(r, wantSnapshot ? Math.random() * 150 : 50 + Math.random() * 600),
        );
        if (k === 6 && !restarted) {
          // Postgres restarts under the running connector; it reconnects and carries on.
          await pgs.restart();
          restarted = true;
          await new Promise((r) => setTimeout(r, 1500));
        }
        const where = phase();
        c.proc.kill('SIGKILL');
        await c.exited;
        killedIn.push(where);
      }
      stopWorkload = true;
      await workload;
      // The last run catches up, then stops cleanly on SIGTERM.
      const last = spawnConnector();
      try {
        await eventually(async () => {
          await assertMaterializedEqualsPostgres(
            pgs.url,
            decodeRecords(await readFileSinkRecords(join(dir, 'records.jsonl')), 'chaos'),
          );
        }, 60_000);
      } catch (err) {
        t.diagnostic(`connector stderr: ${last.stderr()}`);
        throw err;
      }
      last.proc.kill('SIGTERM');
      assert.equal(await last.exited, 143, `clean shutdown exit code; stderr: ${last.stderr()}`);
    } finally {
      stopWorkload = true;
      await workload.catch(() => {});
    }
    assert.ok(killedIn.length >= 10, `${killedIn.length} kills`);
    assert.ok(killedIn.includes('snapshot'), `a kill during the snapshot (phases: ${killedIn.join(',')})`);
    assert.ok(
      killedIn.filter((p) => p === 'streaming').length >= 5,
      `kills while streaming: ${killedIn.join(',')}`,
    );
    assert.ok(restarted, 'Postgres was restarted');

    const events = decodeRecords(await readFileSinkRecords(join(dir, 'records.jsonl')), 'chaos');
    const seen = new Map<string, number>();
    for (const e of events) {
      const o = opOf(e);
      if (o !== undefined && o.op !== 'd') seen.set(opId(o), (seen.get(opId(o)) ?? 0) + 1);
    }
    let missing = 0;
    for (const o of committed) if (o.op !== 'd' && seen.get(opId(o)) === undefined) missing++;
    // Deletes carry no version: per key, at least as many delete events as committed deletes.
    const deleteEvents = new Map<string, number>();
    for (const e of events)
      if (e.value?.op === 'd')
        deleteEvents.set(`${e.table}|${e.key}`, (deleteEvents.get(`${e.table}|${e.key}`) ?? 0) + 1);
    const committedDeletes = new Map<string, number>();
    for (const o of committed)
      if (o.op === 'd')
        committedDeletes.set(`${o.table}|${o.key}`, (committedDeletes.get(`${o.table}|${o.key}`) ?? 0) + 1);
    for (const [k, n] of committedDeletes)
      if ((deleteEvents.get(k) ?? 0) < n) missing += n - (deleteEvents.get(k) ?? 0);
    const duplicates = [...seen.values()].reduce((a, n) => a + (n - 1), 0);
    const snapshotRows = events.filter((e) => e.value?.op === 'r').length;
    t.diagnostic(
      `kills=${killedIn.length} (${killedIn.join(',')}) committed=${committed.length} events=${events.length} ` +
        `snapshotRows=${snapshotRows} duplicates=${duplicates} missing=${missing}`,
    );
    assert.ok(committed.length > 200, `the workload committed ${committed.length} changes`);
    assert.ok(committedDeletes.size > 0, 'the workload committed deletes');
    assert.equal(missing, 0, 'no committed change is missing');
  });
});

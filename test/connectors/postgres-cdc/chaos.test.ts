/**
 * Chaos on the real path: Postgres → `sluice cdc postgres --bootstrap` (a real child process)
 * → Sluice's broker (its own process, fsync before every acknowledgement), source offsets in
 * the compacted `_sluice_cdc_offsets` topic. The connector is killed with SIGKILL 11 times,
 * during the snapshot and while streaming, under a concurrent workload of inserts, updates
 * (primary-key changes included) and deletes over tables with every mapped type; Postgres is
 * restarted once while the connector streams. A last run catches up: once the slot's confirmed
 * position passed the WAL end taken after the workload stopped, every change committed before
 * it must be in the topics (the slot moves only after the records are acknowledged and the
 * offset saved). The topics are then read with librdkafka's consumer: no committed change is
 * missing, duplicates (at-least-once replays after kills) are counted and reported, and the
 * tables materialized from the topics equal `SELECT *`. The last run stops on SIGTERM (exit 143).
 *
 * The earlier variant with the fsync'd file sink (`--sink-file`) is retired: the no-loss logic
 * (flush → offset → confirm) is the connector's and is the same for both sinks, the file
 * sink's own durability is covered by file-sink.test.ts, and one chaos run keeps CI short.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type ManagedBrokerProcess, startBrokerProcess } from '../../helpers/broker-process.js';
import { readTopics } from '../../helpers/kafka-read.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import {
  assertMaterializedEqualsPostgres,
  auditDelivery,
  type CommittedOp,
  createSchema,
  decodeRecords,
  eventually,
  runWorkload,
  seed,
  TABLES,
} from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const KILLS = 11;
const PREFIX = 'chaos';
const TOPICS = TABLES.map((t) => `${PREFIX}.${t}`);

type Phase = 'none' | 'snapshot' | 'streaming';

interface Connector {
  proc: ChildProcess;
  exited: Promise<number | null>;
  /** What the connector reported last on stderr: snapshot progress, or streaming. */
  phase(): Phase;
  stderr(): string;
}

describe('postgres-cdc chaos through the broker', { timeout: 200_000 }, () => {
  let pgs: TestPostgres;
  let broker: ManagedBrokerProcess;
  let child: ChildProcess | undefined;
  before(async () => {
    [pgs, broker] = await Promise.all([
      startPostgres(),
      startBrokerProcess({ groupInitialRebalanceDelayMs: 0 }),
    ]);
    await createSchema(pgs.url);
    await seed(pgs.url, 3000);
  });
  after(async () => {
    child?.kill('SIGKILL');
    await broker?.stop();
    await pgs?.stop();
  });

  function spawnConnector(): Connector {
    let err = '';
    let phase: Phase = 'none';
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        `${ROOT}src/cli/main.ts`,
        'cdc',
        'postgres',
        '--url',
        pgs.url,
        '--tables',
        TABLES.join(','),
        '--topic-prefix',
        PREFIX,
        '--bootstrap',
        broker.bootstrap,
        '--chunk-rows',
        '50',
        '--heartbeat-ms',
        '300',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' } },
    );
    proc.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      err = (err + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (line.startsWith('snapshot ')) phase = 'snapshot';
        else if (line.startsWith('streaming from slot')) phase = 'streaming';
      }
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    child = proc;
    return { proc, exited, phase: () => phase, stderr: () => err };
  }

  it(`loses no committed change across ${KILLS} SIGKILLs and a Postgres restart`, async (t) => {
    const committed: CommittedOp[] = [];
    let stopWorkload = false;
    // The workload starts once the slot exists: changes committed before it are only
    // visible as the snapshot's final state, after it every change must be an event.
    let workload: Promise<CommittedOp[]> = Promise.resolve([]);
    const killedIn: Phase[] = [];
    let restarted = false;
    try {
      for (let k = 0; k < KILLS; k++) {
        const c = spawnConnector();
        // The first kills land in the snapshot (3 × 1500 rows in chunks of 50, each chunk
        // acknowledged by the broker and its progress saved in the offsets topic).
        const wantSnapshot = k < 3;
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && c.phase() !== (wantSnapshot ? 'snapshot' : 'streaming')) {
          if (wantSnapshot && c.phase() === 'streaming') break; // the snapshot was already done
          await new Promise((r) => setTimeout(r, 10));
        }
        if (k === 0)
          workload = runWorkload(pgs.url, {
            workers: 2,
            transactions: 1_000_000,
            ids: 3000,
            stop: () => stopWorkload,
            survivePostgresRestarts: true,
            onCommit: (ops) => committed.push(...ops),
          });
        await new Promise((r) =>
          setTimeout(r, wantSnapshot ? Math.random() * 100 : 100 + Math.random() * 700),
        );
        if (k === 6) {
          // Postgres restarts under the running connector; it reconnects and carries on.
          await pgs.restart();
          restarted = true;
          await new Promise((r) => setTimeout(r, 1500));
        }
        killedIn.push(c.phase());
        c.proc.kill('SIGKILL');
        await c.exited;
      }
      stopWorkload = true;
      await workload;
      const [{ lsn: walEnd }] = await pgs.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      // The last run catches up; the slot passing walEnd means every change before it is acknowledged.
      const last = spawnConnector();
      try {
        await eventually(async () => {
          const [row] = await pgs.query<{ caught_up: boolean }>(
            `SELECT confirmed_flush_lsn >= $1::pg_lsn AS caught_up FROM pg_replication_slots WHERE slot_name = 'sluice_${PREFIX}'`,
            [walEnd],
          );
          assert.equal(row?.caught_up, true, 'the slot passed the WAL end of the workload');
        }, 90_000);
      } catch (err) {
        t.diagnostic(`connector stderr: ${last.stderr()}`);
        throw err;
      }
      const events = decodeRecords(await readTopics(broker.bootstrap, TOPICS), PREFIX);
      await assertMaterializedEqualsPostgres(pgs.url, events);
      const audit = auditDelivery(committed, events);
      t.diagnostic(
        `kills=${killedIn.length} (${killedIn.join(',')}) committed=${committed.length} events=${events.length} ` +
          `snapshotRows=${events.filter((e) => e.value?.op === 'r').length} duplicates=${audit.duplicates} ` +
          `missing=${audit.missing}`,
      );
      assert.ok(committed.length > 200, `the workload committed ${committed.length} changes`);
      assert.ok(audit.committedDeletes > 0, 'the workload committed deletes');
      assert.ok(
        committed.some((o) => o.pkChange === true),
        'the workload changed primary keys',
      );
      assert.equal(audit.missing, 0, 'no committed change is missing');
      last.proc.kill('SIGTERM');
      assert.equal(await last.exited, 143, `clean shutdown exit code; stderr: ${last.stderr()}`);
    } finally {
      stopWorkload = true;
      await workload.catch(() => {});
    }
    assert.equal(killedIn.length, KILLS);
    assert.ok(killedIn.includes('snapshot'), `a kill during the snapshot (phases: ${killedIn.join(',')})`);
    assert.ok(
      killedIn.filter((p) => p === 'streaming').length >= 5,
      `kills while streaming: ${killedIn.join(',')}`,
    );
    assert.ok(restarted, 'Postgres was restarted');
  });
});

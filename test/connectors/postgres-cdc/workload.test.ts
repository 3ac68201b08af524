/**
 * The workload test: concurrent inserts, updates, primary-key changes and deletes over
 * three tables (every mapped type; a composite key; a REPLICA IDENTITY FULL table) while
 * the connector snapshots and then streams into an in-memory sink. Checks: each change
 * committed after streaming began appears exactly once; no event is duplicated (snapshot
 * and stream neither overlap nor leave a gap); per key, versions rise in event order
 * within each row lifetime; deletes are followed by tombstones; the topics materialized
 * equal `SELECT *` computed by Postgres.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryChangeSink, MemoryOffsetStore, PostgresCdcSource } from '../../../src/connectors/index.js';
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

describe('postgres-cdc workload', { timeout: 120_000 }, () => {
  let pgs: TestPostgres;
  before(async () => {
    pgs = await startPostgres();
    await createSchema(pgs.url);
    await seed(pgs.url, 400);
  });
  after(async () => {
    await pgs?.stop();
  });

  it('captures a concurrent workload exactly, in commit order per key, and materializes to SELECT *', async () => {
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: TABLES,
      topicPrefix: 'wl',
      sink,
      offsets: new MemoryOffsetStore(),
      snapshotChunkRows: 50, // several chunks per table
      heartbeatIntervalMs: 500,
    });
    // Phase A: writers run while the slot is created and the snapshot is read.
    let stopA = false;
    const phaseA = runWorkload(pgs.url, { workers: 2, transactions: 10_000, ids: 400, stop: () => stopA });
    await new Promise((r) => setTimeout(r, 200));
    await source.start();
    stopA = true;
    await phaseA;
    // Phase B: everything committed now must appear exactly once.
    const phaseB: CommittedOp[] = await runWorkload(pgs.url, { workers: 4, transactions: 120, ids: 400 });
    try {
      await eventually(async () => {
        await assertMaterializedEqualsPostgres(pgs.url, decodeRecords(sink.records, 'wl'));
      });
    } finally {
      await source.stop();
    }
    const events = decodeRecords(sink.records, 'wl');
    const snapshotRows = events.filter((e) => e.value?.op === 'r').length;
    assert.ok(snapshotRows > 0, 'the snapshot emitted rows');
    assert.ok(phaseB.length > 100, `the workload committed ${phaseB.length} changes`);

    const seen = new Map<string, number>();
    for (const e of events) {
      const o = opOf(e);
      if (o !== undefined && o.op !== 'd') seen.set(opId(o), (seen.get(opId(o)) ?? 0) + 1);
    }
    // No overlap: every version (globally unique per write) appears at most once.
    for (const [id, n] of seen) assert.equal(n, 1, `${id} delivered ${n} times`);
    // No gap: every create/update committed in phase B is there.
    for (const o of phaseB) if (o.op !== 'd') assert.equal(seen.get(opId(o)), 1, `missing ${opId(o)}`);
    // Deletes of phase B: as many delete events per key as committed deletes (or more from phase A).
    const deletes = new Map<string, number>();
    for (const e of events)
      if (e.value?.op === 'd')
        deletes.set(`${e.table}|${e.key}`, (deletes.get(`${e.table}|${e.key}`) ?? 0) + 1);
    const wantDeletes = new Map<string, number>();
    for (const o of phaseB)
      if (o.op === 'd')
        wantDeletes.set(`${o.table}|${o.key}`, (wantDeletes.get(`${o.table}|${o.key}`) ?? 0) + 1);
    for (const [k, n] of wantDeletes)
      assert.ok((deletes.get(k) ?? 0) >= n, `${k}: ${deletes.get(k)} delete events, ${n} committed`);

    // Per key: versions rise within a row lifetime; each delete is followed by its tombstone.
    const lastVer = new Map<string, bigint>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const k = `${e.table}|${e.key}`;
      if (e.value === null) continue;
      if (e.value.op === 'd') {
        lastVer.delete(k);
        assert.equal(events[i + 1]?.value, null, `tombstone after the delete of ${k}`);
        assert.equal(events[i + 1]?.key, e.key);
        continue;
      }
      const ver = BigInt((e.value.after as { ver: number }).ver);
      const prev = lastVer.get(k);
      if (prev !== undefined) assert.ok(ver > prev, `${k}: version ${ver} after ${prev}`);
      lastVer.set(k, ver);
    }
    // Primary-key changes surfaced as delete + create with Debezium's headers.
    const pkMoves = events.filter((e) => e.headers?.['__debezium.newkey'] !== undefined);
    assert.ok(pkMoves.length > 0, 'the workload moved some primary keys');
    // REPLICA IDENTITY FULL table: updates carry before-images.
    const itemUpdate = events.find((e) => e.table === 'items' && e.value?.op === 'u');
    assert.ok(
      itemUpdate !== undefined && itemUpdate.value?.before !== null,
      'items updates carry a before-image',
    );
    const accUpdate = events.find((e) => e.table === 'accounts' && e.value?.op === 'u');
    assert.equal(accUpdate?.value?.before, null, 'default replica identity: no before-image on update');
  });
});

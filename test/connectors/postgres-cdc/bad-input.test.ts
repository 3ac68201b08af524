/**
 * Bad input and failures: a table without a primary key (refused, or the documented
 * REPLICA IDENTITY FULL fallback), a dropped slot (before a start and while streaming),
 * missing replication right and revoked
 * SELECT, the replication connection killed mid-stream, a sink that fails, and
 * wal_level=replica. Each gives a clear SluiceError or recovers, and nothing acknowledged
 * is lost: the slot never moves past what the sink acknowledged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSluiceError, SluiceError } from '../../../src/common/index.js';
import {
  CallbackChangeSink,
  type ChangeRecord,
  MemoryChangeSink,
  MemoryOffsetStore,
  PostgresCdcSource,
  parseLsn,
} from '../../../src/connectors/index.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { decodeRecords, eventually } from './helpers.js';

function ids(records: readonly ChangeRecord[], prefix: string): number[] {
  return decodeRecords(records, prefix)
    .filter((e) => e.value !== null && (e.value.op === 'c' || e.value.op === 'r'))
    .map((e) => (e.value as { after: { id: number } }).after.id)
    .sort((a, b) => a - b);
}

describe('postgres-cdc bad input', { timeout: 120_000 }, () => {
  let pgs: TestPostgres;
  before(async () => {
    pgs = await startPostgres();
    await pgs.query(`
      CREATE TABLE nokey (a int, b text);
      INSERT INTO nokey VALUES (1, 'one'), (2, 'two');
      CREATE TABLE t (id int PRIMARY KEY, v text);
      CREATE ROLE noreplication LOGIN;
      CREATE ROLE cdcuser LOGIN REPLICATION;
      GRANT CREATE ON DATABASE postgres TO cdcuser;
      CREATE TABLE secret (id int PRIMARY KEY, v text);
      ALTER TABLE secret OWNER TO cdcuser;
      INSERT INTO secret VALUES (1, 'x'), (2, 'y');
    `);
  });
  after(async () => {
    await pgs?.stop();
  });

  const slotLsn = async (slot: string): Promise<bigint | undefined> => {
    const rows = await pgs.query<{ confirmed_flush_lsn: string }>(
      'SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    return rows[0] === undefined ? undefined : parseLsn(rows[0].confirmed_flush_lsn);
  };

  it('refuses a table without a primary key, creating nothing', async () => {
    const offsets = new MemoryOffsetStore();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.nokey'],
      topicPrefix: 'nk',
      sink: new MemoryChangeSink(),
      offsets,
    });
    await assert.rejects(source.start(), (err: unknown) => {
      assert.ok(isSluiceError(err, 'INVALID_CONFIG'));
      assert.match(err.message, /no primary key.*REPLICA IDENTITY FULL/s);
      return true;
    });
    assert.equal(await offsets.load(source.slot), undefined);
    assert.equal(await slotLsn(source.slot), undefined, 'no slot was created');
  });

  it('fallback: REPLICA IDENTITY FULL gives key-less events with full before-images', async () => {
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.nokey'],
      topicPrefix: 'nk2',
      sink,
      offsets: new MemoryOffsetStore(),
      noPrimaryKey: 'replica-identity-full',
    });
    await source.start();
    await pgs.query("UPDATE nokey SET b = 'uno' WHERE a = 1; DELETE FROM nokey WHERE a = 2");
    try {
      await eventually(() => {
        const ev = decodeRecords(sink.records, 'nk2');
        assert.deepEqual(
          ev.map((e) => e.value?.op),
          ['r', 'r', 'u', 'd'],
        );
        assert.ok(
          ev.every((e) => e.key === null),
          'key-less events',
        );
        assert.deepEqual(ev[2].value?.before, { a: 1, b: 'one' });
        assert.deepEqual(ev[2].value?.after, { a: 1, b: 'uno' });
        assert.deepEqual(ev[3].value?.before, { a: 2, b: 'two' });
      });
    } finally {
      await source.stop();
    }
  });

  it('a dropped slot is a clear SOURCE_LOST error; offsets are kept until reset', async () => {
    const offsets = new MemoryOffsetStore();
    const opts = { url: pgs.url, tables: ['public.t'], topicPrefix: 'drop', offsets, heartbeatIntervalMs: 0 };
    const a = new PostgresCdcSource({ ...opts, sink: new MemoryChangeSink() });
    await a.start();
    await a.stop();
    await pgs.query("SELECT pg_drop_replication_slot('sluice_drop')");
    const b = new PostgresCdcSource({ ...opts, sink: new MemoryChangeSink() });
    await assert.rejects(b.start(), (err: unknown) => {
      assert.ok(isSluiceError(err, 'SOURCE_LOST'));
      assert.match(err.message, /sluice_drop no longer exists/);
      return true;
    });
    assert.notEqual(await offsets.load('sluice_drop'), undefined, 'the stored offset is untouched');
    // The documented way out: reset the offsets, which re-snapshots.
    await offsets.clear('sluice_drop');
    await pgs.query("INSERT INTO t VALUES (100, 'after-drop')");
    const sink = new MemoryChangeSink();
    const c = new PostgresCdcSource({ ...opts, sink });
    await c.start();
    await c.stop();
    assert.ok(ids(sink.records, 'drop').includes(100));
  });

  it('a slot dropped while streaming ends the source with SOURCE_LOST; what was acknowledged stays', async () => {
    const offsets = new MemoryOffsetStore();
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.t'],
      topicPrefix: 'dropstream',
      sink,
      offsets,
      heartbeatIntervalMs: 0,
      // Room to drop the slot between the walsender's end and the reconnect.
      reconnect: { initialBackoffMs: 2000 },
    });
    await source.start();
    let ended: unknown = 'running';
    source.done.then(
      () => {
        ended = 'resolved';
      },
      (err: unknown) => {
        ended = err;
      },
    );
    await pgs.query('INSERT INTO t SELECT g, $1 FROM generate_series(3000, 3009) g', ['streamed']);
    await eventually(() => assert.ok(ids(sink.records, 'dropstream').includes(3009)));
    const saved = await offsets.load('sluice_dropstream');
    // An active slot cannot be dropped: end its walsender, then drop it once it is released.
    await pgs.query(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_dropstream'",
    );
    await eventually(async () => {
      await pgs.query("SELECT pg_drop_replication_slot('sluice_dropstream')");
    }, 5000);
    await eventually(() => assert.notEqual(ended, 'running', 'the source ended'));
    assert.ok(isSluiceError(ended, 'SOURCE_LOST'), `ended with ${String(ended)}`);
    assert.equal(ended.retriable, false, 'not retried forever');
    assert.match(ended.message, /replication slot/);
    assert.deepEqual(await offsets.load('sluice_dropstream'), saved, 'the stored offset is untouched');
    assert.ok(ids(sink.records, 'dropstream').includes(3009), 'acknowledged records stay');
    await source.stop();
  });

  it('a role without REPLICATION gets PERMISSION_DENIED', async () => {
    const source = new PostgresCdcSource({
      url: pgs.urlFor('noreplication'),
      tables: ['public.t'],
      topicPrefix: 'perm',
      sink: new MemoryChangeSink(),
      offsets: new MemoryOffsetStore(),
    });
    await assert.rejects(source.start(), (err: unknown) => {
      assert.ok(isSluiceError(err, 'PERMISSION_DENIED'));
      assert.match(err.message, /ALTER ROLE "noreplication" WITH REPLICATION/);
      return true;
    });
  });

  it('revoked SELECT fails the snapshot with PERMISSION_DENIED; after GRANT it resumes and completes', async () => {
    const offsets = new MemoryOffsetStore();
    const opts = {
      url: pgs.urlFor('cdcuser'),
      tables: ['public.secret'],
      topicPrefix: 'sec',
      offsets,
      heartbeatIntervalMs: 0,
    };
    await pgs.query('ALTER TABLE secret OWNER TO postgres; GRANT SELECT ON secret TO cdcuser');
    // Publication and slot are set up while the role can read; then SELECT is revoked.
    await pgs.query('CREATE PUBLICATION sluice_sec FOR TABLE secret');
    await pgs.query('REVOKE SELECT ON secret FROM cdcuser');
    const a = new PostgresCdcSource({ ...opts, sink: new MemoryChangeSink() });
    await assert.rejects(a.start(), (err: unknown) => {
      assert.ok(isSluiceError(err, 'PERMISSION_DENIED'), String(err));
      assert.match(err.message, /permission denied for table secret/);
      return true;
    });
    assert.equal(
      (await offsets.load('sluice_sec'))?.snapshot?.completed,
      false,
      'the snapshot is recorded as unfinished',
    );
    await pgs.query('GRANT SELECT ON secret TO cdcuser');
    const sink = new MemoryChangeSink();
    const b = new PostgresCdcSource({ ...opts, sink });
    await b.start();
    await b.stop();
    assert.deepEqual(ids(sink.records, 'sec'), [1, 2]);
  });

  it('a connection killed mid-stream reconnects and loses nothing; without retries it is a NETWORK error', async () => {
    const sink = new MemoryChangeSink();
    const reconnects: SluiceError[] = [];
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.t'],
      topicPrefix: 'kill',
      sink,
      offsets: new MemoryOffsetStore(),
      heartbeatIntervalMs: 0,
      reconnect: { initialBackoffMs: 50 },
      onReconnect: (err) => reconnects.push(err),
    });
    await source.start();
    try {
      await pgs.query('INSERT INTO t SELECT g, $1 FROM generate_series(1000, 1099) g', ['before']);
      await pgs.query(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_kill'",
      );
      await pgs.query('INSERT INTO t SELECT g, $1 FROM generate_series(1100, 1199) g', ['after']);
      await eventually(() => {
        const got = new Set(ids(sink.records, 'kill'));
        for (let i = 1000; i < 1200; i++) assert.ok(got.has(i), `row ${i}`);
      });
      assert.ok(reconnects.length >= 1, 'the loss was noticed and reported');
      assert.equal(reconnects[0].retriable, true);
    } finally {
      await source.stop();
    }

    const strict = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.t'],
      topicPrefix: 'kill2',
      sink: new MemoryChangeSink(),
      offsets: new MemoryOffsetStore(),
      heartbeatIntervalMs: 0,
      reconnect: { maxAttempts: 0 },
    });
    await strict.start();
    await pgs.query(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_kill2'",
    );
    await assert.rejects(strict.done, (err: unknown) => isSluiceError(err, 'NETWORK'));
  });

  it('a failing sink stops the source; the slot stays at the last acknowledged commit and a restart re-delivers', async () => {
    const offsets = new MemoryOffsetStore();
    let fail = false;
    const acked: ChangeRecord[] = [];
    const sink = new CallbackChangeSink(async (records) => {
      if (fail) throw new SluiceError('NETWORK', 'broker unreachable', { retriable: false });
      acked.push(...records);
    });
    const opts = { url: pgs.url, tables: ['public.t'], topicPrefix: 'fail', offsets, heartbeatIntervalMs: 0 };
    const a = new PostgresCdcSource({ ...opts, sink });
    await a.start();
    await pgs.query("INSERT INTO t VALUES (2000, 'acked')");
    await eventually(() => assert.ok(ids(acked, 'fail').includes(2000)));
    await eventually(async () =>
      assert.equal(await slotLsn('sluice_fail'), parseLsn((await offsets.load('sluice_fail'))?.lsn ?? '0/0')),
    );
    const confirmedBefore = await slotLsn('sluice_fail');
    fail = true;
    await pgs.query("INSERT INTO t VALUES (2001, 'not acked')");
    await assert.rejects(a.done, /broker unreachable/);
    assert.equal(
      await slotLsn('sluice_fail'),
      confirmedBefore,
      'the slot did not move past the acknowledged commit',
    );
    assert.ok(!ids(acked, 'fail').includes(2001));
    const sink2 = new MemoryChangeSink();
    const b = new PostgresCdcSource({ ...opts, sink: sink2 });
    await b.start();
    try {
      await eventually(() =>
        assert.ok(ids(sink2.records, 'fail').includes(2001), 'the unacknowledged change is re-delivered'),
      );
      assert.ok(!ids(sink2.records, 'fail').includes(2000), 'the acknowledged one is not');
    } finally {
      await b.stop();
    }
  });

  it('wal_level=replica is a clear INVALID_CONFIG error', async () => {
    const replica = await startPostgres({ walLevel: 'replica' });
    try {
      await replica.query('CREATE TABLE t (id int PRIMARY KEY)');
      const source = new PostgresCdcSource({
        url: replica.url,
        tables: ['public.t'],
        topicPrefix: 'wl',
        sink: new MemoryChangeSink(),
        offsets: new MemoryOffsetStore(),
      });
      await assert.rejects(source.start(), (err: unknown) => {
        assert.ok(isSluiceError(err, 'INVALID_CONFIG'));
        assert.match(err.message, /wal_level=replica.*wal_level = logical/s);
        return true;
      });
    } finally {
      await replica.stop();
    }
  });
});

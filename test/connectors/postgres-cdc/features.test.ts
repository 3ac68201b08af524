/**
 * Debezium-format details against a real Postgres: the JSON schema wrapper, Avro through
 * the schema registry (and a new registry version after ADD COLUMN), the unchanged-TOAST
 * placeholder, the transaction topic and blocks, TRUNCATE, heartbeats advancing an idle
 * slot with the lag metric, and a snapshot resumed after a failure mid-way.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import avsc from 'avsc';
import { isSluiceError, SluiceError } from '../../../src/common/index.js';
import {
  CallbackChangeSink,
  type ChangeRecord,
  MemoryChangeSink,
  MemoryOffsetStore,
  PostgresCdcSource,
  parseLsn,
  UNAVAILABLE_VALUE,
} from '../../../src/connectors/index.js';
import {
  createRegistryServer,
  deserializer,
  MemoryStorage,
  RegistryClient,
} from '../../../src/registry/index.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { decodeRecords, eventually } from './helpers.js';

describe('postgres-cdc Debezium features', { timeout: 120_000 }, () => {
  let pgs: TestPostgres;
  before(async () => {
    pgs = await startPostgres();
    await pgs.query(`
      CREATE TABLE f (id int PRIMARY KEY, price numeric(8,2), day date, note text);
      INSERT INTO f VALUES (1, 9.99, '2024-02-29', 'first');
      CREATE TABLE toasty (id int PRIMARY KEY, big text, n int);
      ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
      CREATE TABLE other (id int PRIMARY KEY);
      CREATE TABLE snap (id int PRIMARY KEY, v text);
      INSERT INTO snap SELECT g, 'v' || g FROM generate_series(1, 1000) g;
    `);
  });
  after(async () => {
    await pgs?.stop();
  });

  it('json-schema: {schema, payload} with Debezium’s Connect schema names', async () => {
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.f'],
      topicPrefix: 'js',
      sink,
      offsets: new MemoryOffsetStore(),
      format: 'json-schema',
      heartbeatIntervalMs: 0,
    });
    await source.start();
    await source.stop();
    const rec = sink.records.find((r) => r.topic === 'js.public.f');
    assert.ok(rec?.value && rec.key);
    const value = JSON.parse(rec.value.toString());
    const key = JSON.parse(rec.key.toString());
    assert.deepEqual(key, {
      schema: {
        type: 'struct',
        optional: false,
        name: 'js.public.f.Key',
        fields: [{ field: 'id', type: 'int32', optional: false }],
      },
      payload: { id: 1 },
    });
    assert.equal(value.schema.name, 'js.public.f.Envelope');
    assert.deepEqual(
      value.schema.fields.map((f: { field: string }) => f.field),
      ['before', 'after', 'source', 'op', 'ts_ms', 'transaction'],
    );
    const afterFields = value.schema.fields[1].fields;
    assert.deepEqual(afterFields[1], {
      field: 'price',
      type: 'bytes',
      optional: true,
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '8' },
    });
    assert.equal(afterFields[2].name, 'io.debezium.time.Date');
    assert.equal(value.schema.fields[2].name, 'io.debezium.connector.postgresql.Source');
    assert.equal(value.payload.op, 'r');
    assert.equal(value.payload.after.price, Buffer.from([0x03, 0xe7]).toString('base64')); // 999 at scale 2
    assert.equal(value.payload.after.day, 19782);
    assert.equal(value.payload.source.connector, 'postgresql');
    assert.equal(value.payload.source.snapshot, 'last');
    assert.equal(value.payload.source.table, 'f');
  });

  it('avro: Confluent wire format via the registry; ADD COLUMN registers a new version', async () => {
    const registry = await createRegistryServer({ storage: new MemoryStorage(), port: 0 });
    const client = new RegistryClient({ url: registry.url });
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.f'],
      topicPrefix: 'av',
      sink,
      offsets: new MemoryOffsetStore(),
      format: 'avro',
      registry: client,
      heartbeatIntervalMs: 0,
    });
    try {
      await source.start();
      await pgs.query("INSERT INTO f VALUES (2, 1.5, '1970-01-02', 'two')");
      await pgs.query("ALTER TABLE f ADD COLUMN tag text DEFAULT 'x'");
      await pgs.query("INSERT INTO f (id, price, tag) VALUES (3, 2.25, 'new')");
      await eventually(() => assert.equal(sink.records.filter((r) => r.topic === 'av.public.f').length, 3));
      const decode = deserializer(client);
      const values = await Promise.all(
        sink.records
          .filter((r) => r.topic === 'av.public.f')
          .map(async (r) => (await decode(r.value as Buffer)) as Record<string, never>),
      );
      const ids = sink.records
        .filter((r) => r.topic === 'av.public.f')
        .map((r) => (r.value as Buffer).readInt32BE(1));
      assert.equal(ids[0], ids[1], 'same shape, same schema id');
      assert.notEqual(ids[1], ids[2], 'new shape, new schema id');
      assert.deepEqual(
        (await client.request<number[]>('GET', '/subjects/av.public.f-value/versions')).length,
        2,
        'a second version of the value subject',
      );
      const a1 = values[1].after as { id: number; day: number; note: string };
      assert.deepEqual([a1.id, a1.day, a1.note, values[1].op], [2, 1, 'two', 'c']);
      const a2 = values[2].after as { id: number; tag: string };
      assert.deepEqual([a2.id, a2.tag], [3, 'new']);
      const keyId = (sink.records[2].key as Buffer).readInt32BE(1);
      assert.deepEqual({ ...((await decode(sink.records[2].key as Buffer)) as object) }, { id: 3 });
      assert.ok(keyId > 0);
    } finally {
      await source.stop();
      await registry.close();
    }
  });

  it('json-schema: a new column changes the event schema from that change on; decimal string mode', async () => {
    await pgs.query('CREATE TABLE shape (id int PRIMARY KEY, price numeric(6,3))');
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.shape'],
      topicPrefix: 'sh',
      sink,
      offsets: new MemoryOffsetStore(),
      format: 'json-schema',
      decimalMode: 'string',
      heartbeatIntervalMs: 0,
    });
    await source.start();
    try {
      await pgs.query('INSERT INTO shape VALUES (1, 1.5)');
      await pgs.query('ALTER TABLE shape ADD COLUMN label text');
      await pgs.query("INSERT INTO shape VALUES (2, 2.25, 'two')");
      await eventually(() => assert.equal(sink.records.length, 2));
      const [v1, v2] = sink.records.map((r) => JSON.parse((r.value as Buffer).toString()));
      const fieldsOf = (v: { schema: { fields: { field: string; fields?: { field: string }[] }[] } }) =>
        v.schema.fields[1].fields?.map((f) => f.field);
      assert.deepEqual(fieldsOf(v1), ['id', 'price']);
      assert.deepEqual(fieldsOf(v2), ['id', 'price', 'label']);
      assert.deepEqual(v1.payload.after, { id: 1, price: '1.500' });
      assert.deepEqual(v2.payload.after, { id: 2, price: '2.250', label: 'two' });
      assert.equal(v1.schema.fields[1].fields[1].type, 'string');
    } finally {
      await source.stop();
    }
  });

  it('avro: int64 values past 2^53 are exact on the wire', async () => {
    await pgs.query('CREATE TABLE wide (id bigint PRIMARY KEY, n bigint)');
    const registry = await createRegistryServer({ storage: new MemoryStorage(), port: 0 });
    const client = new RegistryClient({ url: registry.url });
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.wide'],
      topicPrefix: 'aw',
      sink,
      offsets: new MemoryOffsetStore(),
      format: 'avro',
      registry: client,
      heartbeatIntervalMs: 0,
    });
    try {
      await source.start();
      await pgs.query('INSERT INTO wide VALUES (9007199254740993, -9223372036854775808)');
      await eventually(() => assert.equal(sink.records.length, 1));
      const value = sink.records[0].value as Buffer;
      const writer = await client.getSchemaById(value.readInt32BE(1));
      const long = avsc.types.LongType.__with({
        fromBuffer: (b: Buffer) => b.readBigInt64LE(0),
        toBuffer: (n: bigint) => {
          const b = Buffer.alloc(8);
          b.writeBigInt64LE(n, 0);
          return b;
        },
        fromJSON: (x: unknown) => BigInt(x as string),
        toJSON: (n: bigint) => Number(n),
        isValid: (n: unknown) => typeof n === 'bigint',
        compare: () => 0,
      });
      const type = avsc.Type.forSchema(JSON.parse(writer.schema), {
        registry: { long },
        typeHook: (sc: unknown) => ((sc as { type?: unknown } | null)?.type === 'long' ? long : undefined),
      } as never);
      const decoded = type.fromBuffer(value.subarray(5)) as { after: { id: bigint; n: bigint } };
      assert.equal(decoded.after.id, 9007199254740993n);
      assert.equal(decoded.after.n, -9223372036854775808n);
    } finally {
      await source.stop();
      await registry.close();
    }
  });

  it('unchanged TOAST values carry Debezium’s placeholder, not null', async () => {
    const big = randomBytes(6000).toString('hex'); // incompressible, stored out of line
    await pgs.query('INSERT INTO toasty VALUES (1, $1, 0)', [big]);
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.toasty'],
      topicPrefix: 'tz',
      sink,
      offsets: new MemoryOffsetStore(),
      heartbeatIntervalMs: 0,
    });
    await source.start();
    try {
      await pgs.query('UPDATE toasty SET n = 1 WHERE id = 1');
      await pgs.query("UPDATE toasty SET n = 2, big = 'small' WHERE id = 1");
      await eventually(() => assert.equal(decodeRecords(sink.records, 'tz').length, 3));
      const ev = decodeRecords(sink.records, 'tz');
      assert.equal(
        (ev[0].value as { after: { big: string } }).after.big,
        big,
        'the snapshot reads the full value',
      );
      assert.deepEqual(ev[1].value?.after, { id: 1, big: UNAVAILABLE_VALUE, n: 1 });
      assert.deepEqual(ev[2].value?.after, { id: 1, big: 'small', n: 2 });
    } finally {
      await source.stop();
    }
  });

  it('transaction topic, transaction blocks, truncate events', async () => {
    const sink = new MemoryChangeSink();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.other', 'public.toasty'],
      topicPrefix: 'tx',
      sink,
      offsets: new MemoryOffsetStore(),
      transactionTopic: true,
      heartbeatIntervalMs: 0,
      snapshot: 'never',
    });
    await source.start();
    try {
      await pgs.query('BEGIN; INSERT INTO other VALUES (1), (2); UPDATE toasty SET n = 5; COMMIT');
      await pgs.query('TRUNCATE other');
      await eventually(() => assert.ok(sink.records.filter((r) => r.topic === 'tx.transaction').length >= 4));
      const txRecords = sink.records
        .filter((r) => r.topic === 'tx.transaction')
        .map((r) => JSON.parse((r.value as Buffer).toString()));
      assert.equal(txRecords[0].status, 'BEGIN');
      assert.equal(txRecords[1].status, 'END');
      assert.equal(txRecords[1].event_count, 3);
      assert.deepEqual(txRecords[1].data_collections, [
        { data_collection: 'public.other', event_count: 2 },
        { data_collection: 'public.toasty', event_count: 1 },
      ]);
      const ev = decodeRecords(sink.records, 'tx');
      const blocks = ev
        .slice(0, 3)
        .map(
          (e) => e.value?.transaction as { id: string; total_order: number; data_collection_order: number },
        );
      assert.deepEqual(
        blocks.map((b) => [b.total_order, b.data_collection_order]),
        [
          [1, 1],
          [2, 2],
          [3, 1],
        ],
      );
      assert.equal(blocks[0].id, txRecords[0].id);
      const trunc = ev.find((e) => e.value?.op === 't');
      assert.ok(trunc, 'a truncate event');
      assert.equal(trunc.key, null);
      assert.equal(trunc.value?.before, null);
    } finally {
      await source.stop();
    }
  });

  it('heartbeats advance an idle slot; slot lag is reported', async () => {
    const offsets = new MemoryOffsetStore();
    const source = new PostgresCdcSource({
      url: pgs.url,
      tables: ['public.other'],
      topicPrefix: 'hb',
      sink: new MemoryChangeSink(),
      offsets,
      heartbeatIntervalMs: 100,
      snapshot: 'never',
    });
    await source.start();
    try {
      const start = parseLsn((await offsets.load('sluice_hb'))?.lsn ?? '0/0');
      // WAL grows on a table that is not captured.
      await pgs.query('CREATE TABLE busy (id int); INSERT INTO busy SELECT generate_series(1, 20000)');
      const walNow = parseLsn(
        (await pgs.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l'))[0].l,
      );
      await eventually(async () => {
        const rows = await pgs.query<{ c: string }>(
          "SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'sluice_hb'",
        );
        assert.ok(parseLsn(rows[0].c) >= walNow, 'the slot caught up with the WAL written meanwhile');
      });
      assert.ok(parseLsn((await offsets.load('sluice_hb'))?.lsn ?? '0/0') > start);
      assert.equal(typeof source.slotLagBytes(), 'number');
      await eventually(() => assert.ok(source.slotLagBytes() < 1_000_000, `lag ${source.slotLagBytes()}`));
      await eventually(() => assert.ok(source.stats.heartbeats > 0, 'heartbeat messages were written'));
    } finally {
      await source.stop();
    }
  });

  it('a snapshot that fails mid-way resumes after its last saved chunk, with progress', async () => {
    const offsets = new MemoryOffsetStore();
    let delivered = 0;
    const first: ChangeRecord[] = [];
    const failing = new CallbackChangeSink(async (records) => {
      if (delivered >= 300) throw new SluiceError('IO', 'disk full');
      delivered += records.length;
      first.push(...records);
    });
    const opts = {
      url: pgs.url,
      tables: ['public.snap'],
      topicPrefix: 'rs',
      offsets,
      snapshotChunkRows: 100,
      heartbeatIntervalMs: 0,
    };
    const a = new PostgresCdcSource({ ...opts, sink: failing });
    await assert.rejects(a.start(), (err: unknown) => isSluiceError(err, 'IO'));
    const saved = await offsets.load('sluice_rs');
    assert.equal(saved?.snapshot?.completed, false);
    assert.deepEqual(saved?.snapshot?.tables['public.snap'], { done: false, lastKey: ['300'], rows: 300 });
    const progress: number[] = [];
    const sink = new MemoryChangeSink();
    const b = new PostgresCdcSource({ ...opts, sink, onSnapshotProgress: (p) => progress.push(p.rows) });
    await b.start();
    await b.stop();
    const idsOf = (rs: ChangeRecord[]) =>
      decodeRecords(rs, 'rs').map((e) => (e.value as { after: { id: number } }).after.id);
    const resumed = idsOf(sink.records);
    assert.equal(resumed[0], 301, 'resumes after the last saved key');
    assert.deepEqual(
      [...new Set([...idsOf(first), ...resumed])].sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.equal(resumed.length, 700);
    assert.deepEqual(progress.slice(0, 2), [400, 500]);
    assert.equal(progress.at(-1), 1000);
  });
});

/**
 * TopicStorage: the registry's log in a `_schemas` topic through transport/, against a real
 * Sluice broker (broker-fixture.ts), once per transport implementation (the kafka transport
 * over TCP; the embedded one in-process). Cases: a full round trip of the three schema types
 * with soft and hard deletes and config through a restart on the same topic (same ids,
 * versions, subjects), the records' bytes in Confluent's layout in a compacted single-partition
 * topic, and two registries on one topic (the second fences the first; writes stay correct:
 * every write is planned on everything committed, no id is handed out twice).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '../../src/transport/index.js';
import { startTestBroker, type TestBroker } from '../transport/broker-fixture.js';
import { decodeRecord, encodeRecordKey, SchemaRegistry, TopicStorage, WRITER_HEADER } from './helpers.js';

const avro = (name: string, extra = '') =>
  JSON.stringify({
    type: 'record',
    name,
    fields: [
      { name: 'id', type: 'long' },
      ...(extra === '' ? [] : [{ name: extra, type: 'string', default: '' }]),
    ],
  });
const jsonSchema = JSON.stringify({
  type: 'object',
  properties: { sku: { type: 'string' }, qty: { type: 'integer' } },
  required: ['sku'],
});
const proto = 'syntax = "proto3";\npackage shop;\nmessage Order { string id = 1; int64 cents = 2; }\n';

interface Snapshot {
  subjects: string[];
  deleted: string[];
  versions: Record<string, { version: number; id: number; schema: string }[]>;
}

function snapshot(r: SchemaRegistry): Snapshot {
  const versions: Snapshot['versions'] = {};
  for (const s of r.subjects({ deleted: true })) {
    versions[s] = r.versions(s, { deleted: true }).map((v) => {
      const sv = r.getVersion(s, v, { deleted: true });
      return { version: sv.version, id: sv.id, schema: sv.schema };
    });
  }
  return { subjects: r.subjects(), deleted: r.subjects({ deleted: true }), versions };
}

function topicStorageCases(name: string, setup: (broker: TestBroker) => Transport): void {
  describe(`TopicStorage over the ${name} transport`, { timeout: 120_000 }, () => {
    let broker: TestBroker;
    let transport: Transport;
    before(async () => {
      broker = await startTestBroker();
      transport = setup(broker);
    });
    after(async () => {
      await transport?.close();
      await broker?.close();
    });
    const topic = () => `_schemas-${randomUUID().slice(0, 8)}`;

    it('survives a restart: every subject, version and id of the three types, deletes and config', async () => {
      const t = topic();
      const a = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }));
      assert.equal((await a.register('orders-value', { schema: avro('Order') })).id, 1);
      assert.equal((await a.register('orders-value', { schema: avro('Order', 'note') })).id, 2);
      assert.equal((await a.register('carts-value', { schema: jsonSchema, schemaType: 'JSON' })).id, 3);
      assert.equal((await a.register('shop-value', { schema: proto, schemaType: 'PROTOBUF' })).id, 4);
      // the same schema under another subject shares its id
      assert.equal((await a.register('orders-copy', { schema: avro('Order') })).id, 1);
      await a.setConfig('carts-value', { compatibility: 'FULL' });
      await a.deleteVersion('orders-value', 1);
      await a.register('gone', { schema: avro('Gone') });
      await a.deleteSubject('gone');
      await a.deleteSubject('gone', { permanent: true });
      const before = snapshot(a);
      await a.close();

      const b = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }));
      assert.deepEqual(snapshot(b), before);
      assert.deepEqual(b.versions('orders-value'), [2]);
      assert.deepEqual(b.getConfig('carts-value'), { compatibilityLevel: 'FULL' });
      assert.equal(b.getSchemaById(3).schemaType, 'JSON');
      // id 5 went to the hard-deleted 'gone': a new schema gets 6
      assert.equal((await b.register('next', { schema: avro('Next') })).id, 6);
      await b.close();
    });

    it('stores Confluent-layout records in a single-partition topic, one writer header per record', async () => {
      const t = topic();
      const r = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }));
      await r.register('s', { schema: avro('S') });
      await r.setConfig(null, { compatibility: 'NONE' });
      const stored = r.getVersion('s', 1).schema;
      await r.close();
      assert.deepEqual(await transport.admin.describeTopics([t]), new Map([[t, 1]]));
      assert.equal(broker.broker.cluster.describeTopic(t)?.config['cleanup.policy'], 'compact');
      const reader = transport.partitionReader();
      await reader.assign([{ topic: t, partition: 0, offset: 0 }]);
      const seen = [];
      for (let i = 0; i < 50 && seen.length < 2; i++) seen.push(...(await reader.poll(10, 200)));
      await reader.close();
      assert.equal(seen.length, 2);
      assert.equal(
        seen[0].key?.toString(),
        '{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}',
        "Confluent's key field order",
      );
      assert.deepEqual(JSON.parse(seen[0].value?.toString() ?? ''), {
        subject: 's',
        version: 1,
        id: 1,
        schema: stored,
        deleted: false,
      });
      assert.equal(
        seen[1].key?.toString(),
        encodeRecordKey({ keytype: 'CONFIG', subject: null, magic: 0 }).toString(),
      );
      assert.deepEqual(decodeRecord(seen[1].key as Buffer, seen[1].value).value, {
        compatibilityLevel: 'NONE',
      });
      for (const rec of seen) assert.equal(rec.headers.filter((h) => h.key === WRITER_HEADER).length, 1);
    });

    it('two registries on one topic: the later fences the earlier, and no id is handed out twice', async () => {
      const t = topic();
      const a = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }), {
        defaultCompatibility: 'NONE',
      });
      assert.equal((await a.register('a', { schema: avro('A1') })).id, 1);
      const b = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }), {
        defaultCompatibility: 'NONE',
      });
      assert.deepEqual(b.versions('a'), [1], 'b replayed what a wrote');
      assert.equal((await b.register('b', { schema: avro('B1') })).id, 2);
      // a's writer was fenced by b's; its next write re-reads (sees id 2) and is planned again
      assert.equal((await a.register('a', { schema: avro('A2') })).id, 3);
      assert.deepEqual(a.versions('b'), [1]);
      assert.equal((await b.register('b', { schema: avro('B2') })).id, 4);
      assert.deepEqual(b.versions('a'), [1, 2]);
      // interleaved at once: every distinct schema gets a distinct id, versions are contiguous
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? a : b).register('both', { schema: avro(`Both${i}`) }).then((r) => r.id),
        ),
      );
      assert.equal(new Set(results).size, 12, `distinct ids: ${results.join(',')}`);
      assert.ok(results.every((id) => id > 4));
      await a.close();
      await b.close();
      const c = await SchemaRegistry.open(new TopicStorage(transport, { topic: t }));
      assert.deepEqual(
        c.versions('both'),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const ids = c.versions('both').map((v) => c.getVersion('both', v).id);
      assert.deepEqual(
        [...ids].sort((x, y) => x - y),
        [...results].sort((x, y) => x - y),
      );
      await c.close();
    });
  });
}

topicStorageCases('kafka', (b) =>
  createKafkaTransport({ bootstrap: `127.0.0.1:${b.broker.address.port}`, requestTimeoutMs: 15_000 }),
);

topicStorageCases('embedded', (b) => createEmbeddedTransport(b.broker));

/**
 * Serdes and record codecs: wire framing and Protobuf message indexes (property tests),
 * serializer/deserializer against a live registry (nested Protobuf messages, Avro reader
 * schemas, Avro references, JSON validation), the `_schemas` record byte format, and
 * concurrent registrations through the write chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createRegistryServer,
  decodeMessageIndexes,
  decodeRecord,
  decodeWire,
  deserializer,
  encodeMessageIndexes,
  encodeRecordKey,
  encodeRecordValue,
  encodeWire,
  MemoryStorage,
  RegistryClient,
  type RegistryServer,
  SchemaRegistry,
  serializer,
} from './helpers.js';

describe('wire format', () => {
  it('frames any id and payload and reads them back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.uint8Array({ maxLength: 64 }),
        (id, payload) => {
          const framed = encodeWire(id, payload);
          assert.equal(framed[0], 0);
          assert.equal(framed.readInt32BE(1), id);
          const back = decodeWire(framed);
          assert.equal(back.id, id);
          assert.deepEqual(new Uint8Array(back.payload), payload);
        },
      ),
    );
  });

  it('rejects short buffers and unknown magic bytes', () => {
    assert.throws(() => decodeWire(Buffer.from([0, 0, 1])), { code: 'DESERIALIZATION' });
    assert.throws(() => decodeWire(Buffer.from([1, 0, 0, 0, 1, 9])), { code: 'DESERIALIZATION' });
  });

  it('message indexes round-trip, and [0] is the single byte 0', () => {
    assert.deepEqual([...encodeMessageIndexes([0])], [0]);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 6 }),
        (indexes) => {
          const bytes = encodeMessageIndexes(indexes);
          const back = decodeMessageIndexes(Buffer.concat([bytes, Buffer.from([0x0a, 0x01, 0x61])]));
          assert.ok(back !== undefined);
          assert.deepEqual(back.indexes, indexes);
          assert.equal(back.length, bytes.length);
        },
      ),
    );
  });
});

describe('_schemas record bytes', () => {
  it("writes keys in Confluent's field order whatever the object order", () => {
    const key = encodeRecordKey({ magic: 1, version: 3, subject: 's', keytype: 'SCHEMA' } as never);
    assert.equal(key.toString(), '{"keytype":"SCHEMA","subject":"s","version":3,"magic":1}');
    assert.equal(
      encodeRecordKey({ keytype: 'CONFIG', subject: null, magic: 0 }).toString(),
      '{"keytype":"CONFIG","subject":null,"magic":0}',
    );
  });

  it('round-trips values and tombstones, and skips unknown keytypes', () => {
    const value = { subject: 's', version: 1, id: 7, schema: '"string"', deleted: false };
    const key = { keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 } as const;
    assert.deepEqual(decodeRecord(encodeRecordKey(key), encodeRecordValue(value)), { key, value });
    assert.deepEqual(decodeRecord(encodeRecordKey(key), null), { key, value: null });
    assert.equal(decodeRecord(Buffer.from('{"keytype":"CONTEXT","magic":0}'), null).key.keytype, 'NOOP');
    assert.throws(() => decodeRecord(Buffer.from('nope'), null), { code: 'CORRUPT_RECORD' });
  });
});

describe('serializer and deserializer against a live registry', () => {
  let server: RegistryServer;
  let client: RegistryClient;
  before(async () => {
    server = await createRegistryServer({ storage: new MemoryStorage(), port: 0, host: '127.0.0.1' });
    client = new RegistryClient({ url: server.url });
  });
  after(async () => {
    await server.close();
  });

  it('Protobuf: nested and non-first messages carry their message indexes', async () => {
    const schema = {
      schemaType: 'PROTOBUF' as const,
      schema: `syntax = "proto3"; package ev;
message Outer { string a = 1; message Inner { int32 x = 1; } }
message Second { string b = 1; Outer.Inner inner = 2; }`,
    };
    const second = serializer(client, 'ev-value', schema, { messageName: 'ev.Second' });
    const inner = serializer(client, 'ev-value', schema, { messageName: 'ev.Outer.Inner' });
    const read = deserializer(client);
    const s = await second({ b: 'hi', inner: { x: 5 } });
    assert.deepEqual([...s.subarray(5, 7)], [...encodeMessageIndexes([1])]);
    assert.deepEqual(await read(s), { b: 'hi', inner: { x: 5 } });
    const i = await inner({ x: 9 });
    assert.deepEqual(decodeMessageIndexes(i.subarray(5))?.indexes, [0, 0]);
    assert.deepEqual(await read(i), { x: 9 });
    await assert.rejects(second({ b: 42 }), { code: 'SERIALIZATION' });
  });

  it('Avro: a reader schema fills defaults for data written with an older version', async () => {
    const v1 = JSON.stringify({ type: 'record', name: 'Click', fields: [{ name: 'url', type: 'string' }] });
    const v2 = JSON.stringify({
      type: 'record',
      name: 'Click',
      fields: [
        { name: 'url', type: 'string' },
        { name: 'ms', type: 'long', default: 0 },
      ],
    });
    const bytes = await serializer(client, 'click-value', { schema: v1 })({ url: '/a' });
    await serializer(client, 'click-value', { schema: v2 })({ url: '/b', ms: 3 });
    const asV2 = deserializer(client, { avroReaderSchema: v2 });
    assert.deepEqual({ ...((await asV2(bytes)) as object) }, { url: '/a', ms: 0 });
    assert.deepEqual({ ...((await deserializer(client)(bytes)) as object) }, { url: '/a' });
  });

  it('Avro: schemas with references serialize and deserialize through the client', async () => {
    const money = JSON.stringify({
      type: 'record',
      name: 'Money',
      namespace: 'fin',
      fields: [{ name: 'cents', type: 'long' }],
    });
    await client.register('money-value', { schema: money });
    const tx = {
      schema: JSON.stringify({
        type: 'record',
        name: 'Tx',
        namespace: 'fin',
        fields: [{ name: 'amount', type: 'Money' }],
      }),
      references: [{ name: 'fin.Money', subject: 'money-value', version: 1 }],
    };
    const bytes = await serializer(client, 'tx-value', tx)({ amount: { cents: 1250 } });
    const back = (await deserializer(new RegistryClient({ url: server.url }))(bytes)) as {
      amount: { cents: number };
    };
    assert.equal(back.amount.cents, 1250);
  });

  it('JSON Schema: invalid values are refused before they are written', async () => {
    const write = serializer(client, 'json-value', {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }),
    });
    assert.deepEqual(await deserializer(client)(await write({ n: 1 })), { n: 1 });
    await assert.rejects(write({ n: 'one' }), { code: 'SERIALIZATION' });
  });
});

describe('concurrent registrations', () => {
  it('the same schema registered 20 times at once gets one id and one version', async () => {
    const reg = await SchemaRegistry.open(new MemoryStorage());
    const schema = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'a', type: 'int' }] });
    const ids = await Promise.all(Array.from({ length: 20 }, () => reg.register('c-value', { schema })));
    assert.equal(new Set(ids.map((r) => r.id)).size, 1);
    assert.deepEqual(reg.versions('c-value'), [1]);
    await reg.close();
  });

  it('20 different schemas registered at once get distinct ids and contiguous versions', async () => {
    const reg = await SchemaRegistry.open(new MemoryStorage());
    await reg.setConfig('d-value', { compatibility: 'NONE' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reg.register('d-value', { schema: JSON.stringify({ type: 'record', name: `D${i}`, fields: [] }) }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.id)).size, 20);
    assert.deepEqual(
      reg.versions('d-value'),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await reg.close();
  });
});

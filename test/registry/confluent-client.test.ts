/**
 * Interop: @kafkajs/confluent-schema-registry 3.9.0, unchanged, against Sluice's registry
 * on a random localhost port. Each format is registered by the third-party client, its
 * messages decoded by Sluice's deserializer, and Sluice's serializer output decoded by
 * the third-party client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import confluent from '@kafkajs/confluent-schema-registry';
import {
  createRegistryServer,
  decodeWire,
  deserializer,
  MemoryStorage,
  RegistryClient,
  type RegistryServer,
  serializer,
} from '../../src/registry/index.js';

const { SchemaRegistry: KafkaJsRegistry, SchemaType } =
  confluent as unknown as typeof import('@kafkajs/confluent-schema-registry');

describe('@kafkajs/confluent-schema-registry against the Sluice registry', () => {
  let server: RegistryServer;
  let kafkajs: InstanceType<typeof KafkaJsRegistry>;
  let client: RegistryClient;

  before(async () => {
    server = await createRegistryServer({ storage: new MemoryStorage(), port: 0, host: '127.0.0.1' });
    kafkajs = new KafkaJsRegistry({ host: server.url, retry: { retries: 0 } });
    client = new RegistryClient({ url: server.url });
  });
  after(async () => {
    await server.close();
  });

  const cases = [
    {
      name: 'Avro',
      subject: 'payments-value',
      type: 'AVRO' as const,
      schema: JSON.stringify({
        type: 'record',
        name: 'Payment',
        namespace: 'sluice.test',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'amount', type: 'double' },
          { name: 'note', type: ['null', 'string'], default: null },
        ],
      }),
      values: [
        { id: 'p-1', amount: 12.5, note: null },
        { id: 'p-2', amount: -3, note: 'refund' },
      ],
    },
    {
      name: 'JSON Schema',
      subject: 'orders-value',
      type: 'JSON' as const,
      schema: JSON.stringify({
        type: 'object',
        properties: {
          orderId: { type: 'string' },
          qty: { type: 'integer', minimum: 0 },
          tags: { type: 'array', items: { type: 'string' } },
        },
        required: ['orderId', 'qty'],
      }),
      values: [
        { orderId: 'o-1', qty: 3, tags: ['a', 'b'] },
        { orderId: 'o-2', qty: 0 },
      ],
    },
    {
      name: 'Protobuf',
      subject: 'users-value',
      type: 'PROTOBUF' as const,
      schema: `syntax = "proto3";
package sluice.test;
message User {
  string name = 1;
  int32 age = 2;
  repeated string emails = 3;
  Status status = 4;
  enum Status { UNKNOWN = 0; ACTIVE = 1; BANNED = 2; }
}`,
      // kafkajs verifies enums as numbers; both libraries decode them to their names.
      values: [
        { name: 'ada', age: 36, emails: ['ada@example.com'], status: 1 },
        { name: 'bob', age: 7, emails: [], status: 2 },
      ],
      expected: [
        { name: 'ada', age: 36, emails: ['ada@example.com'], status: 'ACTIVE' },
        { name: 'bob', age: 7, status: 'BANNED' },
      ],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: kafkajs registers and encodes, Sluice decodes; Sluice encodes, kafkajs decodes`, async () => {
      const { id } = await kafkajs.register(
        { type: SchemaType[c.type], schema: c.schema },
        { subject: c.subject },
      );
      assert.ok(Number.isInteger(id) && id > 0);
      // The same schema text registered again by Sluice's serializer resolves to the same id.
      const serialize = serializer(client, c.subject, { schema: c.schema, schemaType: c.type });
      const deserialize = deserializer(new RegistryClient({ url: server.url }));
      for (const [i, value] of c.values.entries()) {
        const expected = normalize(c.expected?.[i] ?? value);
        const fromKafkajs = await kafkajs.encode(id, value);
        assert.equal(decodeWire(fromKafkajs).id, id);
        assert.deepEqual(normalize(await deserialize(fromKafkajs)), expected);

        const fromSluice = await serialize(value);
        assert.equal(fromSluice[0], 0);
        assert.equal(decodeWire(fromSluice).id, id);
        const decoded = await kafkajs.decode(fromSluice);
        assert.deepEqual(normalize(decoded), expected);
      }
      // The registry agrees on what it stored.
      const latest = await kafkajs.getLatestSchemaId(c.subject);
      assert.equal(latest, id);
    });
  }

  it('the same schema under a second subject shares its id', async () => {
    const schema = cases[0].schema;
    const a = await kafkajs.register({ type: SchemaType.AVRO, schema }, { subject: 'shared-a' });
    const b = await kafkajs.register({ type: SchemaType.AVRO, schema }, { subject: 'shared-b' });
    assert.equal(a.id, b.id);
    assert.equal(await kafkajs.getRegistryIdBySchema('shared-b', { type: SchemaType.AVRO, schema }), a.id);
  });

  it('an incompatible evolution is refused with 409 through the client', async () => {
    const v2 = JSON.stringify({
      type: 'record',
      name: 'Payment',
      namespace: 'sluice.test',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'amount', type: 'double' },
        { name: 'currency', type: 'string' },
      ],
    });
    await assert.rejects(
      kafkajs.register({ type: SchemaType.AVRO, schema: v2 }, { subject: 'payments-value' }),
      (err: { status?: number; message?: string }) =>
        err.status === 409 && /READER_FIELD_MISSING_DEFAULT_VALUE/.test(String(err.message)),
    );
  });
});

/** Compares decoded values across libraries: protobufjs messages become plain objects, empty repeated fields drop out. */
function normalize(v: unknown): unknown {
  const plain = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
  for (const [k, x] of Object.entries(plain)) if (Array.isArray(x) && x.length === 0) delete plain[k];
  return plain;
}

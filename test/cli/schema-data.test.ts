/**
 * `sluice produce --value-schema … --registry` and `sluice consume --registry` through the
 * CLI, against `sluice broker --registry` running as a real process (broker and registry in
 * one, schemas in its `_schemas` topic). For Avro, JSON Schema and Protobuf: JSON lines are
 * produced in Confluent's wire format (the schema registered under `<topic>-value`; the raw
 * bytes read back start with magic 0 and that id, and Sluice's deserializer decodes them),
 * then consumed and printed as the same JSON (value and json formats). Errors: a line that is
 * not JSON or does not match the schema names its line; an incompatible schema is refused
 * before anything is sent; --value-schema without --registry is a usage error; a value not in
 * the wire format fails consume naming its offset.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ck from '@confluentinc/kafka-javascript';
import { PROTOBUF_JSON } from '../../src/cli/commands/consume.js';
import { decodeWire, deserializer, RegistryClient } from '../../src/registry/index.js';
import { freePort, kill, waitLine } from '../chaos/support/processes.js';
import { cli } from './client-support.js';

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

const SCHEMAS = {
  avro: {
    file: 'payment.avsc',
    text: JSON.stringify({
      type: 'record',
      name: 'Payment',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'amount', type: 'double' },
        { name: 'note', type: ['null', 'string'], default: null },
      ],
    }),
    values: [
      { id: 1, amount: 9.5, note: null },
      { id: 2, amount: 120.25, note: 'refund' },
    ],
    bad: { id: 'x', amount: 1 },
  },
  json: {
    file: 'cart.json',
    text: JSON.stringify({
      type: 'object',
      properties: { sku: { type: 'string' }, qty: { type: 'integer' } },
      required: ['sku', 'qty'],
    }),
    values: [
      { sku: 'A-1', qty: 2 },
      { sku: 'B-7', qty: 1 },
    ],
    bad: { sku: 'A-1' },
  },
  protobuf: {
    file: 'order.proto',
    text: 'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n  int32 items = 2;\n  bool paid = 3;\n}\n',
    values: [
      { id: 'o-1', items: 3, paid: true },
      { id: 'o-2', items: 1, paid: false },
    ],
    bad: { id: 5 },
  },
} as const;

describe('sluice produce --value-schema / consume --registry', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-schemas-'));
  let broker: ChildProcess;
  let bootstrap = '';
  let registry = '';

  before(async () => {
    const port = await freePort();
    broker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'broker',
        '--port',
        String(port),
        '--data-dir',
        join(dir, 'data'),
        '--registry',
        '--registry-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' } },
    );
    registry = (await waitLine(broker, /schema registry listening on (\S+)/, 90_000))[1];
    bootstrap = `127.0.0.1:${port}`;
    for (const s of Object.values(SCHEMAS)) writeFileSync(join(dir, s.file), s.text);
  });
  after(async () => {
    await kill(broker);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [type, s] of Object.entries(SCHEMAS)) {
    it(`${type}: JSON lines -> wire format -> the same JSON`, async () => {
      const topic = `payments-${type}`;
      const input = join(dir, `${type}.txt`);
      writeFileSync(input, `${s.values.map((v, i) => `k${i}:${JSON.stringify(v)}`).join('\n')}\n`);
      const p = await cli(
        'produce',
        topic,
        '--bootstrap',
        bootstrap,
        '--file',
        input,
        '--key-separator',
        ':',
        '--value-schema',
        join(dir, s.file),
        '--registry',
        registry,
      );
      assert.equal(p.code, 0, p.err);

      const client = new RegistryClient({ url: registry });
      const registered = await client.getVersion(`${topic}-value`, 'latest');
      assert.equal(registered.schemaType ?? 'AVRO', type.toUpperCase());

      // The raw bytes on the topic: Confluent framing with the registered id, decodable by Sluice's serdes.
      const rawValues = await readRaw(bootstrap, topic, s.values.length);
      const decode = deserializer(client, { protobufObjectOptions: PROTOBUF_JSON });
      for (const [i, bytes] of rawValues.entries()) {
        assert.equal(bytes[0], 0, 'magic byte');
        assert.equal(decodeWire(bytes).id, registered.id);
        assert.deepEqual(JSON.parse(JSON.stringify(await decode(bytes))), s.values[i]);
      }

      const c = await cli(
        'consume',
        topic,
        '--bootstrap',
        bootstrap,
        '--from-beginning',
        '--max-messages',
        String(s.values.length),
        '--registry',
        registry,
      );
      assert.equal(c.code, 0, c.err);
      assert.deepEqual(
        c.out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
        s.values,
      );
      const j = await cli(
        'consume',
        topic,
        '--bootstrap',
        bootstrap,
        '--from-beginning',
        '--max-messages',
        String(s.values.length),
        '--registry',
        registry,
        '--format',
        'json',
      );
      assert.equal(j.code, 0, j.err);
      const records = j.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; value: unknown });
      assert.deepEqual(
        records.map((r) => r.key),
        s.values.map((_, i) => `k${i}`),
      );
      assert.deepEqual(
        records.map((r) => r.value),
        s.values,
      );

      // A value that does not match the schema fails naming its line.
      writeFileSync(input, `${JSON.stringify(s.values[0])}\n${JSON.stringify(s.bad)}\n`);
      const bad = await cli(
        'produce',
        topic,
        '--bootstrap',
        bootstrap,
        '--file',
        input,
        '--value-schema',
        join(dir, s.file),
        '--registry',
        registry,
      );
      assert.equal(bad.code, 1);
      assert.match(bad.err, /line 2/);
    });
  }

  it('refuses bad input with clear errors', async () => {
    const input = join(dir, 'lines.txt');
    writeFileSync(input, '{"id": 1, "amount": 2.5}\nnot json\n');
    const notJson = await cli(
      'produce',
      'errors-topic',
      '--bootstrap',
      bootstrap,
      '--file',
      input,
      '--value-schema',
      join(dir, SCHEMAS.avro.file),
      '--registry',
      registry,
    );
    assert.equal(notJson.code, 1);
    assert.match(notJson.err, /line 2: the value is not JSON/);

    const noRegistry = await cli(
      'produce',
      'errors-topic',
      '--bootstrap',
      bootstrap,
      '--file',
      input,
      '--value-schema',
      join(dir, SCHEMAS.avro.file),
    );
    assert.equal(noRegistry.code, 2);
    assert.match(noRegistry.err, /--value-schema needs --registry/);

    // An incompatible next schema (BACKWARD: a new field without a default) is refused before sending.
    const v2 = join(dir, 'payment-v2.avsc');
    writeFileSync(
      v2,
      JSON.stringify({
        type: 'record',
        name: 'Payment',
        fields: [
          { name: 'id', type: 'long' },
          { name: 'amount', type: 'double' },
          { name: 'currency', type: 'string' },
        ],
      }),
    );
    writeFileSync(input, '{"id": 3, "amount": 1, "currency": "EUR"}\n');
    const before = (await readRaw(bootstrap, 'payments-avro', 3, 10)).length;
    const incompatible = await cli(
      'produce',
      'payments-avro',
      '--bootstrap',
      bootstrap,
      '--file',
      input,
      '--value-schema',
      v2,
      '--registry',
      registry,
    );
    assert.equal(incompatible.code, 1);
    assert.match(incompatible.err, /incompatible/i);
    assert.equal((await readRaw(bootstrap, 'payments-avro', before, 10)).length, before, 'nothing sent');

    // Plain text on a topic is not in the wire format: consume --registry names the offset.
    writeFileSync(input, 'hello\n');
    assert.equal((await cli('produce', 'plain-topic', '--bootstrap', bootstrap, '--file', input)).code, 0);
    const plain = await cli(
      'consume',
      'plain-topic',
      '--bootstrap',
      bootstrap,
      '--from-beginning',
      '--max-messages',
      '1',
      '--registry',
      registry,
    );
    assert.equal(plain.code, 1);
    assert.match(plain.err, /plain-topic partition 0 offset 0: .*magic byte/);
  });
});

/** Up to `max` raw values of partition 0 from the start (stops after `want` or an idle second). */
async function readRaw(bootstrap: string, topic: string, want: number, max = want): Promise<Buffer[]> {
  const consumer = new ck.RdKafka.KafkaConsumer(
    {
      'bootstrap.servers': bootstrap,
      'group.id': `raw-${Date.now()}-${Math.random()}`,
      'enable.auto.commit': false,
      log_level: 0,
    } as never,
    {} as never,
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (e) => (e ? reject(e) : resolve())));
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    consumer.setDefaultConsumeTimeout(100);
    const out: Buffer[] = [];
    let idle = 0;
    while (out.length < max && idle < (out.length >= want ? 10 : 100)) {
      const batch = await new Promise<{ value: Buffer | null }[]>((resolve, reject) =>
        consumer.consume(max - out.length, (e, m) => (e ? reject(e) : resolve(m as never))),
      );
      if (batch.length === 0) idle++;
      for (const m of batch) if (m.value !== null) out.push(m.value);
    }
    return out;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

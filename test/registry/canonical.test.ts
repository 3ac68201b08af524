/**
 * Canonical forms (property tests): reordering object keys and changing whitespace never
 * changes an Avro or JSON Schema's canonical text, canonical text is a fixed point
 * (parse(canonical) has the same canonical), and Protobuf field order and comments do
 * not matter. Also: a storage that fails an append leaves the registry unchanged and
 * refuses further writes with 50001 (the log may hold a prefix; only a replay knows).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isSluiceErrorWithRegistryCode,
  MemoryStorage,
  providerFor,
  type RegistryRecord,
  SchemaRegistry,
} from './helpers.js';

/** Re-serializes JSON with object keys in the order given by `seed` and random indentation. */
function shuffle(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffle(v, rand));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(() => rand() - 0.5);
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffle(v, rand)]));
  }
  return value;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const AVRO_SCHEMAS = [
  {
    type: 'record',
    name: 'A',
    namespace: 'n',
    doc: 'x',
    fields: [{ name: 'a', type: { type: 'int' }, default: 1 }],
  },
  {
    type: 'record',
    name: 'B',
    fields: [
      { name: 'u', type: ['null', { type: 'array', items: { type: 'map', values: 'long' } }], default: null },
      { name: 'e', type: { type: 'enum', name: 'E', symbols: ['X', 'Y'], default: 'X' } },
      { name: 'f', type: { type: 'fixed', name: 'F', size: 4 } },
      { name: 'obj', type: { type: 'map', values: 'string' }, default: { b: '2', a: '1' } },
    ],
  },
];
const JSON_SCHEMAS = [
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { a: { type: 'string', maxLength: 3 }, b: { type: 'array', items: { type: 'integer' } } },
    required: ['a'],
    additionalProperties: false,
  },
  { anyOf: [{ type: 'string' }, { type: 'object', properties: { z: { enum: [1, 2] } } }] },
];

describe('canonical forms', () => {
  for (const [type, schemas] of [
    ['AVRO', AVRO_SCHEMAS],
    ['JSON', JSON_SCHEMAS],
  ] as const) {
    it(`${type}: key order and whitespace do not change the canonical text, which is a fixed point`, () => {
      const provider = providerFor(type);
      for (const schema of schemas) {
        const reference = provider.parse(JSON.stringify(schema), []).canonical(false);
        assert.equal(provider.parse(reference, []).canonical(false), reference);
        fc.assert(
          fc.property(fc.integer(), fc.integer({ min: 0, max: 4 }), (seed, indent) => {
            const text = JSON.stringify(shuffle(schema, seeded(seed)), null, indent);
            assert.equal(provider.parse(text, []).canonical(false), reference);
          }),
          { numRuns: type === 'JSON' ? 15 : 40 },
        );
      }
    });
  }

  it('PROTOBUF: field declaration order, comments and spacing do not matter', () => {
    const provider = providerFor('PROTOBUF');
    const fields = ['string a = 1;', 'int64 b = 2;', 'repeated bytes c = 3;', 'map<string, int32> d = 4;'];
    const reference = provider
      .parse(`syntax = "proto3";\npackage p;\nmessage M {\n${fields.join('\n')}\n}\n`, [])
      .canonical(false);
    assert.equal(provider.parse(reference, []).canonical(false), reference);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(fields, { minLength: fields.length, maxLength: fields.length }),
        (order) => {
          const text = `// header\nsyntax="proto3";package p;\nmessage M { /* c */ ${order.join('  ')} }`;
          assert.equal(provider.parse(text, []).canonical(false), reference);
        },
      ),
      { numRuns: 24 },
    );
  });
});

class FlakyStorage extends MemoryStorage {
  failNext = false;
  override async append(records: readonly RegistryRecord[]): Promise<void> {
    if (this.failNext) throw new Error('disk full');
    return super.append(records);
  }
}

describe('storage failures', () => {
  it('a failed append changes nothing and refuses later writes with 50001', async () => {
    const storage = new FlakyStorage();
    const reg = await SchemaRegistry.open(storage);
    const { id } = await reg.register('s', { schema: '"string"' });
    storage.failNext = true;
    await assert.rejects(reg.register('t', { schema: '"int"' }), (e) =>
      isSluiceErrorWithRegistryCode(e, 50001),
    );
    assert.deepEqual(reg.subjects(), ['s']);
    assert.equal(reg.getSchemaById(id).schema, '"string"');
    storage.failNext = false;
    await assert.rejects(reg.register('t', { schema: '"int"' }), (e) =>
      isSluiceErrorWithRegistryCode(e, 50001),
    );
    await reg.close();
    // A fresh registry replays what is durable and works again.
    const again = await SchemaRegistry.open(storage);
    assert.deepEqual((await again.register('t', { schema: '"int"' })).id, id + 1);
    await again.close();
  });
});

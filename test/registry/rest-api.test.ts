/**
 * The REST API against Confluent's contract: bad input (invalid schema text, unknown
 * references, wrong content type, huge and malformed bodies) gets the right error code
 * and stores nothing; canonical forms dedupe; deletes follow soft-then-hard rules;
 * references, config, mode (READONLY, IMPORT) and lookups behave as Confluent's do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRegistryServer, MemoryStorage, type RegistryServer } from './helpers.js';

const CT = 'application/vnd.schemaregistry.v1+json';

describe('registry REST API', () => {
  let server: RegistryServer;
  let storage: MemoryStorage;

  before(async () => {
    storage = new MemoryStorage();
    server = await createRegistryServer({ storage, port: 0, host: '127.0.0.1', bodyLimit: 64 * 1024 });
  });
  after(async () => {
    await server.close();
  });

  async function call(method: string, path: string, body?: unknown, contentType = CT) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      json: text === '' ? undefined : JSON.parse(text),
    };
  }
  const avro = (name: string, fields: unknown[] = [{ name: 'a', type: 'int' }]) =>
    JSON.stringify({ type: 'record', name, fields });

  describe('bad input stores nothing', () => {
    const cases: {
      name: string;
      run: () => Promise<{ status: number; json: unknown }>;
      status: number;
      code: number;
    }[] = [
      {
        name: 'Avro text that is not JSON',
        run: () => call('POST', '/subjects/bad/versions', { schema: '{"type": "record",' }),
        status: 422,
        code: 42201,
      },
      {
        name: 'Avro record without fields',
        run: () => call('POST', '/subjects/bad/versions', { schema: '{"type":"record","name":"X"}' }),
        status: 422,
        code: 42201,
      },
      {
        name: 'Avro default of the wrong type',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schema: avro('X', [{ name: 'a', type: 'int', default: 'x' }]),
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'JSON Schema with an invalid keyword value',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schemaType: 'JSON',
            schema: '{"type":"object","minProperties":-1}',
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'Protobuf syntax error',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schemaType: 'PROTOBUF',
            schema: 'syntax = "proto3"; message M { string a = ; }',
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'Protobuf unresolved type',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schemaType: 'PROTOBUF',
            schema: 'syntax = "proto3"; message M { Missing a = 1; }',
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'unknown schema type',
        run: () => call('POST', '/subjects/bad/versions', { schemaType: 'XML', schema: '<a/>' }),
        status: 422,
        code: 42201,
      },
      {
        name: 'empty schema',
        run: () => call('POST', '/subjects/bad/versions', { schema: '' }),
        status: 422,
        code: 42201,
      },
      {
        name: 'unknown reference subject',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schema: avro('X', [{ name: 'c', type: 'Customer' }]),
            references: [{ name: 'Customer', subject: 'nope', version: 1 }],
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'Protobuf import without a reference',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schemaType: 'PROTOBUF',
            schema: 'syntax = "proto3"; import "other.proto"; message M { Other o = 1; }',
          }),
        status: 422,
        code: 42201,
      },
      {
        name: 'wrong content type',
        run: () => call('POST', '/subjects/bad/versions', { schema: avro('X') }, 'text/plain'),
        status: 415,
        code: 415,
      },
      {
        name: 'form-encoded body',
        run: () => call('POST', '/subjects/bad/versions', 'schema=x', 'application/x-www-form-urlencoded'),
        status: 415,
        code: 415,
      },
      {
        name: 'huge body',
        run: () =>
          call('POST', '/subjects/bad/versions', {
            schema: avro('X', [{ name: 'a', type: 'string', doc: 'x'.repeat(100_000) }]),
          }),
        status: 413,
        code: 413,
      },
      {
        name: 'malformed JSON body',
        run: () => call('POST', '/subjects/bad/versions', '{"schema": '),
        status: 400,
        code: 400,
      },
      {
        name: 'invalid compatibility level',
        run: () => call('PUT', '/config/bad', { compatibility: 'SOMETIMES' }),
        status: 422,
        code: 42203,
      },
      {
        name: 'invalid mode',
        run: () => call('PUT', '/mode/bad', { mode: 'WRITEONLY' }),
        status: 422,
        code: 42204,
      },
      {
        name: 'invalid version',
        run: () => call('GET', '/subjects/bad/versions/zero'),
        status: 422,
        code: 42202,
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status} / ${c.code}`, async () => {
        const before = storage.records().length;
        const r = await c.run();
        assert.equal(r.status, c.status);
        const body = r.json as { error_code: number; message: string };
        assert.equal(body.error_code, c.code);
        assert.ok(body.message.length > 0);
        assert.equal(storage.records().length, before, 'nothing stored');
      });
    }
    it('left no subject behind', async () => {
      const r = await call('GET', '/subjects?deleted=true');
      assert.ok(!(r.json as string[]).includes('bad'));
    });
  });

  it('answers in the registry content type and lists schema types', async () => {
    const r = await call('GET', '/schemas/types');
    assert.match(r.type, /application\/vnd\.schemaregistry\.v1\+json/);
    assert.deepEqual([...(r.json as string[])].sort(), ['AVRO', 'JSON', 'PROTOBUF']);
    for (const ct of ['application/vnd.schemaregistry+json', 'application/json']) {
      const ok = await call('POST', `/subjects/ct-${ct.length}/versions`, { schema: avro('Ct') }, ct);
      assert.equal(ok.status, 200);
    }
  });

  it('returns raw schema text from the /schema endpoints and accepts encoded subject names', async () => {
    const subject = encodeURIComponent('team/a:raw-value');
    const r = await call('POST', `/subjects/${subject}/versions`, { schema: avro('Raw') });
    const { id } = r.json as { id: number };
    const fromVersion = await fetch(`${server.url}/subjects/${subject}/versions/1/schema`);
    assert.deepEqual(JSON.parse(await fromVersion.text()), JSON.parse(avro('Raw')));
    const fromId = await fetch(`${server.url}/schemas/ids/${id}/schema`);
    assert.deepEqual(JSON.parse(await fromId.text()), JSON.parse(avro('Raw')));
    assert.ok(((await call('GET', '/subjects')).json as string[]).includes('team/a:raw-value'));
    assert.deepEqual((await call('GET', `/schemas/ids/${id}/versions`)).json, [
      { subject: 'team/a:raw-value', version: 1 },
    ]);
    const listed = (await call('GET', '/schemas?subjectPrefix=team/a:&latestOnly=true')).json as {
      subject: string;
      id: number;
    }[];
    assert.deepEqual(
      listed.map((v) => [v.subject, v.id]),
      [['team/a:raw-value', id]],
    );
  });

  it('registers the same schema once per format despite whitespace and key order', async () => {
    const pairs: [string, string, string][] = [
      [
        'AVRO',
        avro('Same'),
        `{ "fields": [ { "type": {"type": "int"}, "name": "a" } ],\n "name": "Same", "type": "record" }`,
      ],
      [
        'JSON',
        '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}',
        '{\n "properties": {"b": {"type": "integer"}, "a": {"type": "string"}},\n "type": "object"\n}',
      ],
      [
        'PROTOBUF',
        'syntax = "proto3";\nmessage Same { string a = 1; int32 b = 2; }',
        'syntax="proto3";  // same\nmessage Same {\n  int32 b = 2;\n  string a = 1;\n}',
      ],
    ];
    for (const [type, a, b] of pairs) {
      const r1 = await call('POST', `/subjects/same-${type}/versions`, { schemaType: type, schema: a });
      const r2 = await call('POST', `/subjects/same-${type}/versions`, { schemaType: type, schema: b });
      assert.equal(r1.status, 200);
      assert.equal((r2.json as { id: number }).id, (r1.json as { id: number }).id, type);
      assert.deepEqual((await call('GET', `/subjects/same-${type}/versions`)).json, [1]);
      const found = await call('POST', `/subjects/same-${type}`, { schemaType: type, schema: b });
      assert.equal((found.json as { version: number }).version, 1);
    }
  });

  it('normalize=true (query or config) folds normalization-only differences into one id', async () => {
    const a = JSON.stringify({
      type: 'object',
      properties: { x: { type: 'string' }, y: { type: 'string' } },
      required: ['x', 'y'],
    });
    const b = JSON.stringify({
      type: 'object',
      properties: { x: { type: 'string' }, y: { type: 'string' } },
      required: ['y', 'x'],
    });
    await call('PUT', '/config/norm-a', { compatibility: 'NONE' });
    const plain1 = (await call('POST', '/subjects/norm-a/versions', { schemaType: 'JSON', schema: a })).json
      .id;
    const plain2 = (await call('POST', '/subjects/norm-a/versions', { schemaType: 'JSON', schema: b })).json
      .id;
    assert.notEqual(plain1, plain2, 'without normalize, required order is part of the text');
    const n1 = (
      await call('POST', '/subjects/norm-b/versions?normalize=true', { schemaType: 'JSON', schema: a })
    ).json.id;
    const n2 = (
      await call('POST', '/subjects/norm-b/versions?normalize=true', { schemaType: 'JSON', schema: b })
    ).json.id;
    assert.equal(n1, n2);
    assert.deepEqual((await call('GET', '/subjects/norm-b/versions')).json, [1]);
    await call('PUT', '/config/norm-c', { compatibility: 'BACKWARD', normalize: true });
    const c1 = (await call('POST', '/subjects/norm-c/versions', { schemaType: 'JSON', schema: b })).json.id;
    assert.equal(c1, n1, 'subject config normalize=true applies without the query flag');
  });

  it('soft delete, then hard delete, with Confluent codes; ids never reused', async () => {
    const s = 'del-value';
    const { id } = (await call('POST', `/subjects/${s}/versions`, { schema: avro('Del') })).json as {
      id: number;
    };
    await call('PUT', `/config/${s}`, { compatibility: 'NONE' });
    await call('POST', `/subjects/${s}/versions`, { schema: avro('Del2') });
    assert.equal((await call('DELETE', `/subjects/${s}/versions/1?permanent=true`)).json.error_code, 40407);
    assert.deepEqual((await call('DELETE', `/subjects/${s}/versions/1`)).json, 1);
    assert.equal((await call('DELETE', `/subjects/${s}/versions/1`)).json.error_code, 40406);
    assert.equal((await call('GET', `/subjects/${s}/versions/1`)).json.error_code, 40402);
    assert.equal((await call('GET', `/subjects/${s}/versions/1?deleted=true`)).status, 200);
    assert.deepEqual((await call('GET', `/subjects/${s}/versions`)).json, [2]);
    assert.deepEqual((await call('GET', `/subjects/${s}/versions?deleted=true`)).json, [1, 2]);
    assert.equal((await call('DELETE', `/subjects/${s}?permanent=true`)).json.error_code, 40405);
    assert.deepEqual((await call('DELETE', `/subjects/${s}`)).json, [2]);
    assert.equal((await call('DELETE', `/subjects/${s}`)).json.error_code, 40404);
    assert.equal((await call('GET', `/subjects/${s}/versions`)).json.error_code, 40401);
    assert.equal(
      (await call('GET', `/schemas/ids/${id}`)).status,
      200,
      'soft-deleted schemas still resolve by id',
    );
    assert.deepEqual((await call('DELETE', `/subjects/${s}?permanent=true`)).json, [1, 2]);
    assert.equal((await call('GET', `/schemas/ids/${id}`)).json.error_code, 40403);
    assert.equal((await call('DELETE', `/subjects/${s}`)).json.error_code, 40401);
    const again = (await call('POST', `/subjects/${s}/versions`, { schema: avro('Fresh') })).json as {
      id: number;
    };
    const all = await call('GET', '/subjects');
    assert.ok(!(all.json as string[]).includes('nothing'));
    assert.ok(again.id > id);
  });

  it('references: register, resolve, referencedby, and refuse deleting a referenced version', async () => {
    const customer = JSON.stringify({
      type: 'record',
      name: 'Customer',
      namespace: 'shop',
      fields: [{ name: 'name', type: 'string' }],
    });
    await call('POST', '/subjects/customer/versions', { schema: customer });
    const order = JSON.stringify({
      type: 'record',
      name: 'Order',
      namespace: 'shop',
      fields: [{ name: 'c', type: 'shop.Customer' }],
    });
    const refs = [{ name: 'shop.Customer', subject: 'customer', version: 1 }];
    const r = await call('POST', '/subjects/order/versions', { schema: order, references: refs });
    assert.equal(r.status, 200);
    const { id } = r.json as { id: number };
    assert.deepEqual((await call('GET', `/schemas/ids/${id}`)).json.references, refs);
    assert.deepEqual((await call('GET', '/subjects/customer/versions/1/referencedby')).json, [id]);
    const del = await call('DELETE', '/subjects/customer/versions/1');
    assert.equal(del.json.error_code, 42206);
    // Protobuf import satisfied by a reference.
    await call('POST', '/subjects/money/versions', {
      schemaType: 'PROTOBUF',
      schema: 'syntax = "proto3"; package m; message Money { int64 cents = 1; }',
    });
    const pb = await call('POST', '/subjects/invoice/versions', {
      schemaType: 'PROTOBUF',
      schema: 'syntax = "proto3"; package inv; import "money.proto"; message Invoice { m.Money total = 1; }',
      references: [{ name: 'money.proto', subject: 'money', version: 1 }],
    });
    assert.equal(pb.status, 200, JSON.stringify(pb.json));
  });

  it('config and mode: subject-level fallbacks, READONLY refuses writes, IMPORT takes explicit ids', async () => {
    assert.deepEqual((await call('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
    assert.equal((await call('GET', '/config/cfg')).json.error_code, 40408);
    assert.deepEqual((await call('GET', '/config/cfg?defaultToGlobal=true')).json, {
      compatibilityLevel: 'BACKWARD',
    });
    assert.deepEqual((await call('PUT', '/config/cfg', { compatibility: 'full_transitive' })).json, {
      compatibility: 'FULL_TRANSITIVE',
    });
    assert.deepEqual((await call('GET', '/config/cfg')).json, { compatibilityLevel: 'FULL_TRANSITIVE' });
    assert.deepEqual((await call('DELETE', '/config/cfg')).json, { compatibilityLevel: 'FULL_TRANSITIVE' });
    assert.equal((await call('GET', '/config/cfg')).json.error_code, 40408);

    assert.deepEqual((await call('GET', '/mode')).json, { mode: 'READWRITE' });
    await call('PUT', '/mode/ro', { mode: 'READONLY' });
    const refused = await call('POST', '/subjects/ro/versions', { schema: avro('Ro') });
    assert.equal(refused.json.error_code, 42205);
    assert.equal((await call('GET', '/mode/other')).json.error_code, 40409);
    assert.deepEqual((await call('GET', '/mode/other?defaultToGlobal=true')).json, { mode: 'READWRITE' });

    assert.equal((await call('PUT', '/mode', { mode: 'IMPORT' })).json.error_code, 42205, 'subjects exist');
    await call('PUT', '/mode/imported', { mode: 'IMPORT' });
    const noImport = await call('POST', '/subjects/elsewhere/versions', { schema: avro('Imp'), id: 5000 });
    assert.equal(noImport.json.error_code, 42205);
    const imp = await call('POST', '/subjects/imported/versions', {
      schema: avro('Imp'),
      id: 5000,
      version: 7,
    });
    assert.deepEqual(imp.json, { id: 5000 });
    assert.deepEqual((await call('GET', '/subjects/imported/versions/7')).json.id, 5000);
    const clash = await call('POST', '/subjects/imported/versions', {
      schema: avro('Other'),
      id: 5000,
      version: 8,
    });
    assert.equal(clash.json.error_code, 42205);
    await call('DELETE', '/mode/imported');
    const next = (await call('POST', '/subjects/after-import/versions', { schema: avro('After') })).json as {
      id: number;
    };
    assert.ok(next.id > 5000, 'ids continue above imported ones');
  });

  it('compatibility endpoint: verbose messages, specific versions, unknown subject', async () => {
    await call('POST', '/subjects/comp/versions', { schema: avro('Comp') });
    const bad = avro('Comp', [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'string' },
    ]);
    const r = await call('POST', '/compatibility/subjects/comp/versions/1?verbose=true', { schema: bad });
    assert.equal(r.json.is_compatible, false);
    assert.ok(
      (r.json.messages as string[]).some(
        (m) => m.includes('READER_FIELD_MISSING_DEFAULT_VALUE') && m.includes('/fields/1'),
      ),
    );
    const quiet = await call('POST', '/compatibility/subjects/comp/versions/latest', { schema: bad });
    assert.deepEqual(quiet.json, { is_compatible: false });
    assert.equal(
      (await call('POST', '/compatibility/subjects/comp/versions/9', { schema: bad })).json.error_code,
      40402,
    );
    assert.equal(
      (await call('POST', '/compatibility/subjects/none/versions/latest', { schema: bad })).json.error_code,
      40401,
    );
    assert.equal((await call('GET', '/subjects/none/versions/latest')).json.error_code, 40401);
    assert.equal((await call('POST', '/subjects/comp', { schema: bad })).json.error_code, 40403);
    assert.equal((await call('GET', '/schemas/ids/999999')).json.error_code, 40403);
  });
});

/**
 * Ids are never reused after log compaction: a hard delete writes the id high-water mark
 * (a NOOP record with {maxId}) before its SCHEMA tombstones, so when compaction has dropped
 * the tombstoned records (simulated here exactly as Kafka's cleaner would leave the log: the
 * last record per key bytes, tombstones removed), a registry replaying the compacted log
 * still hands out ids above every id it ever gave.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRecordKey, MemoryStorage, type RegistryRecord, SchemaRegistry } from './helpers.js';

function avro(name: string): string {
  return JSON.stringify({ type: 'record', name, fields: [{ name: 'f', type: 'long' }] });
}

/** The log after compaction with every tombstone past its delete horizon. */
function compacted(log: readonly RegistryRecord[]): RegistryRecord[] {
  const last = new Map<string, number>();
  for (const [i, r] of log.entries()) last.set(encodeRecordKey(r.key).toString('hex'), i);
  return log.filter((r, i) => last.get(encodeRecordKey(r.key).toString('hex')) === i && r.value !== null);
}

async function reopened(records: readonly RegistryRecord[]): Promise<SchemaRegistry> {
  const storage = new MemoryStorage();
  await storage.append(records);
  return SchemaRegistry.open(storage, { defaultCompatibility: 'NONE' });
}

describe('id high-water mark under compaction', () => {
  it('a hard-deleted subject holding the highest id: the next schema gets a new id', async () => {
    const storage = new MemoryStorage();
    const registry = await SchemaRegistry.open(storage, { defaultCompatibility: 'NONE' });
    assert.equal((await registry.register('keep', { schema: avro('Keep') })).id, 1);
    assert.equal((await registry.register('gone', { schema: avro('Gone1') })).id, 2);
    assert.equal((await registry.register('gone', { schema: avro('Gone2') })).id, 3);
    await registry.deleteSubject('gone');
    await registry.deleteSubject('gone', { permanent: true });
    await registry.close();

    const log = compacted(storage.records());
    assert.ok(
      log.every((r) => r.key.keytype !== 'SCHEMA' || r.key.subject !== 'gone'),
      'compaction removed the hard-deleted versions',
    );
    assert.deepEqual(
      log.find((r) => r.key.keytype === 'NOOP'),
      { key: { keytype: 'NOOP', magic: 0 }, value: { maxId: 3 } },
    );
    const after = await reopened(log);
    assert.equal((await after.register('new', { schema: avro('New') })).id, 4);
    // A re-registration of a hard-deleted schema is a new schema now: a new id, not 2 or 3.
    assert.equal((await after.register('gone', { schema: avro('Gone1') })).id, 5);
    await after.close();
  });

  it('a hard-deleted single version holding the highest id: the id is not handed out again', async () => {
    const storage = new MemoryStorage();
    const registry = await SchemaRegistry.open(storage, { defaultCompatibility: 'NONE' });
    assert.equal((await registry.register('s', { schema: avro('A') })).id, 1);
    assert.equal((await registry.register('s', { schema: avro('B') })).id, 2);
    await registry.deleteVersion('s', 2);
    await registry.deleteVersion('s', 2, { permanent: true });
    await registry.close();

    const after = await reopened(compacted(storage.records()));
    assert.deepEqual(after.versions('s'), [1]);
    assert.equal((await after.register('s', { schema: avro('C') })).id, 3);
    await after.close();
  });
});

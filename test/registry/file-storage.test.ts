/**
 * FileStorage durability: a real registry process is killed with SIGKILL while
 * registrations are in flight; after a restart on the same directory every registration
 * that was acknowledged (HTTP 200) is there with the same id, and new ids are never
 * reused ones. Also: a torn last line is ignored and cut off, a corrupt middle line
 * fails loudly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { FileStorage, SCHEMAS_LOG_FILE, SchemaRegistry } from './helpers.js';

const FIXTURE = new URL('./fixtures/registry-process.ts', import.meta.url).pathname;
const CT = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

function startRegistry(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' },
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }));
    child.once('exit', (code) => reject(new Error(`registry process exited early (${code})`)));
  });
}

function avro(i: number): string {
  return JSON.stringify({ type: 'record', name: `Event${i}`, fields: [{ name: `f${i}`, type: 'long' }] });
}

describe('FileStorage', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-registry-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kill -9 loses no acknowledged registration, and ids are never reused', async () => {
    const dir = tempDir();
    const first = await startRegistry(dir);
    const acked: { subject: string; schema: string; id: number }[] = [];
    let killed = false;
    const exited = new Promise((r) => first.child.once('exit', r));
    const register = async (i: number) => {
      const subject = `s${i % 5}-value`;
      const schema = avro(i);
      try {
        const res = await fetch(`${first.url}/subjects/${subject}/versions`, {
          method: 'POST',
          headers: CT,
          body: JSON.stringify({ schema }),
        });
        if (res.status === 200)
          acked.push({ subject, schema, id: ((await res.json()) as { id: number }).id });
      } catch {
        // in flight when the process died: not acknowledged
      }
      if (!killed && acked.length >= 30) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    };
    // Five concurrent writers (one per subject, NONE-compatible not needed: distinct
    // record names under BACKWARD are incompatible, so give each its own subject chain).
    await fetch(`${first.url}/config`, {
      method: 'PUT',
      headers: CT,
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    const writers = [0, 1, 2, 3, 4].map(async (w) => {
      for (let i = w; i < 200 && !killed; i += 5) await register(i);
    });
    await Promise.all(writers);
    if (!killed) first.child.kill('SIGKILL');
    await exited;
    assert.ok(acked.length >= 30, `acknowledged ${acked.length}`);

    const second = await startRegistry(dir);
    try {
      for (const a of acked) {
        const res = await fetch(`${second.url}/schemas/ids/${a.id}`);
        assert.equal(res.status, 200, `id ${a.id} survives`);
        // Stored in canonical form: same schema, keys reordered.
        assert.deepEqual(JSON.parse(((await res.json()) as { schema: string }).schema), JSON.parse(a.schema));
        const versions = (await (await fetch(`${second.url}/schemas/ids/${a.id}/versions`)).json()) as {
          subject: string;
        }[];
        assert.ok(versions.some((v) => v.subject === a.subject));
      }
      // A new schema gets an id above every id ever handed out.
      const res = await fetch(`${second.url}/subjects/after-crash/versions`, {
        method: 'POST',
        headers: CT,
        body: JSON.stringify({ schema: avro(10_000) }),
      });
      const { id } = (await res.json()) as { id: number };
      assert.ok(id > Math.max(...acked.map((a) => a.id)));
    } finally {
      second.child.kill('SIGKILL');
      await new Promise((r) => second.child.once('exit', r));
    }
  });

  it('ignores and cuts off a torn last line; a corrupt middle line fails loudly', async () => {
    const dir = tempDir();
    const reg = await SchemaRegistry.open(new FileStorage(dir));
    const { id } = await reg.register('t-value', { schema: avro(1) });
    await reg.close();
    const path = join(dir, SCHEMAS_LOG_FILE);
    const good = readFileSync(path, 'utf8');
    appendFileSync(
      path,
      '{"key":{"keytype":"SCHEMA","subject":"t-value","version":2,"magic":1},"value":{"sub',
    );

    const reopened = await SchemaRegistry.open(new FileStorage(dir));
    assert.deepEqual(reopened.versions('t-value'), [1]);
    assert.equal(reopened.getVersion('t-value', 1).id, id);
    assert.equal(readFileSync(path, 'utf8'), good, 'torn tail truncated');
    const { id: id2 } = await reopened.register('u-value', { schema: avro(2) });
    assert.equal(id2, id + 1);
    await reopened.close();

    writeFileSync(path, `not json\n${readFileSync(path, 'utf8')}`);
    await assert.rejects(SchemaRegistry.open(new FileStorage(dir)), { code: 'CORRUPT_RECORD' });
  });

  it('ids of hard-deleted schemas are not handed out again after a restart', async () => {
    const dir = tempDir();
    const reg = await SchemaRegistry.open(new FileStorage(dir));
    await reg.register('a-value', { schema: avro(1) });
    const { id } = await reg.register('b-value', { schema: avro(2) });
    await reg.deleteSubject('b-value');
    await reg.deleteSubject('b-value', { permanent: true });
    await reg.close();
    const again = await SchemaRegistry.open(new FileStorage(dir));
    const { id: next } = await again.register('c-value', { schema: avro(3) });
    assert.ok(next > id, `${next} > ${id}`);
    await again.close();
  });
});
